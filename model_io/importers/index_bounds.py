"""The largest value of index tensors made on the meta device, so that a lookup past the end of a table is refused
as PyTorch refuses it.

Meta tensors hold no values, so the meta kernel of `embedding` cannot bounds-check: GPT-2 given 1,025 tokens makes
its positions with `arange(1025)` and looks them up in a 1,024-row position table, which PyTorch refuses ("index out
of range in self") but the meta device counts. A tensor made by `arange` carries its largest value (exact: arange
reaches it); ops that keep the set of values (views, copies, broadcasting) hand it on, adding a constant shifts it;
anything else drops it, so a bound is always a value the tensor really holds and a refusal is always torch's.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.weak import WeakIdKeyDictionary

aten = torch.ops.aten
# ops whose output holds exactly the values of their first input
_SAME_VALUES = {aten.view, aten._unsafe_view, aten.reshape, aten.unsqueeze, aten.squeeze, aten.expand, aten.t,
                aten.transpose, aten.permute, aten.clone, aten.contiguous, aten.alias, aten.detach, aten._to_copy,
                aten.lift_fresh_copy, aten.repeat, aten.flatten}


class IndexBounds:
    """Largest values of the meta integer tensors seen in one forward (keys are weak: tensors die as usual)."""

    def __init__(self) -> None:
        self._max: WeakIdKeyDictionary = WeakIdKeyDictionary()

    def check(self, func: Any, args: tuple) -> None:
        """Before an op runs: raise IndexError where it reads rows past the end of a table."""
        if not self._max:
            return
        packet = func.overloadpacket
        if packet is aten.embedding and len(args) > 1:
            self._refuse(args[1], args[0], 0, "an embedding table")
        elif packet is aten.index_select and len(args) > 2 and isinstance(args[1], int):
            self._refuse(args[2], args[0], args[1], "the indexed tensor")

    def _refuse(self, index: Any, table: Any, dim: int, what: str) -> None:
        top = self._max.get(index) if isinstance(index, torch.Tensor) else None
        if top is None or not isinstance(table, torch.Tensor) or not -table.dim() <= dim < max(table.dim(), 1):
            return
        rows = table.shape[dim]
        if top >= rows:
            raise IndexError(f"index {top} is out of range for {what} of {rows} rows (PyTorch refuses this input: "
                             f"index out of range in self; a sequence longer than the model's position table?)")

    def note(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        """After an op ran: the bound of its output, where one is known."""
        if not isinstance(out, torch.Tensor) or not out.is_meta or out.is_floating_point() or out.is_complex():
            return
        packet = func.overloadpacket
        if packet is aten.arange:
            top = _arange_max(args, kwargs, out.numel())
        elif not self._max or not args or not isinstance(args[0], torch.Tensor):
            return
        elif packet in _SAME_VALUES:
            top = self._max.get(args[0])
        elif packet is aten.add:
            top = self._max.get(args[0])
            other = args[1] if len(args) > 1 else kwargs.get("other")
            alpha = kwargs.get("alpha", args[2] if len(args) > 2 else 1)
            if top is not None and isinstance(other, torch.Tensor):
                other = self._max.get(other)
            top = top + other * alpha if top is not None and type(other) is int and type(alpha) is int else None
        else:
            return
        if top is not None:
            self._max[out] = top


def _arange_max(args: tuple, kwargs: dict, n: int) -> int | None:
    """arange(end), arange(start, end) or arange(start, end, step) of integers: its largest value."""
    if n == 0:
        return None
    start, step = (0, 1) if len(args) < 2 else (args[0], args[2] if len(args) > 2 else kwargs.get("step", 1))
    if len(args) == 1:
        start = kwargs.get("start", 0)
    if type(start) is not int or type(step) is not int:
        return None
    return start + (n - 1) * step if step > 0 else start
