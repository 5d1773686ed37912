"""Sources: a parameter, a buffer or a constant tensor that functional ops read (a container's own `nn.Parameter`,
a class token, a positional table). Parameters are data: a tied or shared one is one node, counted once."""

from __future__ import annotations

from ..errors import SpecError
from ..registry import NO_INPUT, Out, register_op
from ._values import Value, int_list, numel, result


def _value(a: dict) -> Value:
    shape = int_list(a.get("shape", []), "shape") if a.get("shape") is not None else ()
    if any(d < 0 for d in shape):
        raise SpecError(f"shape={list(shape)} has a negative size", "shape")
    return (tuple(shape), str(a.get("dtype", "float")))


@register_op("parameter", operands=NO_INPUT)
def parameter(a: dict, ins: tuple[Value, ...]) -> Out:
    """A learnable tensor: its elements are parameters (frozen when the node is not trainable)."""
    v = _value(a)
    out = result([v], view=True)
    out.params = numel(v[0])
    out.tensors = (v[0],)
    return out


@register_op("buffer", operands=NO_INPUT)
def buffer(a: dict, ins: tuple[Value, ...]) -> Out:
    v = _value(a)
    out = result([v], view=True)
    out.buffers = numel(v[0])
    return out


@register_op("constant", operands=NO_INPUT)
def constant(a: dict, ins: tuple[Value, ...]) -> Out:
    """A tensor the graph reads but no node produced (made outside the traced ops)."""
    return result([_value(a)], view=True)
