"""model_io's error types (the bottom layer: imports nothing of model_io).

`ModelError` is what the CLI and the app show for a reference that cannot be loaded; `LoadFailure` is what the
worker's loaders raise, sent back as the answer's `error`, `detail` and `kind`; `FailureKind` names that kind (a
`StrEnum`: it crosses the worker's JSON as the plain word, and callers comparing with the word keep working).
"""

from __future__ import annotations

import os
import traceback
from enum import StrEnum


class FailureKind(StrEnum):
    """Why a load failed, as the worker's answer says it (`kind`)."""
    ERROR = "error"  # unspecified
    USAGE = "usage"  # the user's mistake: a reference, an --input, a missing file or library
    SYNTAX = "syntax"  # the model's .py does not parse
    MODEL = "model"  # the model's own code raised
    PICKLE = "pickle"  # refused: loading it would unpickle (run) code the user has not trusted
    FORMAT = "format"  # the file is not what its extension says, or is damaged
    MEMORY = "memory"  # out of memory (the worker's answer adds its cap)
    INTERNAL = "internal"  # a bug of NetCost's
    PROTOCOL = "protocol"  # a request or answer that could not be read
    DIED = "died"  # the worker ended without an answer
    TIMEOUT = "timeout"  # the worker was stopped at --timeout


class ModelError(Exception):
    """A model reference could not be loaded; the message is one clear line for the user."""


class LoadFailure(Exception):
    """What went wrong, for the user: `message` is one line; `detail` is the trimmed model traceback, if any."""

    def __init__(self, message: str, detail: str = "", kind: FailureKind = FailureKind.ERROR) -> None:
        super().__init__(message)
        self.message, self.detail, self.kind = message, detail, FailureKind(kind)


def out_of_memory(what: str) -> LoadFailure:
    """Running out of memory in `what`; the worker's answer adds the cap (model_io.memory_cap)."""
    return LoadFailure(what, kind=FailureKind.MEMORY)


def one_line(exc: BaseException) -> str:
    """`TypeName: first line of the message` (at most 300 characters of it)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def user_frames(exc: BaseException, roots: tuple[str, ...]) -> str:
    """The traceback of `exc` with only the frames from files under `roots` (the user's model folder)."""
    roots = tuple(r.rstrip(os.sep) + os.sep for r in roots)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if any(os.path.abspath(f.filename).startswith(r) for r in roots)
              and not any(part in f.filename for part in ("site-packages", "dist-packages"))]
    if not frames and "\n" not in str(exc).strip():
        return ""  # nothing of the model's own, and the one-line message already says it all
    lines = traceback.format_list(frames) if frames else []
    return "".join(lines) + f"{type(exc).__name__}: {exc}"
