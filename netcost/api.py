"""`netcost.analyze` and `netcost.check`: the Python API's entry points (see docs/api.md).

A live `nn.Module` is counted in this process on a weightless structural copy (netcost.live): no worker, no copy
of its weights, no change to it. A reference (`"zoo:alexnet"`, `"torchvision:resnet50"`, `"hf:…"`, a `.py`,
`.pt2`, `.onnx` path, a graph or layer-list file) goes through the CLI's own path: layer lists and graph files are
read here, anything else is loaded and traced in the isolated worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from netcost.costing import CostReport
from netcost.costing.graph import Graph
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.worker.resolve import (
    LoadOptions,
    ModelError,
    RefOrigin,
    is_layer_list,
    load_graph_ref,
    measured_again,
)

from .report import Report, Source, costed

OPTIONS = ("input_size", "dtype", "batch", "convention", "depth", "name", "edits", "rewrites", "timeout", "memory",
           "trust_pickle", "trust_source")


def _dtype(dtype: Any) -> str | None:
    if dtype is None:
        return None
    from netcost.costing.dtypes import canonical_dtype

    text = str(dtype).removeprefix("torch.")
    try:
        return canonical_dtype(text)
    except ValueError as e:
        raise ValueError(f"dtype {dtype!r}: {e}") from None


def _memory_mb(memory: Any) -> int:
    from netcost.model_io.memory_cap import DEFAULT_MEMORY_MB, parse_memory

    if memory is None:
        return DEFAULT_MEMORY_MB
    if isinstance(memory, int) and not isinstance(memory, bool):
        return memory // 2 ** 20  # bytes
    return parse_memory(str(memory))


def _input_strings(inputs: Sequence[Any]) -> tuple[str, ...]:
    """Example inputs as the CLI's --input specs (`1,3,224,224`, `long:1,128`) for a reference."""
    out = []
    for x in inputs:
        if isinstance(x, str):
            out.append(x)
            continue
        shape = getattr(x, "shape", x)
        dt = str(getattr(x, "dtype", "float32")).removeprefix("torch.")
        if not (isinstance(shape, Iterable) and all(isinstance(d, int) for d in shape)):
            raise TypeError(f"an input of a reference is a tensor, a shape or a spec such as 'long:1,128', not "
                            f"{type(x).__name__}")
        prefix = {"int64": "long:", "int32": "int:", "bool": "bool:", "float16": "fp16:",
                  "bfloat16": "bf16:"}.get(dt, "")
        out.append(prefix + ",".join(str(int(d)) for d in shape))
    return tuple(out)


def _changes(edits: Mapping[str, Any] | None, rewrites: str | Iterable[str] | None) -> tuple[dict, list[str]]:
    if edits is not None and not isinstance(edits, Mapping):
        raise TypeError("edits= takes a dict of {'ROW.ARG': value}")
    listed = [rewrites] if isinstance(rewrites, str) else list(rewrites or ())
    return dict(edits or {}), listed


def analyze(model: Any, *example_inputs: Any, input_size: Any = None, dtype: Any = None, batch: int | None = None,
            convention: str = "flops", depth: int | None = None, name: str | None = None,
            edits: Mapping[str, Any] | None = None, rewrites: str | Iterable[str] | None = None,
            timeout: float = 120.0, memory: Any = None, trust_pickle: bool = False,
            trust_source: bool = False) -> Report:
    """Cost a model: parameters, MACs, FLOPs and memory, per layer and in total, as `netcost summary` does.

    `model`: a live `torch.nn.Module` (any device, real weights: counted on a weightless copy in this process and
    left exactly as it was), a reference string or path (`"zoo:alexnet"`, `"torchvision:resnet50"`, `"hf:…"`,
    `"model.py:Net"`, `.pt2`, `.onnx`, a graph or layer-list `.json`), a `Graph`, or a `Report`.
    `example_inputs`: tensors (real or meta), shapes, or one dict of keyword inputs (Hugging Face models);
    `input_size=(1, 3, 224, 224)` (or a list of shapes) instead. For a reference they replace its default input.
    Options as on the command line: `dtype` (float32, float16, bfloat16, int8: bytes per element), `batch`,
    `convention`, `depth`, `edits={"ROW.ARG": value}` (`--set`), `rewrites=["two_3x3@conv2"]` (`--rewrite`);
    for references also `timeout` (seconds), `memory` ("8G", the worker's cap), `trust_pickle`, `trust_source`.
    Raises ModelError (the CLI's one-line message) when the model cannot be loaded or costed.
    """
    edits_, rewrites_ = _changes(edits, rewrites)
    dtype_ = _dtype(dtype)
    if input_size is not None:
        if example_inputs:
            raise TypeError("give example inputs or input_size, not both")
        sizes = list(input_size)
        example_inputs = tuple(sizes) if sizes and not isinstance(sizes[0], int) else (tuple(sizes),)
    if isinstance(model, Report):
        report = model.with_options(convention=convention, depth=depth)
        return _changed(report, edits_, rewrites_)
    if isinstance(model, CostReport):
        return _changed(Report(model, convention=convention, depth=depth), edits_, rewrites_)
    if isinstance(model, Graph):
        graph = model
        if batch is not None or dtype_ is not None:
            from netcost.model_io.worker.resolve import apply_graph_options

            graph = apply_graph_options(graph, LoadOptions(batch_size=batch, dtype=dtype_))
        report = Report(costed(graph, graph.name), convention=convention, depth=depth,
                        source=Source(name or graph.name))
        return _changed(report, edits_, rewrites_)
    if isinstance(model, (str, os.PathLike)):
        opts = LoadOptions(batch_size=batch, dtype=dtype_, inputs=_input_strings(example_inputs), timeout=timeout,
                           trust_pickle=trust_pickle, memory_mb=_memory_mb(memory))
        return _analyze_ref(os.fspath(model), opts, convention, depth, edits_, rewrites_, trust_source)
    try:
        from torch import nn
    except ImportError:
        nn = None  # type: ignore[assignment]
    if nn is not None and isinstance(model, nn.Module):
        return _analyze_live(model, example_inputs, name, dtype_, batch, convention, depth, edits_, rewrites_)
    raise TypeError(f"netcost.analyze takes an nn.Module, a reference string or path, a Graph or a Report, not "
                    f"{type(model).__name__}")


