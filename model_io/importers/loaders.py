"""Worker side: turn a request (reference, inputs, options) into its graph. Runs user code: only ever called
inside the worker process (model_io.worker.worker), never in the app or the CLI process.

`run_request` parses the reference and hands it to the importer of its kind (`IMPORTERS`, a table from `RefKind`
to a function); every user mistake or model failure becomes a `LoadFailure` (model_io.errors).

The importers import torch and the torch-side modules (tracer, graph_trace, module_swap, the zoo) inside their
functions: each is heavy, and a request needs only its own kind's (library_models and onnx_cost import their
library inside their functions themselves).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from netcost.costing.graph import Graph

from ..errors import FailureKind, LoadFailure
from ..files.file_checks import check_edits
from ..model_ref import ModelRef, RefError, RefKind, parse_ref
from . import library_models
from .model_build import build_python, count_fresh, example_inputs, guard, resolve_inputs, trace, user_roots
from .onnx_cost import onnx_graph
from .torch_files import load_torch_file


@dataclass(frozen=True)
class Request:
    """A parsed request: the reference, its label in messages, and the request's fields."""
    ref: ModelRef
    label: str
    fields: dict[str, Any]  # as sent (see worker_client for them)
    edits: tuple[dict[str, Any], ...] = ()  # layer edits to apply to the model's modules

    @property
    def dtype(self) -> str | None:
        return self.fields.get("dtype")

    def edited(self, model: Any) -> Any:
        """`model` with the request's layer edits applied to its modules (re-tracing an edited graph)."""
        if not self.edits:
            return model
        from .module_swap import ModuleEditError, apply_module_edits  # imports torch

        try:
            apply_module_edits(model, list(self.edits))
        except ModuleEditError as e:
            raise LoadFailure(f"{self.label}: cannot apply the edits to the model's code: {e}",
                              kind=FailureKind.USAGE) from None
        return model

    def rebuilt(self, built: tuple[Any, list[str]]) -> tuple[Any, list[str]]:
        model, notes = built
        return self.edited(model), notes


def run_request(request: dict[str, Any]) -> Graph:
    """Load, build and trace what `request` names (see worker_client for the fields) into its graph, with the
    reference and options it was traced from in its `source` (a saved project can trace it again)."""
    try:
        ref = parse_ref(str(request["ref"]))
    except RefError as e:
        raise LoadFailure(str(e), kind=FailureKind.USAGE) from None
    req = Request(ref, ref.label(), request, tuple(request.get("module_edits") or ()))
    check_edits(ref, bool(req.edits))
    graph = IMPORTERS[ref.kind](req)
    source = {**graph.source, "ref": str(request["ref"])}
    for key in ("inputs", "batch_size", "dtype"):
        if request.get(key):
            source[key] = request[key]
    return replace(graph, source=source)


# --- the importers, one per reference kind ------------------------------------------------------------------------

def _onnx(req: Request) -> Graph:
    specs = resolve_inputs(req.fields, [], req.label) if req.fields.get("inputs") else None
    return onnx_graph(req.ref.path, specs, dtype=req.dtype, batch_size=req.fields.get("batch_size"))


def _zoo(req: Request) -> Graph:
    from netcost.resources.zoo_models import ZOO  # imports torch

    from .tracer import meta_construction  # imports torch

    entry = ZOO.get(req.ref.path)
    if entry is None:
        raise LoadFailure(f"unknown built-in model zoo:{req.ref.path}", kind=FailureKind.USAGE)
    with meta_construction():
        model = req.edited(entry.build())
    return trace(model, resolve_inputs(req.fields, list(entry.inputs), req.label), req.label, req.dtype)


def _library(req: Request) -> Graph:
    built = library_models.build(req.ref)
    specs = resolve_inputs(req.fields, built.inputs, req.label)

    def for_real() -> tuple[Any, list[str]]:
        real = library_models.build(req.ref, weightless=False)
        return req.rebuilt((real.model, real.notes))

    return count_fresh(req.edited(built.model), built.notes, for_real, specs, req.label, req.dtype, ())


def _python(req: Request) -> Graph:
    model, notes, module = build_python(req.ref)
    specs = resolve_inputs(req.fields, example_inputs([module, model], req.label), req.label)
    return count_fresh(req.edited(model), notes, lambda: req.rebuilt(build_python(req.ref, meta=False)[:2]),
                       specs, req.label, req.dtype, user_roots(req.ref.path))


def _export(req: Request) -> Graph:
    from .graph_trace import exported_graph, load_exported  # imports torch

    ep = load_exported(req.ref.path, bool(req.fields.get("trust_pickle")))
    specs = resolve_inputs(req.fields, None, req.label) if req.fields.get("inputs") else None
    return guard(lambda: exported_graph(ep, specs, req.label, req.dtype), req.label, ())


def _torch_file(req: Request) -> Graph:
    """A .pt/.pth: TorchScript, or a pickled module when trusted."""
    obj, scripted = load_torch_file(req.ref.path, bool(req.fields.get("trust_pickle")))
    if not scripted:
        specs = resolve_inputs(req.fields, example_inputs([obj], req.label), req.label)
        return trace(req.edited(obj), specs, req.label, req.dtype)
    if req.edits:
        raise LoadFailure(f"{req.label}: layer edits can only be applied to a model's Python code, not to a "
                          "TorchScript program", kind=FailureKind.USAGE)
    from .graph_trace import script_graph, script_inputs  # imports torch

    specs = resolve_inputs(req.fields, script_inputs(obj), req.label)
    try:
        return script_graph(obj, specs, req.label, req.dtype)
    except Exception:  # some scripted code needs real tensors: count once more on the CPU
        import torch  # heavy (see the module docstring)

        cpu = torch.jit.load(req.ref.path, map_location="cpu")
        return guard(lambda: script_graph(cpu, specs, req.label, req.dtype), req.label, ())


IMPORTERS: dict[RefKind, Callable[[Request], Graph]] = {
    RefKind.ONNX: _onnx,
    RefKind.ZOO: _zoo,
    RefKind.TORCHVISION: _library,
    RefKind.TIMM: _library,
    RefKind.HF: _library,
    RefKind.PYTHON: _python,
    RefKind.EXPORT: _export,
    RefKind.TORCHSCRIPT: _torch_file,
}


def warm_up() -> None:
    """Build on meta and trace a tiny model along the path every load takes, so that what torch imports lazily on
    first use (its meta init kernels import sympy: about 2 s) is imported before a warm worker's request comes.
    Only NetCost's own code runs here; the graph is thrown away."""
    import torch  # heavy (see the module docstring)
    from torch import nn

    from .tracer import meta_construction

    class WarmUp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(8, 8)
            self.conv = nn.Conv2d(1, 8, 3, padding=1)
            self.norm2d = nn.BatchNorm2d(8)
            self.norm = nn.LayerNorm(8)
            self.fc = nn.Linear(8, 8)

        def forward(self, ids: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
            x = self.norm(self.embed(ids))
            x = torch.nn.functional.scaled_dot_product_attention(x, x, x, is_causal=True)
            y = self.norm2d(self.conv(image)).relu().mean((2, 3))
            return torch.nn.functional.gelu(self.fc(x)).softmax(-1).sum(1) + y

    with meta_construction():
        model = WarmUp()
    trace(model, [((1, 4), "int64"), ((1, 1, 4, 4), "float32")], "warm-up", None)
