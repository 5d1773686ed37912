"""One node's costs at its input values: the per-layer half of the graph engine (`costing.graph_eval`).

`cost_node` costs a graph node (a torch.nn layer, a functional op or a measured opaque node) and returns its row
and output values; `cost_layer` costs one layer spec at an input shape, through the same code, for callers that
hold a spec rather than a graph (the tracer's formula check, the formula tests). Both are pure: an evaluation hands
a `RuleMemo` along so that a transformer's repeated (op, arguments, inputs) are costed once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import prod
from typing import Any

from .args import check_output_shape, coerce_args
from .conventions import netcost_flops, peer_figures
from .dtypes import DTYPE_BYTES, TOKEN_BYTES
from .errors import LayerError, SpecError
from .graph import FIXED_DTYPES, Node, Value
from .records import LayerCost, Totals
from .registry import LayerKind, Out, kind
from .spec import LayerSpec
from .storage import check_allocatable

Shape = tuple[int, ...]
MEMO_SIZE = 8192  # rule results a memo holds before it starts afresh


class NodeError(SpecError):
    """Why a node cannot be costed; `stale`: because its inputs changed since it was measured (an opaque node)."""

    def __init__(self, reason: str, field: str | None = None, stale: bool = False) -> None:
        super().__init__(reason, field)
        self.stale = stale


class RuleMemo:
    """Rule results by (op, arguments, inputs, element size, trainable, label): what `cost_node` computed, or the
    `NodeError` it raised. Bounded: it starts afresh when full."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self.results: dict[tuple, tuple[LayerCost, tuple[Value, ...]] | NodeError] = {}

    def __len__(self) -> int:
        return len(self.results)

    def get(self, key: tuple) -> tuple[LayerCost, tuple[Value, ...]] | NodeError | None:
        return self.results.get(key)

    def put(self, key: tuple, result: tuple[LayerCost, tuple[Value, ...]] | NodeError) -> None:
        if len(self.results) >= self.size:
            self.results.clear()
        self.results[key] = result


