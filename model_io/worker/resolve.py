"""One resolver for model references, used by the CLI and the GUI.

`zoo:NAME` and `*.json` are layer lists, costed here; every other reference (PyTorch files, TorchScript,
`torch.export`, ONNX, torch zoo models) is loaded and traced in the isolated worker (model_io.worker.worker).
"""

from __future__ import annotations

import os
from dataclasses import replace

from netcost.costing import CostReport, FormatError, Network
from netcost.costing.graph import Graph
from netcost.costing.graph_eval import evaluate_graph

from .. import escape
from ..errors import ModelError
from ..files import zoo
from ..files.graph_file import load_graph
from ..files.layer_file import load_network
from ..files.retrace import module_edits, remeasured, retrace_blocker, stale_opaque
from ..model_ref import split_dims
from ..options import LoadOptions, RefOrigin
from .worker_client import graph_in_worker

TRUST_SOURCE_HINT = "pass --trust-source"
BUILT_IN_PREFIXES = ("zoo:", "torchvision:", "timm:")  # code NetCost ships or the user installed, no file's


def runs_code(ref: str) -> bool:
    """Whether tracing `ref` runs code from a file (a .py model, a pickle, an hf: config's folder): everything but
    the built-in and library builders."""
    return not ref.startswith(BUILT_IN_PREFIXES)


def untrusted_source(graph: Graph, origin: RefOrigin) -> str:
    """The reference tracing `graph` again would run without the user's consent ("" when there is none)."""
    ref = str(graph.source.get("ref") or "")
    return ref if ref and origin is RefOrigin.FILE and runs_code(ref) else ""


def is_layer_list(ref: str) -> bool:
    if ref.startswith(("torchvision:", "timm:", "hf:")):  # hf:config.json is a transformers config
        return False
    if ref.startswith("zoo:"):
        return ref[4:] in zoo.model_names()
    return ref.lower().endswith(".json")


def _must_exist(ref: str) -> None:
    """ModelError unless the file exists; a name the OS refuses (over the file-name limit) says why, in one line."""
    try:
        os.stat(ref)
    except FileNotFoundError:
        raise ModelError(f"{ref}: no such file") from None
    except OSError as e:
        raise ModelError(f"{escape.short_path(ref)}: {e.strerror or e}") from None


def load_layer_list(ref: str) -> Network:
    """The network of a layer-list reference (`zoo:NAME` or a .json path); raises ModelError."""
    try:
        if ref.startswith("zoo:"):
            return zoo.load_layer_list(ref[4:])
        _must_exist(ref)
        return load_network(ref)[0]
    except FormatError as e:
        raise ModelError(f"{ref}: {e}") from None


def apply_options(net: Network, opts: LoadOptions) -> Network:
    changes: dict[str, object] = {}
    if opts.batch_size is not None:
        changes["batch_size"] = opts.batch_size
    if opts.dtype is not None:
        changes["dtype"] = opts.dtype
    if opts.inputs:
        if len(opts.inputs) != 1:
            raise ModelError("a layer list takes exactly one --input")
        dims = _parse_dims(opts.inputs[0].split(":")[-1])
        changes["batch_size"], changes["input_shape"] = dims[0], dims[1:]
    try:
        return replace(net, **changes) if changes else net
    except ValueError as e:
        raise ModelError(str(e)) from None


def _parse_dims(text: str) -> tuple[int, ...]:
    try:
        dims = split_dims(text)
    except ValueError:
        raise ModelError(f"--input {text!r}: expected comma-separated sizes such as 1,3,224,224") from None
    if len(dims) < 2 or any(d < 1 for d in dims):
        raise ModelError(f"--input {text!r}: give the batch and at least one more positive size")
    return dims


def load_report(ref: str, opts: LoadOptions | None = None) -> CostReport:
    """Cost any supported model reference. Raises ModelError with a one-line message on bad input."""
    return evaluate_graph(load_graph_ref(ref, opts))


def load_graph_ref(ref: str, opts: LoadOptions | None = None) -> Graph:
    """The graph of any supported model reference: a layer list or graph file read here, anything else traced in
    the isolated worker. Raises ModelError with a one-line message on bad input."""
    opts = opts or LoadOptions()
    if is_layer_list(ref):
        try:
            if ref.startswith("zoo:"):
                graph = zoo.load_model_graph(ref[4:])
            else:
                _must_exist(ref)
                graph = load_graph(ref)[0]
        except FormatError as e:
            raise ModelError(f"{ref}: {e}") from None
        return apply_graph_options(graph, opts)
    return graph_in_worker(ref, opts)


def measured_again(graph: Graph, opts: LoadOptions | None = None, origin: RefOrigin = RefOrigin.FILE) -> Graph:
    """`graph` (a traced model, edited) with its stale opaque nodes measured again: the model is traced once more
    in the worker with the graph's layer edits applied to its code. Unchanged when nothing is stale; ModelError with
    the reason when tracing again cannot cost them, or when its reference came from a file (`origin`) and would run
    code: a graph file must not make NetCost run the model it names unless the user trusts it."""
    if not any(n.opaque for n in graph.nodes):  # nothing measured: nothing can be stale (no evaluation needed)
        return graph
    report = evaluate_graph(graph)
    if not stale_opaque(report):
        return graph
    blocker = retrace_blocker(report)
    if blocker:
        raise ModelError(f"{graph.name}: cannot trace again with the edits: {blocker}")
    ref = untrusted_source(graph, origin)
    if ref:
        raise ModelError(f"{graph.name}: the edit needs the model traced again, which would run {ref} (the graph "
                         f"file's source): {TRUST_SOURCE_HINT} if you trust that file")
    traced = load_graph_ref(str(graph.source["ref"]), retrace_options(report, opts))
    new, _, failed = remeasured(graph, report, traced)
    if failed:
        raise ModelError(f"{graph.name}: {next(iter(failed.values()))}")
    return new


def retrace_options(report: CostReport, opts: LoadOptions | None = None) -> LoadOptions:
    """The options that trace `report`'s model again as it is now: its inputs (as given, else as it was traced
    with), batch size and dtype, and its layer edits for the worker to apply (model_io.files.retrace)."""
    graph = report.graph
    assert graph is not None
    base = opts or LoadOptions()
    given = graph.source.get("inputs")
    inputs = base.inputs or (tuple(str(x) for x in given) if isinstance(given, list) else ())
    return replace(base, inputs=inputs, batch_size=graph.batch_size, dtype=graph.dtype,
                   module_edits=module_edits(report))


def apply_graph_options(graph: Graph, opts: LoadOptions) -> Graph:
    """--batch, --dtype and --input on a graph read from a file (a traced model is traced with them instead)."""
    inputs = list(graph.inputs)
    if opts.inputs:
        if len(opts.inputs) != len(inputs):
            raise ModelError(f"{graph.name} takes {len(inputs)} input(s) ({', '.join(graph.input_names)}); "
                             f"{len(opts.inputs)} --input given")
        inputs = [replace(gi, shape=_parse_dims(text.split(":")[-1])) for gi, text in zip(inputs, opts.inputs,
                                                                                         strict=True)]
    if opts.batch_size is not None:
        inputs = [replace(gi, shape=(opts.batch_size, *gi.shape[1:])) for gi in inputs]
    try:
        return replace(graph, inputs=tuple(inputs), dtype=opts.dtype or graph.dtype)
    except ValueError as e:
        raise ModelError(str(e)) from None
