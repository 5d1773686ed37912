"""Count models that arrive as graphs rather than Python classes: `torch.export` programs (.pt2) and TorchScript
archives (.pt/.pth).

An exported program keeps each node's module path and class (`nn_module_stack`), so it is run node by node on the
meta device and every op is charged to the module it came from: the same rows and hierarchy as a traced class.
TorchScript runs its forward in C++ where no module hook fires; its ops are still seen by the dispatch mode, so a
TorchScript model gets one row per costed op, with parameters attributed to the first op that reads them.
Both are costed from their ops (op_costs); there is no layer formula to reuse without the module objects.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import pickle
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils._pytree import tree_map_only

from netcost.costing import CostReport
from netcost.costing.dtypes import DTYPE_BYTES
from netcost.costing.graph import Graph, GraphInput, Ref
from netcost.costing.graph_eval import evaluate_graph

from ..errors import FailureKind, LoadFailure
from ..files.file_checks import check_export_file
from ..model_ref import TRUST_PICKLE_HINT
from .cost_mode import InputSpec, make_inputs, unfused
from .graph_assembly import assemble_graph
from .graph_builder import GraphMode, GraphRecorder, _Frame
from .trace_values import value_of


def _class(qualname: str) -> type | None:
    module, _, name = qualname.rpartition(".")
    if not module.startswith("torch."):
        return None  # never import the user's code here
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


# --- torch.export ------------------------------------------------------------------------------------------------

def load_exported(path: str, trust_pickle: bool = False) -> Any:
    """A torch.export program. Unless trusted, one that would unpickle anything (pickled weights or constants,
    opaque objects, inputs that are not plain tensors) or load compiled code is refused before torch reads it:
    `torch.export.load` unpickles those with weights_only=False, i.e. runs whatever code they name."""
    name = Path(path).name
    check_export_file(path)
    if not trust_pickle:
        unsafe = pt2_code_payloads(path)
        if unsafe:
            raise LoadFailure(f"{name} holds {unsafe[0]}, which NetCost does not load by default (unpickling runs "
                              f"code): {TRUST_PICKLE_HINT} if the file is yours", kind=FailureKind.PICKLE)
    try:
        with contextlib.nullcontext() if trust_pickle else _no_unpickling():
            return torch.export.load(path)
    except _RefusedUnpickling as e:  # a pickle the archive check did not foresee: refused all the same
        raise LoadFailure(f"{name} holds {e}, which NetCost does not load by default (unpickling runs code): "
                          f"{TRUST_PICKLE_HINT} if the file is yours", kind=FailureKind.PICKLE) from None
    except Exception as e:
        raise LoadFailure(f"{name} is not a torch.export program ({type(e).__name__}: "
                          f"{str(e).splitlines()[0][:200] if str(e) else ''})", kind=FailureKind.FORMAT) from None


class _RefusedUnpickling(Exception):
    """An untrusted .pt2 asked torch to unpickle something beyond plain tensors; the message says what."""


@contextlib.contextmanager
def _no_unpickling() -> Iterator[None]:
    """While an untrusted .pt2 loads: torch.load only with weights_only=True (torch's serde falls back to
    weights_only=False when that fails), and no plain or TorchScript unpickling at all. Belt and braces under
    `pt2_code_payloads`, for archive layouts it does not know."""
    load, loads = torch.load, pickle.loads
    load_obj = getattr(torch._C, "_pickle_load_obj", None)  # TorchScript objects' unpickler (not in every torch)

    def safe_load(f: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["weights_only"] = True
        try:
            return load(f, *args, **kwargs)
        except pickle.UnpicklingError:
            raise _RefusedUnpickling("pickled Python objects") from None

    def refuse(*_: Any, **__: Any) -> Any:
        raise _RefusedUnpickling("pickled Python objects")

    torch.load, pickle.loads = safe_load, refuse
    if load_obj is not None:
        torch._C._pickle_load_obj = refuse
    try:
        yield
    finally:
        torch.load, pickle.loads = load, loads
        if load_obj is not None:
            torch._C._pickle_load_obj = load_obj


def _plain_tensors(data: bytes) -> bool:
    """Whether a torch.save payload loads with weights_only=True (tensors and containers, nothing that runs)."""
    try:
        torch.load(io.BytesIO(data), map_location="meta", weights_only=True)
    except Exception:
        return False
    return True


def pt2_code_payloads(path: str) -> list[str]:
    """What in a .pt2 archive would run code when `torch.export.load` reads it, in words ([] when nothing would):
    compiled AOTInductor code, weights or constants marked `use_pickle`, custom and opaque objects, and torch.save
    payloads (sample inputs, legacy weights) that are not plain tensors. Read from the zip and its JSON configs;
    nothing is unpickled except with weights_only=True."""
    found: list[str] = []
    try:
        with zipfile.ZipFile(path) as z:
            # every record sits under one top-level folder named after the archive: compare what follows it
            records = {n.split("/", 1)[1]: n for n in z.namelist() if "/" in n}
            for rel, full in records.items():
                if rel.startswith("data/aotinductor/"):
                    found.append("compiled AOTInductor code")
                elif rel.startswith("data/weights/") and rel.endswith("_weights_config.json") or \
                        rel.startswith("data/constants/") and rel.endswith("_constants_config.json"):
                    found += _pickled_entries(json.loads(z.read(full)), "weights" in rel)
                elif _torch_save_record(rel) and not _plain_tensors(z.read(full)):
                    found.append(f"pickled Python objects ({rel})")
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, AttributeError, TypeError) as e:
        return [f"an archive NetCost cannot check ({type(e).__name__})"]
    return list(dict.fromkeys(found))


def _torch_save_record(rel: str) -> bool:
    """Records torch's serde reads with torch.load, falling back to weights_only=False (torch 2.6's layout too)."""
    return (rel.endswith(".pt") and rel.startswith(("data/sample_inputs/", "data/weights/", "data/constants/"))) \
        or rel in ("serialized_state_dict.json", "serialized_constants.json", "serialized_example_inputs.json")


def _pickled_entries(config: Any, weights: bool) -> list[str]:
    """Payload-config entries torch would unpickle: `use_pickle`, and any constant that is not a plain tensor
    (custom_obj_*: TorchScript objects, opaque_obj_*: pickle.loads)."""
    out = []
    for fqn, meta in config["config"].items():
        if meta.get("use_pickle") or (not weights and not str(meta.get("path_name", "")).startswith("tensor_")):
            out.append(f"pickled {'weights' if weights else 'constants'} ({fqn})")
    return out


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
    return assemble_graph(rec, list(graph_inputs), out, label, dtype, {"kind": "torch.export"})


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
    return assemble_graph(rec, list(graph_inputs), out, label, dtype, {"kind": "torchscript"})


def trace_script(sm: Any, specs: Sequence[tuple[tuple[int, ...], str]], label: str, dtype: str | None
                 ) -> CostReport:
    return evaluate_graph(script_graph(sm, specs, label, dtype))
