"""Tensors as the graph's values: a tensor's `Value` (shape, element kind), every tensor in a call's (nested)
arguments or outputs, and a value's size in bytes. Torch side of the tracer (model_io.importers.graph_builder)."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils._pytree import tree_flatten

from netcost.costing.graph import FIXED_DTYPES, Value


def value_of(t: torch.Tensor) -> Value:
    return (tuple(t.shape), "float" if t.is_floating_point() else str(t.dtype).removeprefix("torch."))


def tensors(obj: Any) -> list[torch.Tensor]:
    """Every tensor in a (nested) call structure, in order; plain containers without pytree's overhead."""
    out: list[torch.Tensor] = []
    _collect(obj, out)
    return out


def _collect(obj: Any, out: list[torch.Tensor]) -> None:
    if isinstance(obj, torch.Tensor):
        out.append(obj)
    elif type(obj) in (tuple, list):
        for x in obj:
            _collect(x, out)
    elif type(obj) is dict:
        for x in obj.values():
            _collect(x, out)
    elif isinstance(obj, (int, float, bool, str, type(None), torch.dtype, torch.device)):
        return
    else:  # namedtuples, model output classes, ...: pytree knows them
        flat, _ = tree_flatten(obj)
        out.extend(t for t in flat if isinstance(t, torch.Tensor))


def nbytes(v: Value, elem: int) -> int:
    """Bytes of a value: `elem` per element for "float" (the model's dtype), else its fixed dtype's size."""
    n = 1
    for d in v[0]:
        n *= d
    return n * (elem if v[1] == "float" else FIXED_DTYPES.get(v[1], 8))
