"""Keeping a model as it was across a counting attempt.

A forward may store tensors on the module outside its parameters and buffers: torchvision's AnchorGenerator
replaces its `cell_anchors` list with copies on the input's device, so a failed attempt on the meta device left meta
tensors behind and the CPU retry failed "Cannot copy out of meta tensor". `preserved` puts every such attribute back
(and drops tensor attributes the forward added) when the block ends, however it ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn


def _holds_tensors(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, torch.Tensor) for v in value)
    if isinstance(value, dict):
        return any(isinstance(v, torch.Tensor) for v in value.values())
    return False


def _tensor_attributes(module: nn.Module) -> dict[str, tuple[Any, Any]]:
    """Plain attributes holding tensors (parameters and buffers live in their own dicts, not here), each as
    (the object, a shallow copy of its items) so that both replacing and mutating it in place can be undone."""
    return {k: (v, list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else None)
            for k, v in vars(module).items() if not k.startswith("_") and _holds_tensors(v)}


def _put_back(obj: Any, items: Any) -> None:
    if isinstance(obj, list):
        obj[:] = items
    elif isinstance(obj, dict):
        obj.clear()
        obj.update(items)


@contextmanager
def preserved(model: nn.Module) -> Iterator[None]:
    """Restore the tensor-valued plain attributes of every submodule of `model` when the block ends."""
    saved = [(m, _tensor_attributes(m)) for m in model.modules()]
    try:
        yield
    finally:
        for module, attrs in saved:
            state = vars(module)
            for key in [k for k in state if not k.startswith("_") and k not in attrs and _holds_tensors(state[k])]:
                del state[key]
            for key, (obj, items) in attrs.items():
                _put_back(obj, items)
                state[key] = obj
