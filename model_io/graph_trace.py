"""Count models that arrive as graphs rather than Python classes: `torch.export` programs (.pt2) and TorchScript
archives (.pt/.pth).

An exported program keeps each node's module path and class (`nn_module_stack`), so it is run node by node on the
meta device and every op is charged to the module it came from: the same rows and hierarchy as a traced class.
TorchScript runs its forward in C++ where no module hook fires; its ops are still seen by the dispatch mode, so a
TorchScript model gets one row per costed op, with parameters attributed to the first op that reads them.
Both are costed from their ops (op_costs); there is no layer formula to reuse without the module objects.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils._pytree import tree_map_only

from costing import CostReport, HierarchyNode, LayerCost, make_report, sum_layers
from costing.dtypes import DTYPE_BYTES

from .loaders import LoadFailure, sniff
from .module_specs import category_of_class
from .tracer import INF, CostMode, InputSpec, _measured_totals, _Row, make_inputs, unfused


class _PathRecorder:
    """The row the next op is charged to, chosen by the caller (per graph node or per op)."""

    def __init__(self, root: nn.Module) -> None:
        self.root = root
        self.seq = 0
        self.rows: dict[str, _Row] = {}
        self.stack: list[tuple[_Row, bool]] = [(self.row(""), False)]

    def row(self, key: str) -> _Row:
        r = self.rows.get(key)
        if r is None:
            r = self.rows[key] = _Row(key, self.root, own=True)  # own: memory is charged per op
        return r

    def select(self, key: str) -> None:
        self.stack[-1] = (self.row(key), False)


def _class(qualname: str) -> type | None:
    module, _, name = qualname.rpartition(".")
    if not module.startswith("torch."):
        return None  # never import the user's code here
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


# --- torch.export ------------------------------------------------------------------------------------------------

def load_exported(path: str) -> Any:
    name = Path(path).name
    if not Path(path).is_file():
        raise LoadFailure(f"{path}: no such file", kind="usage")
    what = sniff(path)
    if what and not what.startswith("a torch.export program"):
        raise LoadFailure(f"{name} is not a torch.export program: it holds {what}", kind="format")
    try:
        return torch.export.load(path)
    except Exception as e:
        raise LoadFailure(f"{name} is not a torch.export program ({type(e).__name__}: "
                          f"{str(e).splitlines()[0][:200] if str(e) else ''})", kind="format") from None


META = torch.device("meta")


def trace_exported(ep: Any, specs: Sequence[tuple[tuple[int, ...], str]] | None, label: str,
                   dtype: str | None) -> CostReport:
    gm = ep.module()
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if specs is None:
        specs = [(tuple(n.meta["val"].shape), str(n.meta["val"].dtype).removeprefix("torch."))
                 for n in placeholders if hasattr(n.meta.get("val"), "shape")]
    inputs = [InputSpec(tuple(s), d) for s, d in specs]
    gm.to("meta")  # our own copy, loaded from the file: moving it changes nothing the user holds
    for n in gm.graph.nodes:  # tensor constants are plain attributes, which .to() leaves behind
        if n.op == "get_attr":
            owner, _, attr = str(n.target).rpartition(".")
            holder = gm.get_submodule(owner) if owner else gm
            value = getattr(holder, attr)
            if isinstance(value, torch.Tensor) and not isinstance(value, nn.Parameter) and value.device.type != "meta":
                setattr(holder, attr, value.to("meta"))
    types: dict[str, str] = {}
    rec = _PathRecorder(gm)
    dtype = dtype or _dtype_of(gm)
    elem = DTYPE_BYTES[dtype]

    class Interp(torch.fx.Interpreter):
        def run_node(self, n: torch.fx.Node) -> Any:
            if n.op == "call_module" and str(n.target).startswith("_guards"):
                return None  # shape guards of the exported inputs; the user may have asked for other shapes
            if n.op in ("call_function", "call_method", "call_module"):
                stack = n.meta.get("nn_module_stack") or {}
                path = ""
                for p, t in stack.values():
                    types.setdefault(p, t if isinstance(t, str) else f"{t.__module__}.{t.__qualname__}")
                    path = p
                rec.select(path)
            return super().run_node(n)

        def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
            # tensors the graph creates itself (an LSTM's zero state, torch.arange) carry the export device
            return super().call_function(target, *tree_map_only(
                torch.device, lambda _: META, (args, kwargs)))

    args = make_inputs(inputs, "meta")
    with unfused(), CostMode(rec, elem):
        Interp(gm).run(*args)
    for name, _ in gm.named_parameters():
        rec.row(name.rpartition(".")[0])
    params_of: dict[str, list[nn.Parameter]] = {}
    for name, p in gm.named_parameters():
        params_of.setdefault(name.rpartition(".")[0], []).append(p)
    buffers_of: dict[str, int] = {}
    for name, b in gm.named_buffers():
        key = name.rpartition(".")[0]
        buffers_of[key] = buffers_of.get(key, 0) + b.numel()
    return _path_report(rec, types, params_of, buffers_of, inputs, label, dtype, "torch.export")


def _dtype_of(m: nn.Module) -> str:
    for p in m.parameters():
        name = str(p.dtype).removeprefix("torch.")
        if name in DTYPE_BYTES:
            return name
    return "float32"


def _path_report(rec: _PathRecorder, types: dict[str, str], params_of: dict[str, list[nn.Parameter]],
                 buffers_of: dict[str, int], inputs: list[InputSpec], label: str, dtype: str, source: str
                 ) -> CostReport:
    elem = DTYPE_BYTES[dtype]
    paths = set(rec.rows) | set(types)
    children: dict[str, list[str]] = {}
    for p in paths:
        if p:
            parent = p.rpartition(".")[0]
            while parent and parent not in paths:
                parent = parent.rpartition(".")[0]
            children.setdefault(parent, []).append(p)

    def first(p: str) -> float:
        own = rec.rows[p].first_seq if p in rec.rows else INF
        return min([own, *(first(c) for c in children.get(p, []))])

    layers: list[LayerCost] = []
    nodes: list[HierarchyNode] = []
    unsupported: list[dict[str, Any]] = []

    def visit(p: str) -> None:
        kids = children.get(p, [])
        start = len(layers)
        items = sorted([(first(c), c, False) for c in kids] +
                       ([(rec.rows[p].first_seq, p, True)] if p in rec.rows else []))
        for _, q, is_own in items:
            if is_own:
                _emit(q, container=bool(kids))
            else:
                visit(q)
        if kids and len(layers) > start:
            body = tuple(layers[start:])
            nodes.append(HierarchyNode(p, _short(types.get(p, "Module")), _depth(p), start, len(layers) - 1,
                                       sum_layers(body)[0]))

    def _emit(p: str, container: bool) -> None:
        row = rec.rows[p]
        ps = params_of.get(p, [])
        n = sum(x.numel() for x in ps)
        if not row.ops and not row.calls and not n and not row.unsupported:
            return
        cls = _class(types.get(p, ""))
        category = (None if container or cls is None else category_of_class(cls)) or (
            row.flops_by_category.most_common(1)[0][0] if row.flops_by_category else "other")
        trainable = sum(x.numel() for x in ps if x.requires_grad)
        in_shape = row.calls[0][0][0][0] if row.calls and row.calls[0][0] else ()
        out_shape = row.calls[0][1][0][0] if row.calls and row.calls[0][1] else ()
        totals = _measured_totals(row, category, n, trainable, buffers_of.get(p, 0), elem, out_shape)
        type_name = _short(types.get(p, "Module")) + (" (own ops)" if container else "")
        layers.append(LayerCost(index=len(layers), name=p or label, type=type_name, category=category,
                                input_shape=in_shape, output_shape=out_shape, totals=totals,
                                depth=_depth(p) + (1 if container else 0), path=p))
        for op, count in row.unsupported.items():
            unsupported.append({"op": op, "count": count, "module": p or label})

    visit("")
    rows = tuple(layers)
    totals, by_category = sum_layers(rows)
    nodes.sort(key=lambda n: (n.first, -n.last))
    in_list = tuple((s.shape, s.dtype if s.dtype == "int64" else dtype) for s in inputs)
    warnings = (f"{sum(u['count'] for u in unsupported)} op call(s) have no cost formula and are listed as "
                f"unsupported",) if unsupported else ()
    return make_report(label, in_list, inputs[0].shape[0] if inputs and inputs[0].shape else 1, dtype, rows,
                       totals, by_category, hierarchy=tuple(nodes), unsupported=tuple(unsupported),
                       warnings=warnings, source=source)


def _short(qualname: str) -> str:
    return qualname.rpartition(".")[2] or qualname


def _depth(path: str) -> int:
    return path.count(".") + 1 if path else 0


# --- TorchScript -------------------------------------------------------------------------------------------------

def script_inputs(sm: Any) -> list[tuple[tuple[int, ...], str]] | None:
    """TorchScript keeps no example shapes; a model may carry `example_input(s)` as an attribute."""
    for attr in ("example_inputs", "example_input"):
        value = getattr(sm, attr, None)
        if isinstance(value, torch.Tensor):
            return [(tuple(value.shape), str(value.dtype).removeprefix("torch."))]
        if isinstance(value, (tuple, list)) and all(isinstance(v, torch.Tensor) for v in value):
            return [(tuple(v.shape), str(v.dtype).removeprefix("torch.")) for v in value]
    return None


class _OpRowMode(CostMode):
    """One row per costed op call; parameters go to the first op that reads them (through views too)."""

    def __init__(self, rec: _PathRecorder, elem: int, params: dict[int, str]) -> None:
        super().__init__(rec, elem)
        self.params = params  # TensorImpl address -> parameter name
        self.claimed: dict[str, str] = {}  # parameter name -> row key
        self.counts: dict[str, int] = {}

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        info = self.kinds.get(func)
        if info is None:
            from . import op_costs
            from .tracer import _cache_policy

            info = self.kinds[func] = (op_costs.classify(func), *_cache_policy(func))
        if info[0] == "free":
            out = func(*args, **kwargs)
            if func.is_view and args and isinstance(args[0], torch.Tensor) and args[0]._cdata in self.params \
                    and isinstance(out, torch.Tensor):
                self.params[out._cdata] = self.params[args[0]._cdata]
            return out
        name = func.overloadpacket.__name__
        self.counts[name] = self.counts.get(name, 0) + 1
        key = f"{name}#{self.counts[name]}"  # no dots: op rows are flat, not a module path
        rec = self.recorder
        rec.select(key)
        for a in args:
            if isinstance(a, torch.Tensor) and a._cdata in self.params:
                self.claimed.setdefault(self.params[a._cdata], key)
        return super().__torch_dispatch__(func, types, args, kwargs)

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False


def trace_script(sm: Any, specs: Sequence[tuple[tuple[int, ...], str]], label: str, dtype: str | None
                 ) -> CostReport:
    dtype = dtype or _dtype_of(sm)
    elem = DTYPE_BYTES[dtype]
    inputs = [InputSpec(tuple(s), d) for s, d in specs]
    rec = _PathRecorder(sm)
    named = dict(sm.named_parameters())
    mode = _OpRowMode(rec, elem, {p._cdata: n for n, p in named.items()})
    mode.cache = None  # parameters are tracked by tensor identity: every op must really run
    device = next((p.device for p in named.values()), torch.device("cpu"))
    args = make_inputs(inputs, device)
    with unfused(), mode:
        sm(*args)
    params_of: dict[str, list[nn.Parameter]] = {}
    for pname, key in mode.claimed.items():
        params_of.setdefault(key, []).append(named[pname])
    unclaimed = [p for n, p in named.items() if n not in mode.claimed]
    if unclaimed:
        params_of.setdefault("", []).extend(unclaimed)
    buffers = {"": sum(b.numel() for b in sm.buffers())}
    if "" in rec.rows and not rec.rows[""].ops and not unclaimed:
        del rec.rows[""]
    rows = dict(rec.rows)
    rec.rows = {k: rows[k] for k in sorted(rows, key=lambda k: rows[k].first_seq)}
    types = {k: k.partition("#")[0] for k in rec.rows if k}
    types[""] = str(getattr(sm, "original_name", type(sm).__name__))
    return _path_report(rec, types, params_of, buffers, inputs, label, dtype, "torchscript")
