"""How a model reference is loaded: `LoadOptions` (the command line's and the window's model options) and
`RefOrigin` (whether tracing a reference again may run its code). The bottom layer: only memory_cap's default,
itself a leaf, from model_io."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .memory_cap import DEFAULT_MEMORY_MB


@dataclass(frozen=True)
class LoadOptions:
    batch_size: int | None = None  # None: the file's / zoo entry's own
    dtype: str | None = None
    inputs: tuple[str, ...] = ()  # --input specs, e.g. "1,3,224,224" or "long:1,2048"
    timeout: float = 120.0
    trust_pickle: bool = False
    memory_mb: int = DEFAULT_MEMORY_MB  # the worker's data-memory cap in MiB (--memory); 0: no cap
    # layer edits the worker applies to the model's modules before tracing (model_io.files.retrace.module_edits)
    module_edits: tuple[dict[str, Any], ...] = field(default=(), hash=False)


class RefOrigin(Enum):
    """Where a traced graph's `source.ref` came from, i.e. whether tracing it again may run its code."""
    USER = "user"  # the user named it (a reference given to this command or opened in this window), or trusted it
    FILE = "file"  # read from a graph file: data, which must never make NetCost run code without consent