def frozen(v: object) -> object:
    """`v` with dicts and lists as tuples: hashable, for memo keys."""
    if isinstance(v, dict):
        return tuple((k, frozen(x)) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return tuple(frozen(x) for x in v)
    return v


# ---- figures of one rule's result ------------------------------------------------------------------------------

def value_bytes(v: Value, elem: int) -> int:
    shape, dt = v
    return prod(shape) * (elem if dt == "float" else FIXED_DTYPES.get(dt, 8))


def _memory(out: Out, x: Shape, elem: int) -> tuple[int, int, int]:
    """(read, written, activation) bytes of one (non-composite) cost."""
    read_in = prod(x) * (TOKEN_BYTES if out.token_input else elem)
    weights = out.params if out.weight_reads is None else out.weight_reads
    written = 0 if out.view else prod(out.shape) * elem
    return read_in + weights * elem, written, written


def layer_totals(out: Out, x: Shape, category: str, trainable: bool, elem: int) -> Totals:
    """The figures of a torch.nn layer's result `out` at input shape `x` (a composite: its parts in turn)."""
    if out.parts:
        read = written = 0
        prev = x
        for _, _, part in out.parts:
            r, w, _ = _memory(part, prev, elem)
            read, written, prev = read + r, written + w, part.shape
        activation = written
    else:
        read, written, activation = _memory(out, x, elem)
    peers = peer_figures(category, out, out.params)
    return Totals(
        params=out.params, trainable_params=out.params if trainable else 0,
        frozen_params=0 if trainable else out.params, buffers=out.buffers, macs=out.macs,
        flops=netcost_flops(out), bias_adds=out.bias_adds, elementwise_flops=out.elementwise,
        attention_macs=out.attention_macs, param_bytes=out.params * elem, activation_bytes=activation,
        read_bytes=read, written_bytes=written, memory_access_bytes=read + written, **peers)


def functional_totals(out: Out, ins: tuple[Value, ...], outs: tuple[Value, ...], category: str, trainable: bool,
                      elem: int) -> Totals:
    """The figures of a functional op's result (it reads and writes whole tensors of their own dtypes)."""
    read = sum(value_bytes(v, elem) for v in ins) if out.read_inputs else 0
    written = 0 if out.view else sum(value_bytes(v, elem) for v in outs)
    peers = peer_figures(category, out, out.params)
    p = out.params
    return Totals(params=p, trainable_params=p if trainable else 0, frozen_params=0 if trainable else p,
                  buffers=out.buffers, macs=out.macs, flops=netcost_flops(out), bias_adds=out.bias_adds,
                  elementwise_flops=out.elementwise, attention_macs=out.attention_macs, param_bytes=p * elem,
                  activation_bytes=written, read_bytes=read, written_bytes=written,
                  memory_access_bytes=read + written, **peers)


def _part_inputs(out: Out, x: Shape) -> list[Shape]:
    shapes, prev = [], x
    for _, _, part in out.parts:
        shapes.append(prev)
        prev = part.shape
    return shapes


def _param_shapes(out: Out) -> tuple[Shape, ...] | None:
    if out.tensors is not None:
        return out.tensors
    return None if out.params else ()


# ---- a torch.nn layer ------------------------------------------------------------------------------------------

def _layer_row(k: LayerKind, checked_args: Callable[[Callable[[Mapping[str, Any]], dict[str, Any]]], dict[str, Any]],
               x: Shape, name: str, type_: str, trainable: bool, elem: int) -> tuple[LayerCost, Out]:
    """A torch.nn layer's row at input shape `x` (index 0: the caller places it). Raises NodeError."""
    try:
        args = checked_args(lambda raw: coerce_args(k.args, raw, k.dims))
        out = k.fn(args, x)
        check_output_shape(out.shape)  # sizes above int64 are refused, outputs included
        check_allocatable(out, elem)
    except SpecError as e:
        raise NodeError(e.reason, e.field) from None
    except (TypeError, ValueError, ArithmeticError, IndexError, KeyError) as e:  # never let a value crash a view
        raise NodeError(f"cannot evaluate these arguments ({e})") from None
    parts = ()
    if out.parts:
        parts = tuple(
            LayerCost(0, pname, ptype, k.category, pin, p.shape, layer_totals(p, pin, k.category, trainable, elem),
                      path=f"{name}.{pname}", depth=1)
            for (pname, ptype, p), pin in zip(out.parts, _part_inputs(out, x), strict=True))
    row = LayerCost(0, name, type_, k.category, x, out.shape, layer_totals(out, x, k.category, trainable, elem),
                    args={**args, **out.inferred}, inferred=tuple(out.inferred), parts=parts,
                    param_shapes=_param_shapes(out))
    return row, out


def cost_layer(spec: LayerSpec, index: int, x: Shape, dtype: str = "float32") -> LayerCost:
    """Cost one layer spec at input shape `x` (with batch), as row `index` of a layer list. Raises `LayerError`
    naming the layer and field."""
    name = spec.display_name(index)
    try:
        k = kind(spec.type)
    except (KeyError, TypeError):  # TypeError: a type that is not even a string (unhashable)
        raise LayerError(f"unknown layer type {spec.type!r}", "type", index, name, str(spec.type)) from None
    try:
        row, _ = _layer_row(k, spec.checked_args, x, name, spec.type, spec.trainable, DTYPE_BYTES[dtype])
    except NodeError as e:
        raise LayerError(e.reason, e.field, index, name, spec.type) from None
    return LayerCost(index, name, row.type, row.category, row.input_shape, row.output_shape, row.totals, row.args,
                     row.inferred, path=name, parts=row.parts, param_shapes=row.param_shapes)


# ---- a graph node ----------------------------------------------------------------------------------------------

def cost_node(node: Node, ins: tuple[Value, ...], elem: int, memo: RuleMemo | None = None
              ) -> tuple[LayerCost, tuple[Value, ...]]:
    """One node at its input values: its row (full parameter count) and its output values. Raises NodeError.

    Pure, so `memo` remembers it: a transformer repeats the same few dozen (op, arguments, shapes) in every
    block."""
    if memo is None or node.measured is not None:
        return _cost_node(node, ins, elem)
    try:
        key = (node.op, frozen(node.args), ins, elem, node.trainable, node.label)
        hit = memo.get(key)
    except TypeError:  # an unhashable argument value: cost it as it is
        return _cost_node(node, ins, elem)
    if hit is None:
        try:
            hit = _cost_node(node, ins, elem)
        except NodeError as e:
            hit = e
        memo.put(key, hit)
    if isinstance(hit, NodeError):
        raise NodeError(hit.reason, hit.field, hit.stale)
    return hit


def _cost_node(node: Node, ins: tuple[Value, ...], elem: int) -> tuple[LayerCost, tuple[Value, ...]]:
    m = node.measured
    if m is not None:
        if ins != m.inputs:
            raise NodeError(f"its inputs changed ({_values(m.inputs)} → {_values(ins)}) and it has no pure-Python "
                            f"rule: the model must be traced again to cost it", "inputs", stale=True)
        row = LayerCost(0, node.display_name, node.type_label, m.category, m.inputs[0][0] if m.inputs else (),
                        m.outputs[0][0] if m.outputs else (), m.totals, opaque=True,
                        param_shapes=None if m.totals.params else ())
        return row, m.outputs
    try:
        k = kind(node.op)
    except (KeyError, TypeError):
        raise NodeError(f"unknown op {node.op!r}", "op") from None
    if k.functional:
        return _functional_row(k, node, ins, elem)
    if not ins:
        raise NodeError("has no input", "inputs")
    row, out = _layer_row(k, node.checked_args, ins[0][0], node.display_name, node.type_label, node.trainable, elem)
    if out.token_input and ins[0][1] == "float":
        raise NodeError("reads token ids, but its input is a float tensor", "inputs")
    return row, out.outputs or ((out.shape, "float"),)


def _functional_row(k: LayerKind, node: Node, ins: tuple[Value, ...], elem: int
                    ) -> tuple[LayerCost, tuple[Value, ...]]:
    try:
        out = k.fn(dict(node.args), ins)
        outs = out.outputs or ((out.shape, "float"),)
        for shape, _ in outs:
            check_output_shape(shape)
        check_allocatable(out, elem, tuple((s, elem if dt == "float" else FIXED_DTYPES.get(dt, 8)) for s, dt in outs))
        category = out.category or k.category
        totals = functional_totals(out, ins, outs, category, node.trainable, elem)
        row = LayerCost(0, node.display_name, node.type_label, category, ins[0][0] if ins else (), outs[0][0],
                        totals, args=dict(node.args), param_shapes=_param_shapes(out))
    except NodeError:
        raise
    except SpecError as e:
        raise NodeError(e.reason, e.field) from None
    except (TypeError, ValueError, ArithmeticError, IndexError, KeyError) as e:  # never let a value crash a view
        raise NodeError(f"cannot evaluate these arguments ({e})") from None
    return row, outs


def _values(vs: tuple[Value, ...]) -> str:
    return ", ".join("×".join(map(str, s)) or "()" for s, _ in vs)
