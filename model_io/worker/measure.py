"""Worker side of `--measure`: run the model for real and time every row.

The model is built with real (randomly initialised) weights on the CPU, or on a CUDA GPU where torch sees one,
in eval mode without gradients. Forward hooks time every module the tracer makes a row of, synchronising the GPU
in each hook; after warm-up runs, each row's time is the median over the repetitions. Times are keyed by module
path: `times` is a module's whole call (a leaf layer's row), `self_times` a container's time less its children's
(its "own ops" row). A model that does not fit in memory is refused before anything is allocated.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from netcost.costing import CostReport

from ..errors import FailureKind, LoadFailure
from ..importers.model_build import build_python, example_inputs, resolve_inputs
from ..importers.module_specs import is_absorbing
from ..model_ref import RefKind, parse_ref
from .measure_client import available_bytes

OVERHEAD_BYTES = 512 << 20  # torch's own working memory beside weights and activations
FIT_FRACTION = 0.8  # of the memory free now: leave room for the rest of the machine


def needed_bytes(report: CostReport) -> int:
    """Weights plus every activation at once (an upper bound: eval frees most of them) plus torch's overhead."""
    return report.totals.param_bytes + report.totals.buffers * 4 + report.totals.activation_bytes + OVERHEAD_BYTES


def check_fits(report: CostReport, label: str, free: int) -> None:
    need = needed_bytes(report)
    if need > free * FIT_FRACTION:
        raise LoadFailure(f"{label}: not measured: running it needs about {_gib(need)} (weights "
                          f"{_gib(report.totals.param_bytes)}, activations {_gib(report.totals.activation_bytes)}) "
                          f"and {_gib(free)} is free on this machine", kind=FailureKind.MEMORY)


def _gib(n: float) -> str:
    return f"{n / (1 << 30):.1f} GiB"


def build_model(request: dict[str, Any], label: str, meta: bool = False, what: str = "not measured: timing"
                ) -> tuple[Any, list[tuple[tuple[int, ...], str]]]:
    """The model `request` names, with real weights or on the meta device, and its input specs. Zoo models and
    .py models only: their code is what runs (TorchScript and exported programs are frozen graphs)."""
    ref = parse_ref(str(request["ref"]))
    if ref.kind is RefKind.ZOO:
        from netcost.resources.zoo_models import ZOO

        entry = ZOO[ref.path]
        if entry.meta_only and not meta:
            raise LoadFailure(f"{label}: not measured: this config is built on the meta device only (its weights "
                              f"would not fit in memory)", kind=FailureKind.MEMORY)
        if meta:
            from ..importers.tracer import meta_construction

            with meta_construction():
                return entry.build(), resolve_inputs(request, list(entry.inputs), label)
        return entry.build(), resolve_inputs(request, list(entry.inputs), label)
    if ref.kind is RefKind.PYTHON:
        model, _, module = build_python(ref, meta=meta)
        return model, resolve_inputs(request, example_inputs([module, model], label), label)
    raise LoadFailure(f"{label}: {what} runs zoo models and .py models (file.py:Name); this reference is "
                      f"{ref.kind}", kind=FailureKind.USAGE)


def module_paths(model: Any) -> dict[int, str]:
    """id(module) -> path of every module the tracer makes rows of (a module reachable under two names keeps its
    first, as traced; the inside of a layer NetCost costs as a whole is not walked)."""
    paths: dict[int, str] = {}

    def walk(path: str, module: Any) -> None:
        if id(module) in paths:
            return
        paths[id(module)] = path
        if not is_absorbing(module):
            for name, child in module.named_children():
                walk(f"{path}.{name}" if path else name, child)

    walk("", model)
    return paths


def make_inputs(specs: list[tuple[tuple[int, ...], str]], device: str, dtype: Any) -> list[Any]:
    """Tensors for the forward: random floats, zeros for token ids (a valid index of every embedding)."""
    import torch  # heavy: worker only

    out = []
    for shape, dt in specs:
        tdt = getattr(torch, dt, None)
        if tdt is None or not tdt.is_floating_point:
            out.append(torch.zeros(shape, dtype=tdt or torch.int64, device=device))
        else:
            out.append(torch.randn(shape, device=device, dtype=dtype))
    return out


