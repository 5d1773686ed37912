"""What one aten op a container runs becomes: a functional node when the pure-Python rule of that op (costing.ops)
reproduces the measured shapes, costs, memory traffic and peer views, else an opaque node carrying what was
measured. Its non-tensor arguments are written as data by their schema names. Torch side of the tracer
(model_io.importers.graph_builder)."""

from __future__ import annotations

from typing import Any

import torch

from netcost.costing import Totals
from netcost.costing.conventions import measured_totals
from netcost.costing.graph import Node, Ref, Value
from netcost.costing.graph_eval import NodeError, cost_node
from netcost.costing.registry import has_kind, kind

from . import op_costs
from .trace_values import nbytes

_JSON_SCALARS = (bool, int, float, str, type(None))
_SKIP_ARGS = {"device", "layout", "pin_memory", "non_blocking", "generator", "out"}


def _json_arg(v: Any) -> tuple[bool, Any]:
    """(ok, value) for a non-tensor op argument as JSON-ready data (dtypes as names)."""
    if isinstance(v, _JSON_SCALARS):
        return True, v
    if isinstance(v, (torch.dtype, torch.memory_format)):  # by name (a copy's layout decides later views)
        return True, str(v).removeprefix("torch.")
    if isinstance(v, (list, tuple, torch.Size)):
        items = [_json_arg(x) for x in v]
        return all(ok for ok, _ in items), [x for _, x in items]
    return False, None


_SCHEMAS: dict[Any, tuple[tuple[str, bool, bool], ...]] = {}


def _schema(func: Any) -> tuple[tuple[str, bool, bool], ...]:
    """(name, keyword-only, is a tensor type) of each argument, read once per op."""
    s = _SCHEMAS.get(func)
    if s is None:
        s = _SCHEMAS[func] = tuple((a.name, a.kwarg_only, "Tensor" in str(a.type)) for a in func._schema.arguments)
    return s


def schema_args(func: Any, args: tuple, kwargs: dict) -> tuple[bool, dict[str, Any]]:
    """The op's non-tensor arguments by schema name (absent optional tensors as None); ok False when one cannot
    be written as data (the node is then opaque)."""
    out: dict[str, Any] = {}
    ok = True
    for i, (name, kwarg_only, is_tensor) in enumerate(_schema(func)):
        if i < len(args) and not kwarg_only:
            v = args[i]
        elif name in kwargs:
            v = kwargs[name]
        else:
            continue
        if isinstance(v, torch.Tensor) or (isinstance(v, (list, tuple)) and v and isinstance(v[0], torch.Tensor)):
            continue
        if name in _SKIP_ARGS:
            continue
        if v is None and is_tensor:
            out[name] = None
            continue
        good, data = _json_arg(v)
        ok &= good
        if good:
            out[name] = data
    if func._overloadname not in ("default", ""):
        out["_overload"] = func._overloadname
    return ok, out


def op_verdict(name: str, kind_: str, c: Any, is_view: bool, expressible: bool, data: dict[str, Any],
               in_refs: tuple[Ref, ...], scope: str, in_values: tuple[Value, ...], out_values: list[Value],
               n_outs: int, pt: int, elem: int) -> tuple[bool, Totals]:
    """Whether a functional node's rule reproduces what the op measured (else it is opaque), and the totals."""
    macs = c.macs if c is not None else 0
    bias = c.bias_adds if c is not None else 0
    elementwise = c.elementwise if c is not None else 0
    attn = c.attention_macs if c is not None else 0
    category = c.category if c is not None else "other"
    read = sum(nbytes(v, elem) for v in in_values)
    written = 0 if is_view else sum(nbytes(v, elem) for v in out_values[:n_outs])
    fv = c.fvcore_elements if c is not None else 0
    totals = measured_totals(macs, bias, elementwise, attn, 0, 0, 0, read, written, category, False, elem,
                             out_values[0][0] if out_values else (), fvcore_elements=fv, ptflops=pt, torchinfo=0)
    if not (expressible and kind_ != op_costs.UNSUPPORTED and has_kind(name) and kind(name).functional):
        return False, totals
    try:
        row, rule_outs = cost_node(Node("", name, data, in_refs, scope=scope), in_values, elem)
    except NodeError:
        return False, totals
    t = row.totals
    same = (rule_outs == tuple(out_values) and t.macs == macs and t.bias_adds == bias
            and t.elementwise_flops == elementwise and t.attention_macs == attn
            and t.read_bytes == read and t.written_bytes == written
            and t.peer_views() == totals.peer_views())  # every peer view as the tool counts it
    return same, totals


def generic_flatten(node: Node, values: tuple[Value, ...]) -> Node:
    """A reshape that flattens the trailing dims (`torch.flatten(x, 1)`, `x.view(x.size(0), -1)`) keeps doing so
    when an edit changes those dims, as the code that made it would; its traced size bakes them in."""
    if node.op not in ("view", "_unsafe_view", "reshape") or not values:
        return node
    x = values[0][0]
    size = list(node.args.get("size") or [])
    k = len(size) - 1
    if k < 0 or len(x) <= len(size) or size[:k] != list(x[:k]) or 0 in x:
        return node  # (of no elements, -1 is ambiguous and torch refuses it: FCOS with no detections)
    n = 1
    for d in x[k:]:
        n *= d
    if size[k] != n:
        return node
    return node.with_arg("size", [*size[:k], -1])
