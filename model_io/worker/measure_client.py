"""Parent side of `--measure`: one worker request counts the model and times it for real (model_io.worker.measure).

Request: the usual fields (model_io.worker.worker_client) plus `"measure": {"repeats", "warmup", "threads", "device"}`.
Answer: the usual one plus `"measured": {"device", "threads", "repeats", "warmup", "dtype", "forward_s",
"times": {module path: s}, "self_times": {module path: s}}` or `"measure_error": "one line"`. No torch here.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from netcost.costing import CostReport, Network, evaluate

from ..errors import ModelError
from ..files.torch_zoo_index import TORCH_ZOO_META_ONLY
from ..memory_cap import DEFAULT_MEMORY_MB
from ..model_ref import RefError, RefKind, parse_ref
from ..options import LoadOptions
from .calibrate import threads, timing_env
from .resolve import apply_options, is_layer_list, load_layer_list
from .worker_client import check_request, interpret, request_for, run_worker

DEFAULT_REPEATS = 5


@dataclass(frozen=True)
class Measurement:
    device: str  # "cpu" or the GPU's name
    threads: int
    repeats: int
    forward_s: float  # median of whole forwards without hooks
    times: dict[str, float]  # median per module path, whole calls
    self_times: dict[str, float]  # containers: their own ops (time less their children's)
    by_index: bool = False  # a layer list run as its exported nn.Sequential: row i is the module named "i"

    def row_seconds(self, report: CostReport) -> list[float | None]:
        """Measured seconds per row of report.layers (None where no module of that path ran): a container's own
        ops row gets its self time, a leaf layer its whole calls."""
        if self.by_index:  # a layer list or graph file, run as its export-torch Model
            from ..files.export_torch import module_attributes

            attrs = module_attributes(report.graph)
            return [self.times.get(attrs.get(r.node_id or r.name, "")) for r in report.layers]
        # a traced model: a module's calls share its time; functional ops inside a container are not timed one by
        # one (module hooks see the container as a whole: its own ops' time is in self_times)
        graph = report.graph
        calls = graph.modules if graph is not None else {}
        out: list[float | None] = []
        for r in report.layers:
            node = graph.node(r.node_id) if graph is not None and graph.has(r.node_id) else None
            module = node.module if node is not None and node.module else r.path
            t = self.times.get(module) if module else None
            out.append(t / len(calls.get(module, (module,))) if t is not None else None)
        return out


def available_bytes() -> int:
    """Memory free for a new allocation now (Linux MemAvailable; elsewhere all physical memory)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def check_dtype(label: str, dtype: str | None) -> None:
    """int8 is a counting setting (bytes per element), not something torch can run these layers in."""
    if dtype == "int8":
        raise ModelError(f"{label}: not measured: torch has no int8 kernels for these layers (measure it in "
                         f"float32, float16 or bfloat16)")


def measure_refusal(ref: str | None, dtype: str | None) -> str | None:
    """Why the model opened from `ref` (None: a layer list, measured as its exported nn.Sequential) cannot be
    timed, in one line; None when it can. What the worker would refuse, said before anything runs (no torch)."""
    if dtype == "int8":
        return "torch has no int8 kernels for these layers: measure it in float32, float16 or bfloat16"
    if ref is None:
        return None
    try:
        parsed = parse_ref(ref)
    except RefError as e:
        return str(e)
    if parsed.kind is RefKind.ZOO:
        if parsed.path in TORCH_ZOO_META_ONLY:
            return "this config is built on the meta device only: its weights would not fit in memory"
        return None
    if parsed.kind is RefKind.PYTHON:
        return None
    what = {"torchvision": "torchvision models", "timm": "timm models", "hf": "Hugging Face configs",
            "onnx": "ONNX files", "torchscript": "TorchScript files", "export": "exported programs (.pt2)"}
    return (f"timing runs zoo models, .py models (file.py:Name) and layer lists; {what.get(parsed.kind, parsed.kind)} "
            f"are counted only")


def measure_request(ref: str, opts: LoadOptions, repeats: int = DEFAULT_REPEATS, warmup: int = 2) -> dict:
    """The worker request that counts `ref` and times it (ModelError for what cannot be measured at all)."""
    check_dtype(ref, opts.dtype)
    # real weights need more than the counting cap; the worker itself refuses what would not fit
    limit = max(DEFAULT_MEMORY_MB, available_bytes() >> 20)
    request = request_for(ref, opts, limit)
    request["measure"] = {"repeats": repeats, "warmup": warmup, "threads": threads()}
    return request


def interpret_measured(ref: str, returncode: int, stdout: str, stderr: str) -> tuple[CostReport, Measurement]:
    """The report and the measurement of a worker's answer; ModelError when the measurement was refused."""
    report = interpret(ref, returncode, stdout, stderr)
    answer = json.loads(stdout)
    if "measured" not in answer:
        raise ModelError(str(answer.get("measure_error") or f"{ref}: not measured"))
    m = answer["measured"]
    return report, Measurement(str(m["device"]), int(m["threads"]), int(m["repeats"]), float(m["forward_s"]),
                               {str(k): float(v) for k, v in m["times"].items()},
                               {str(k): float(v) for k, v in m["self_times"].items()})


def measure_in_worker(ref: str, opts: LoadOptions, repeats: int = DEFAULT_REPEATS) -> tuple[CostReport, Measurement]:
    """Count and time `ref` in a fresh worker. ModelError (one line) when it cannot be measured."""
    if is_layer_list(ref):
        return measure_network(apply_options(load_layer_list(ref), opts), opts.timeout, repeats)
    check_request(ref, opts)
    code, out, err = run_worker(measure_request(ref, opts, repeats), opts.timeout, timing_env())
    return interpret_measured(ref, code, out, err)


def network_source(net: Network, folder: str | Path) -> str:
    """Write `net` as runnable PyTorch (`netcost export-torch`) into `folder`; returns the reference to measure."""
    from ..files.export_torch import to_torch_source

    try:
        source = to_torch_source(net)
    except ValueError as e:  # an invalid list (LayerError is a ValueError)
        raise ModelError(f"{net.name}: not measured: {e}") from None
    path = Path(folder) / "netcost_layers.py"
    path.write_text(source, encoding="utf-8")
    return f"{path}:build"


def renamed(message: str, ref: str, name: str) -> str:
    """A worker message about an exported layer list, naming the list instead of its temporary file (a model
    measured under its own reference keeps the message as it is: its file name is part of that reference)."""
    if name == ref:
        return message
    return message.replace(ref, name).replace(Path(ref).name, name)


def by_index(measurement: Measurement) -> Measurement:
    """The measurement of an exported layer list, its rows matched by position."""
    return replace(measurement, by_index=True)


def measure_network(net: Network, timeout: float = 120.0, repeats: int = DEFAULT_REPEATS
                    ) -> tuple[CostReport, Measurement]:
    """Time a layer list for real: its exported nn.Sequential runs in the worker, row i timed as module i."""
    check_dtype(net.name, net.dtype)
    report = evaluate(net)
    with tempfile.TemporaryDirectory(prefix="netcost-measure-") as folder:
        ref = network_source(net, folder)
        try:
            _, m = measure_in_worker(ref, LoadOptions(dtype=net.dtype, timeout=timeout), repeats)
        except ModelError as e:
            raise ModelError(renamed(str(e), ref, net.name)) from None
    return report, by_index(m)