class _Timer:
    """Forward hooks on the modules the tracer makes rows of: per call, the module's time and its children's."""

    def __init__(self, model: Any, sync: Any) -> None:
        self.sync = sync
        self.paths = module_paths(model)
        self.stack: list[list[float]] = []  # [start, children's time] per open call
        self.times: dict[str, float] = {}
        self.self_times: dict[str, float] = {}
        self.handles = [h for m in model.modules() if id(m) in self.paths
                        for h in (m.register_forward_pre_hook(self._enter), m.register_forward_hook(self._exit))]

    def _enter(self, module: Any, args: Any) -> None:
        self.sync()
        self.stack.append([time.perf_counter(), 0.0])

    def _exit(self, module: Any, args: Any, output: Any) -> None:
        self.sync()
        start, children = self.stack.pop()
        spent = time.perf_counter() - start
        if self.stack:
            self.stack[-1][1] += spent
        path = self.paths[id(module)]
        self.times[path] = self.times.get(path, 0.0) + spent  # a module called twice: both calls, as traced
        self.self_times[path] = self.self_times.get(path, 0.0) + spent - children

    def reset(self) -> None:
        self.times, self.self_times = {}, {}

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def measure(request: dict[str, Any], report: CostReport) -> dict[str, Any]:
    """Time `request`'s model for real (see the module docstring); `report` is its count, for the memory check."""
    import torch  # heavy: worker only

    opts = request.get("measure") or {}
    repeats = max(1, int(opts.get("repeats", 5)))
    warmup = max(0, int(opts.get("warmup", 2)))
    label = parse_ref(str(request["ref"])).label()
    device = "cuda" if torch.cuda.is_available() and opts.get("device", "auto") != "cpu" else "cpu"
    free = torch.cuda.mem_get_info()[0] if device == "cuda" else available_bytes()
    check_fits(report, label, free)
    torch.set_num_threads(max(1, int(opts.get("threads", 1))))
    # random weights drive some activations subnormal, which x86 CPUs compute ~30x slower (ResNet-18: 0.9 s a
    # forward instead of 0.03 s); a trained network's would not be, so flush them to zero as inference would
    torch.set_flush_denormal(True)
    dtype = getattr(torch, report.dtype)
    model, specs = build_model(request, label)
    model = model.to(device=device, dtype=dtype).eval()
    inputs = make_inputs(specs, device, dtype)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    runs: list[tuple[dict[str, float], dict[str, float]]] = []
    forwards: list[float] = []
    try:
        with torch.no_grad():
            for _ in range(warmup):
                model(*inputs)
            for _ in range(repeats):  # the whole forward without hooks, for the hooks' overhead
                sync()
                t0 = time.perf_counter()
                model(*inputs)
                sync()
                forwards.append(time.perf_counter() - t0)
            timer = _Timer(model, sync)
            for _ in range(repeats):
                timer.reset()
                model(*inputs)
                runs.append((timer.times, timer.self_times))
            timer.remove()
    except torch.OutOfMemoryError:
        raise LoadFailure(f"{label}: not measured: ran out of {device} memory", kind=FailureKind.MEMORY) from None
    return {"device": device if device == "cpu" else torch.cuda.get_device_name(0), "threads": torch.get_num_threads(),
            "repeats": repeats, "warmup": warmup, "dtype": report.dtype, "forward_s": statistics.median(forwards),
            "times": _medians([r[0] for r in runs]), "self_times": _medians([r[1] for r in runs])}


def _medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r.get(k, 0.0) for r in runs) for k in runs[0]} if runs else {}


def measure_answer(request: dict[str, Any], report: CostReport) -> dict[str, Any]:
    """The worker answer's measurement part: {"measured": ...}, or {"measure_error": one line} when refused or
    failed (the count in the same answer stays valid)."""
    label = str(request.get("ref"))
    try:
        return {"measured": measure(request, report)}
    except LoadFailure as e:
        return {"measure_error": e.message}
    except MemoryError:
        return {"measure_error": f"{label}: not measured: ran out of memory"}
    except Exception as e:  # the real forward can fail where the meta one did not
        return {"measure_error": f"{label}: not measured: the real forward raised {type(e).__name__}: "
                                 f"{str(e).strip().splitlines()[0][:200] if str(e).strip() else ''}"}
