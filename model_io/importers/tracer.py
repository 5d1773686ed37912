"""Count a torch model: one forward pass (on the meta device wherever possible) under a dispatch mode that maps
every tensor to the node that produced it, giving the model's dataflow graph (model_io.importers.graph_builder).

Leaf modules whose torch.nn class has a NetCost layer formula become editable nodes costed by that formula at the
shapes seen (identical numbers to a layer list), after checking its MACs against the ops the forward actually ran;
other work becomes functional or opaque nodes. The model object is left as it was: training flags are restored, no
hook or mode outlives the call, and its parameters are never replaced in place.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import torch
from torch import nn
from torch.utils.module_tracker import ModuleTracker

from netcost.costing import CostReport
from netcost.costing.dtypes import DTYPE_BYTES
from netcost.costing.graph import Graph, GraphInput, Ref
from netcost.costing.graph_eval import evaluate_graph

from . import op_costs
from .cost_mode import InputSpec, make_inputs, meta_construction, unfused
from .graph_assembly import assemble_graph
from .graph_builder import GraphMode, GraphRecorder
from .model_state import preserved
from .transformers_meta import meta_values_unknown

__all__ = ["InputSpec", "MetaUnsupported", "make_inputs", "meta_construction", "trace_graph", "trace_module",
           "unfused"]


class MetaUnsupported(Exception):
    """The model's code needs real tensors (it failed on the meta device but runs on the CPU)."""


class _Tracker(ModuleTracker):
    """torch's ModuleTracker (its `parents` stay right for anyone reading them) plus our module stack.

    Forward only: ModuleTracker also hooks every output that requires grad to follow a later backward, and that
    hook asserts on a tensor that requires grad without a grad_fn (timm's CaiT: "Expected gradient function to be
    set") although the model's own forward runs. A trace never runs backward, so those hooks are left out."""

    def __init__(self, recorder: GraphRecorder) -> None:
        super().__init__()
        self.recorder = recorder

    def _fw_pre_hook(self, mod: nn.Module, input: Any) -> None:
        self._get_append_fn(self._get_mod_name(mod), False)()
        self.recorder.enter(mod, input)

    def _fw_post_hook(self, mod: nn.Module, input: Any, output: Any) -> None:
        self._get_pop_fn(self._get_mod_name(mod), False)()
        self.recorder.exit(mod, output)

def _device_of(model: nn.Module) -> torch.device:
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("meta")


