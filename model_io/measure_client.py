"""Parent side of `--measure`: one worker request counts the model and times it for real (model_io.measure).

Request: the usual fields (model_io.worker_client) plus `"measure": {"repeats", "warmup", "threads", "device"}`.
Answer: the usual one plus `"measured": {"device", "threads", "repeats", "warmup", "dtype", "forward_s",
"times": {module path: s}, "self_times": {module path: s}}` or `"measure_error": "one line"`. No torch here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from costing import CostReport

from .resolve import LoadOptions, ModelError, is_layer_list

DEFAULT_REPEATS = 5


@dataclass(frozen=True)
class Measurement:
    device: str  # "cpu" or the GPU's name
    threads: int
    repeats: int
    forward_s: float  # median of whole forwards without hooks
    times: dict[str, float]  # median per module path, whole calls
    self_times: dict[str, float]  # containers: their own ops (time less their children's)

    def row_seconds(self, report: CostReport) -> list[float | None]:
        """Measured seconds per row of report.layers (None where no module of that path ran): a container's own
        ops row gets its self time, a leaf layer its whole calls."""
        containers = {n.path for n in report.hierarchy}
        return [(self.self_times if r.path in containers else self.times).get(r.path) for r in report.layers]


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


def timing_env() -> dict[str, str]:
    """The worker's environment with OpenMP sized for timing: the worker's default of one thread is for counting,
    and raising it later at run time leaves the first forwards 10x slow (ResNet-18: 0.5 s instead of 0.05 s)."""
    from .calibrate import threads
    from .worker_client import worker_env

    env = worker_env()
    env["OMP_NUM_THREADS"] = str(threads())
    # idle OpenMP threads sleep instead of spinning: on a busy machine spinning threads steal each other's time
    # slices (ResNet-18 on 2 shared cores: 0.4-0.7 s a forward spinning, 0.07 s passive)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def measure_request(ref: str, opts: LoadOptions, repeats: int = DEFAULT_REPEATS, warmup: int = 2) -> dict:
    from .calibrate import threads
    from .worker_client import DEFAULT_MEMORY_MB, request_for

    # real weights need more than the counting cap; the worker itself refuses what would not fit
    limit = max(DEFAULT_MEMORY_MB, available_bytes() >> 20)
    request = request_for(ref, opts, limit)
    request["measure"] = {"repeats": repeats, "warmup": warmup, "threads": threads()}
    return request


def interpret_measured(ref: str, returncode: int, stdout: str, stderr: str) -> tuple[CostReport, Measurement]:
    """The report and the measurement of a worker's answer; ModelError when the measurement was refused."""
    from .worker_client import interpret

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
        raise ModelError(f"{ref}: not measured: --measure runs PyTorch models (zoo models such as zoo:resnet18, or "
                         f"file.py:Name); export a layer list with `netcost export-torch` first")
    from .worker_client import check_request, run_worker

    check_request(ref, opts)
    code, out, err = run_worker(measure_request(ref, opts, repeats), opts.timeout, timing_env())
    return interpret_measured(ref, code, out, err)
