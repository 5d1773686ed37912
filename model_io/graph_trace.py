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

from costing import CostReport
from costing.dtypes import DTYPE_BYTES
from costing.graph import Graph, GraphInput, Ref
from costing.graph_eval import evaluate_graph

from .cost_mode import InputSpec, make_inputs, unfused
from .graph_builder import GraphMode, GraphRecorder, _Frame, value_of
from .loaders import LoadFailure, sniff


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


def _sources(m: nn.Module) -> dict[int, tuple[str, bool, bool]]:
    out: dict[int, tuple[str, bool, bool]] = {}
    for name, p in m.named_parameters(remove_duplicate=False):
        out.setdefault(id(p), (name, True, p.requires_grad))
    for name, b in m.named_buffers(remove_duplicate=False):
        out.setdefault(id(b), (name, False, False))
    return out


def _bind_inputs(rec: GraphRecorder, names: list[str], specs: Sequence[InputSpec], tensors: list[torch.Tensor]
                 ) -> tuple[GraphInput, ...]:
    out = []
    for name, spec, t in zip(names, specs, tensors, strict=True):
        rec.bind(t, Ref(name))
        out.append(GraphInput(name, tuple(spec.shape), value_of(t)[1]))
    return tuple(out)


def exported_graph(ep: Any, specs: Sequence[tuple[tuple[int, ...], str]] | None, label: str, dtype: str | None
                   ) -> Graph:
    """The graph of a torch.export program: one node per aten op, scoped by the module each came from."""
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
    dtype = dtype or _dtype_of(gm)
    elem = DTYPE_BYTES[dtype]
    names = [str(n.name) for n in placeholders][:len(inputs)]
    rec = GraphRecorder(gm, elem, dtype, names, _sources(gm), flat=True)
    types: dict[str, str] = {}

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
                rec.stack = [_Frame("container", path)]
            return super().run_node(n)

        def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
            # tensors the graph creates itself (an LSTM's zero state, torch.arange) carry the export device
            return super().call_function(target, *tree_map_only(
                torch.device, lambda _: META, (args, kwargs)))

    args = make_inputs(inputs, "meta")
    graph_inputs = _bind_inputs(rec, names, inputs, args)
    with unfused(), GraphMode(rec, elem):
        out = Interp(gm).run(*args)
    rec.stack = [_Frame("container", "")]
    for pname, p in gm.named_parameters():  # parameters no op read are still the model's
        if rec.known(p) is None:
            rec.ref_of(p, pname.rpartition(".")[0])
    rec.scope_types = {p: _short(t) for p, t in types.items()}
    return rec.finish(list(graph_inputs), out, label, dtype, {"kind": "torch.export"})


def trace_exported(ep: Any, specs: Sequence[tuple[tuple[int, ...], str]] | None, label: str,
                   dtype: str | None) -> CostReport:
    return evaluate_graph(exported_graph(ep, specs, label, dtype))


def _dtype_of(m: nn.Module) -> str:
    for p in m.parameters():
        name = str(p.dtype).removeprefix("torch.")
        if name in DTYPE_BYTES:
            return name
    return "float32"


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


def script_graph(sm: Any, specs: Sequence[tuple[tuple[int, ...], str]], label: str, dtype: str | None) -> Graph:
    """A TorchScript module runs its forward in C++, where no module hook fires: every op it dispatches is a node
    of the root, and its parameters are sources read by the ops."""
    dtype = dtype or _dtype_of(sm)
    elem = DTYPE_BYTES[dtype]
    inputs = [InputSpec(tuple(s), d) for s, d in specs]
    named = dict(sm.named_parameters())
    names = [f"input_{i}" for i in range(len(inputs))] if len(inputs) > 1 else ["input"]
    rec = GraphRecorder(sm, elem, dtype, names, _sources(sm), flat=True)
    device = next((p.device for p in named.values()), torch.device("cpu"))
    args = make_inputs(inputs, device)
    graph_inputs = _bind_inputs(rec, names, inputs, args)
    mode = GraphMode(rec, elem)
    mode.cache = None  # values are tracked by tensor identity through C++: every op must really run
    with unfused(), mode:
        out = sm(*args)
    for p in named.values():
        if rec.known(p) is None:
            rec.ref_of(p, "")
    rec.scope_types = {"": str(getattr(sm, "original_name", type(sm).__name__))}
    return rec.finish(list(graph_inputs), out, label, dtype, {"kind": "torchscript"})


def trace_script(sm: Any, specs: Sequence[tuple[tuple[int, ...], str]], label: str, dtype: str | None
                 ) -> CostReport:
    return evaluate_graph(script_graph(sm, specs, label, dtype))
