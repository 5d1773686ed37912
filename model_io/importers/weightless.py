"""Building a model without its weights when its constructor cannot run under `torch.device("meta")`.

RegNet computes its stage widths with torch ops and `.tolist()`, which the meta device cannot answer. Here the
constructor runs on the CPU, so such computations give real numbers, while every parameter and buffer is created
on the meta device as it is registered: no weight memory, and weight initialisation is skipped (it would only
fill meta tensors). The same recipe as accelerate's `init_empty_weights`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import torch
from torch import nn


def _to_meta(t: torch.Tensor) -> torch.Tensor:
    return t if t.is_meta else torch.empty_like(t, device="meta")


@contextmanager
def meta_weights() -> Iterator[None]:
    """Within the block, modules register their parameters and buffers on the meta device; all else runs on the
    CPU as usual. Both registration methods are restored afterwards."""
    from .cost_mode import _SkipMetaInit  # the same skipped initialisers as meta_construction

    register_parameter = nn.Module.register_parameter
    register_buffer = nn.Module.register_buffer

    def parameter_on_meta(self: nn.Module, name: str, param: Any) -> None:
        if type(param) is nn.Parameter and not param.is_meta:  # subclasses (lazy, quantised) are left alone
            param = nn.Parameter(_to_meta(param.data), requires_grad=param.requires_grad)
        register_parameter(self, name, param)

    def buffer_on_meta(self: nn.Module, name: str, tensor: Any, persistent: bool = True) -> None:
        if isinstance(tensor, torch.Tensor):
            tensor = _to_meta(tensor)
        register_buffer(self, name, tensor, persistent=persistent)

    with ExitStack() as stack:
        nn.Module.register_parameter = parameter_on_meta  # type: ignore[method-assign]
        nn.Module.register_buffer = buffer_on_meta  # type: ignore[method-assign]
        stack.callback(setattr, nn.Module, "register_buffer", register_buffer)
        stack.callback(setattr, nn.Module, "register_parameter", register_parameter)
        stack.enter_context(_SkipMetaInit())
        yield