def _changed(report: Report, edits: dict[str, Any], rewrites: list[str]) -> Report:
    if edits:
        report = report.edit(edits)
    if rewrites:
        report = report.rewrite(*rewrites)
    return report


def _analyze_ref(ref: str, opts: LoadOptions, convention: str, depth: int | None, edits: dict[str, Any],
                 rewrites: list[str], trust_source: bool) -> Report:
    read_from_file = is_layer_list(ref) and not trust_source
    origin = RefOrigin.FILE if read_from_file else RefOrigin.USER
    source = Source(ref, remeasure=lambda g: measured_again(g, opts, origin))
    report = Report(costed(load_graph_ref(ref, opts), ref), convention=convention, depth=depth, source=source)
    return _changed(report, edits, rewrites)


def _analyze_live(model: Any, inputs: Sequence[Any], name: str | None, dtype: str | None, batch: int | None,
                  convention: str, depth: int | None, edits: dict[str, Any], rewrites: list[str]) -> Report:
    from . import live

    args: Sequence[Any] = inputs
    kwargs: dict[str, Any] = {}
    if len(inputs) == 1 and isinstance(inputs[0], Mapping):
        args, kwargs = (), dict(inputs[0])
    label = name or type(model).__name__
    try:
        graph = live.trace_live(model, args, kwargs, name=label, dtype=dtype, batch=batch)
    except (TypeError, ValueError):
        raise
    except Exception as e:
        raise ModelError(f"the forward of {label} raised {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                         ) from e
    specs = [i for i in live.input_specs([kwargs[k] for k in kwargs if _is_tensor(kwargs[k])] or list(args))]
    constants = {k: v for k, v in kwargs.items() if not _is_tensor(v)}
    names = [k for k in kwargs if _is_tensor(kwargs[k])]
    source = Source(label, remeasure=_live_remeasure(model, specs, names, constants, label))
    return _changed(Report(costed(graph, label), convention=convention, depth=depth, source=source), edits, rewrites)


def _is_tensor(v: Any) -> bool:
    import torch

    return isinstance(v, torch.Tensor)


def _live_remeasure(model: Any, specs: list[Any], names: list[str], constants: dict[str, Any], label: str) -> Any:
    """Measure a live model's stale opaque nodes again after an edit: trace a fresh weightless copy with the
    graph's layer edits applied to the copy's modules (the worker's retrace, in this process). The report keeps a
    reference to the model for this (never a copy of its weights)."""

    def remeasure(graph: Graph) -> Graph:
        from netcost.model_io.files.retrace import module_edits, remeasured, stale_opaque

        if not any(n.opaque for n in graph.nodes):
            return graph
        report = evaluate_graph(graph)
        stale = set(stale_opaque(report))
        if not stale:
            return graph
        blocker = next((p for p in report.problems if not p.stale and p.node_id not in stale), None)
        if blocker is not None:  # as model_io.files.retrace.retrace_blocker: a node that fails for another reason first
            raise ModelError(f"{graph.name}: cannot trace again with the edits: fix {blocker.name} first "
                             f"({blocker.message})")
        wanted = list(module_edits(report))

        def edit(copy: Any) -> None:
            from netcost.model_io.importers.module_swap import ModuleEditError, apply_module_edits

            try:
                apply_module_edits(copy, wanted)
            except ModuleEditError as e:
                raise ModelError(f"{label}: cannot apply the edits to the model's code: {e}") from None

        from . import live

        batched = [replace(s, shape=(graph.batch_size, *s.shape[1:])) if s.shape else s for s in specs]
        args, kwargs = (batched, {}) if not names else ((), {})
        if names:
            import torch

            from netcost.model_io.importers.cost_mode import TORCH_DTYPES

            kwargs = {n: torch.empty(s.shape, dtype=TORCH_DTYPES[s.dtype], device="meta")
                      for n, s in zip(names, batched, strict=True)}
        traced = live.trace_live(model, args, {**kwargs, **constants}, name=graph.name, dtype=graph.dtype,
                                 edit=edit)
        new, _, failed = remeasured(graph, report, traced)
        if failed:
            raise ModelError(f"{graph.name}: {next(iter(failed.values()))}")
        return new

    return remeasure
