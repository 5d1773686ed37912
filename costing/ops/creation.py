"""Tensor creation ops (arange, ones, zeros, full, ...): no arithmetic, the output is written.

Their sizes are what the trace saw (a mask of 1024 x 1024 for 1,024 tokens): an edit of the input size does not
reach them, which is why a traced model re-traces on a settings change.
"""

from __future__ import annotations

from math import ceil

from ..errors import SpecError
from ..registry import NO_INPUT, UNARY, Out, register_op
from ._values import Value, int_list, need, result
from .shape_ops import element_kind


@register_op("arange", operands=NO_INPUT)
def arange(a: dict, ins: tuple[Value, ...]) -> Out:
    start, end, step = a.get("start", 0), a.get("end"), a.get("step", 1)
    if end is None:
        raise SpecError("arange needs an end", "end")
    if not step:
        raise SpecError("step must not be 0", "step")
    n = max(0, ceil((end - start) / step))
    floats = any(isinstance(v, float) for v in (start, end, step))
    return result([((n,), element_kind(a.get("dtype"), "float" if floats else "int64"))])


@register_op("ones", "zeros", "empty", "full", "rand", "randn", "empty_strided", "randint", operands=NO_INPUT)
def filled(a: dict, ins: tuple[Value, ...], type_: str) -> Out:
    size = int_list(a.get("size", []), "size") if a.get("size") is not None else ()
    if any(d < 0 for d in size):
        raise SpecError(f"size={list(size)} has a negative size", "size")
    default = "int64" if type_ == "randint" or (type_ == "full" and isinstance(a.get("fill_value"), int)
                                               and not isinstance(a.get("fill_value"), bool)) else "float"
    return result([(tuple(size), element_kind(a.get("dtype"), default))])


@register_op("scalar_tensor", operands=NO_INPUT)
def scalar_tensor(a: dict, ins: tuple[Value, ...]) -> Out:
    return result([((), element_kind(a.get("dtype"), "float"))])


@register_op("empty_like", "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", operands=UNARY)
def like(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    return result([(x, element_kind(a.get("dtype"), dt))])


@register_op("new_zeros", "new_ones", "new_empty", "new_full", operands=UNARY)
def new_filled(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    return result([(int_list(a.get("size", []), "size"), element_kind(a.get("dtype"), ins[0][1]))])