def input_names(model: nn.Module, n: int) -> list[str]:
    """The forward's own argument names for the model inputs (`x`, `input_ids`), else input_0, input_1, ..."""
    try:
        params = [p.name for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = params[:n] if len(params) >= n else []
    return names if len(set(names)) == n else [f"input_{i}" for i in range(n)]


def _sources(model: nn.Module, state: dict[str, torch.Tensor] | None) -> dict[int, tuple[str, bool, bool]]:
    """Every parameter and buffer the forward may read, by tensor identity (the meta stand-ins when used)."""
    out: dict[int, tuple[str, bool, bool]] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        t = state[name] if state is not None else p
        out.setdefault(id(t), (name, True, p.requires_grad))
    for name, b in model.named_buffers(remove_duplicate=False):
        t = state[name] if state is not None else b
        out.setdefault(id(t), (name, False, False))
    return out


def _run(model: nn.Module, inputs: Sequence[InputSpec], device: Any, elem: int, dtype: str,
         meta_state: dict[str, torch.Tensor] | None, name: str, notes: list[str], source: dict[str, Any]) -> Graph:
    names = input_names(model, len(inputs))
    stand_ins = None
    if meta_state is not None:
        real = dict([*model.named_parameters(remove_duplicate=False), *model.named_buffers(remove_duplicate=False)])
        stand_ins = {id(real[k]): v for k, v in meta_state.items()}
    recorder = GraphRecorder(model, elem, dtype, names, _sources(model, meta_state), stand_ins)
    tensors = make_inputs(inputs, device)
    graph_inputs = []
    for nm, spec, t in zip(names, inputs, tensors, strict=True):
        kind_ = "float" if t.is_floating_point() else str(t.dtype).removeprefix("torch.")
        graph_inputs.append(GraphInput(nm, tuple(spec.shape), kind_))
        recorder.bind(t, Ref(nm))
    with ExitStack() as stack:
        stack.enter_context(unfused())
        stack.enter_context(meta_values_unknown(model))
        stack.enter_context(_Tracker(recorder))
        stack.enter_context(GraphMode(recorder, elem))
        if meta_state is None:
            out = model(*tensors)
        else:  # swap in meta stand-ins for the duration of the call; torch restores the real tensors after
            out = torch.func.functional_call(model, meta_state, tuple(tensors), tie_weights=True, strict=False)
    if recorder.mismatched:
        m = recorder.mismatched
        notes.append(f"{len(m)} module(s) costed from their ops, not their layer formula (their forward differs "
                     f"from torch's): {', '.join(m[:5])}{' ...' if len(m) > 5 else ''}")
    graph = assemble_graph(recorder, graph_inputs, out, name, dtype, source)
    uncalled = recorder.uncalled
    if uncalled:
        notes.append(f"{len(uncalled)} module(s) not called in forward (parameters counted, no compute): "
                     f"{', '.join(uncalled[:5])}{' ...' if len(uncalled) > 5 else ''}")
    unsupported = sum(c for n in graph.nodes if n.measured for _, c in n.measured.unsupported)
    if unsupported:
        notes.append(f"{unsupported} op call(s) have no cost formula and are listed as unsupported")
        notes += op_costs.data_dependent_notes({op for n in graph.nodes if n.measured
                                                for op, _ in n.measured.unsupported})
    return _with_warnings(graph, notes)


def _with_warnings(graph: Graph, notes: list[str]) -> Graph:
    return replace(graph, source={**graph.source, "warnings": list(notes)})


def _is_meta_problem(e: BaseException) -> bool:
    text = str(e)
    return isinstance(e, NotImplementedError) or "meta" in text.lower() or "data-dependent" in text


def trace_graph(model: nn.Module, inputs: Sequence[InputSpec], name: str | None = None, dtype: str | None = None,
                warnings: Sequence[str] = (), source: str = "torch", ref: str | None = None,
                meta: bool | None = None) -> Graph:
    """The dataflow graph of `model` at `inputs` (shapes with batch). Runs on the meta device unless the model's
    code needs real tensors; then once more on the CPU with a note in the graph's warnings. Model errors
    propagate. `meta=True`: the meta device only (its error propagates, for a caller that retries with a fresh
    model); `meta=False`: the model's own device only."""
    dtype = dtype or _param_dtype(model)
    elem = DTYPE_BYTES[dtype]
    notes = list(warnings)
    label = name or type(model).__name__
    info: dict[str, Any] = {"kind": source}
    if ref is not None:
        info["ref"] = ref
    flags = [(m, m.training) for m in model.modules()]
    model.eval()  # inference costs: dropout off, batch norm on running statistics
    try:
        device = _device_of(model)
        if meta is not False:
            try:
                meta_state = None
                if device.type != "meta":
                    stand_in: dict[int, torch.Tensor] = {}  # one meta tensor per real one: tied weights stay tied
                    meta_state = {k: stand_in.setdefault(id(v), _stand_in(v))
                                  for k, v in [*model.named_parameters(remove_duplicate=False),
                                               *model.named_buffers(remove_duplicate=False)]}
                with preserved(model):  # what a failed attempt stored on the model is put back
                    return _run(model, inputs, "meta", elem, dtype, meta_state, label, notes, info)
            except Exception as meta_error:
                if meta or device.type == "meta" or not _is_meta_problem(meta_error):
                    raise
                notes.append(cpu_fallback_note(meta_error))
        return _run(model, inputs, device, elem, dtype, None, label, notes, info)
    finally:
        for m, training in flags:
            m.training = training


def trace_module(model: nn.Module, inputs: Sequence[InputSpec], name: str | None = None,
                 dtype: str | None = None, warnings: Sequence[str] = (), source: str = "torch",
                 meta: bool | None = None) -> CostReport:
    """The report of `model`'s graph (trace_graph, then the pure-Python evaluation)."""
    return evaluate_graph(trace_graph(model, inputs, name, dtype, warnings, source, meta=meta))


def cpu_fallback_note(meta_error: BaseException) -> str:
    return (f"counted with real tensors on the CPU: the forward does not run on the meta device "
            f"({type(meta_error).__name__}: {str(meta_error).splitlines()[0][:160] if str(meta_error) else ''})")


def _stand_in(t: torch.Tensor) -> torch.Tensor:
    """A weightless copy of a real tensor, frozen or trainable as the tensor is."""
    meta = torch.empty_like(t, device="meta")
    return meta.requires_grad_(True) if t.requires_grad else meta


def _param_dtype(model: nn.Module) -> str:
    for p in model.parameters():
        if p.is_floating_point():
            name = str(p.dtype).removeprefix("torch.")
            return name if name in DTYPE_BYTES else "float32"
    return "float32"


