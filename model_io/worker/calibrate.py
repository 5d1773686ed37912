"""Calibrate "this machine": peak GEMM FLOP/s per dtype and copy bandwidth, by a short micro-benchmark.

Runs in a child process (`python -m netcost.model_io.worker.calibrate` prints the devices as JSON), so the CLI and the
app get the same numbers without importing torch themselves. Peaks are the best of many short repetitions (a roof is
what the machine can reach, not what it averages); the thread count is the one `--measure` uses
(model_io.worker.measure).

The CPU's GEMM peak is the best over several matrix sizes: a run of a few milliseconds fits between other processes'
time slices on a busy machine, where one 1024³ product (20 ms) never runs undisturbed (on the 2-core development machine
beside three busy processes: 1024³ 38 GFLOP/s, 512³ 112; idle: 111 and 215, since 512³ also stays in the caches).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from netcost.costing.devices import THIS_MACHINE, Device, DeviceError, parse_devices

from .worker_client import worker_env

GEMM_N = 1024  # 2.1 GFLOP per fp32 GEMM: tens of ms on a laptop core, large enough to reach the BLAS peak
CPU_GEMM_SIZES = (256, 384, 512, 768, GEMM_N)  # short runs first; the best of them is the roof
SIZE_BUDGET_S = 0.2  # per size of the sweep
COPY_BYTES = 64 << 20  # far beyond the last-level cache, so the copy runs at memory speed
BUDGET_S = 0.4  # per figure, after one warm-up
CALIBRATED_DTYPES = ("fp32", "fp16", "bf16")
PROBE_N = 256
PROBE_FAST = 10e9  # FLOP/s: a half type this fast on the probe has native units; measure it at full size


def threads() -> int:
    """The CPU threads timings use: NETCOST_THREADS if set, else the cores this process may run on."""
    given = os.environ.get("NETCOST_THREADS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def timing_env() -> dict[str, str]:
    """The worker's environment with OpenMP sized for timing: the worker's default of one thread is for counting,
    and raising it later at run time leaves the first forwards 10x slow (ResNet-18: 0.5 s instead of 0.05 s)."""
    env = worker_env()
    env["OMP_NUM_THREADS"] = str(threads())
    # idle OpenMP threads sleep instead of spinning: on a busy machine spinning threads steal each other's time
    # slices (ResNet-18 on 2 shared cores: 0.4-0.7 s a forward spinning, 0.07 s passive)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def best_time(fn: Callable[[], Any], sync: Callable[[], None], budget_s: float = BUDGET_S, max_reps: int = 200
              ) -> float:
    """The fastest of repeated calls (after one warm-up), stopping after `budget_s` or `max_reps`."""
    fn()
    sync()
    best = float("inf")
    start = time.perf_counter()
    for _ in range(max_reps):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s:
            break
    return best


def _sync_for(device: str) -> Callable[[], None]:
    import torch  # heavy: only the calibration child process imports it

    return torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)


def gemm_flops(dtype: str = "fp32", n: int = GEMM_N, device: str = "cpu", budget_s: float = BUDGET_S) -> float:
    """FLOP/s of an n×n×n matrix product (2·n³ FLOPs) in `dtype`."""
    import torch  # heavy: only the calibration child process imports it

    tdt = {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
    a = torch.randn(n, n, device=device).to(tdt)
    b = torch.randn(n, n, device=device).to(tdt)
    out = torch.empty(n, n, device=device, dtype=tdt)
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = dtype == "tf32"
    try:
        t = best_time(lambda: torch.mm(a, b, out=out), _sync_for(device), budget_s)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    return 2 * n ** 3 / t


def copy_bandwidth(nbytes: int = COPY_BYTES, device: str = "cpu", budget_s: float = BUDGET_S) -> float:
    """Bytes/s of a large tensor copy, counting the bytes read and the bytes written (as memory access does)."""
    import torch  # heavy: only the calibration child process imports it

    src = torch.ones(nbytes // 4, device=device)
    dst = torch.empty_like(src)
    t = best_time(lambda: dst.copy_(src), _sync_for(device), budget_s)
    return 2 * nbytes / t


def best_rate(rates: Mapping[int, float]) -> tuple[int, float]:
    """The matrix size that reached the highest FLOP/s, and that rate (sizes that gave no finite, positive rate —
    a run too short for the clock — are passed over)."""
    valid = {n: r for n, r in rates.items() if math.isfinite(r) and r > 0}
    if not valid:
        raise DeviceError("calibration: no GEMM size gave a usable time")
    n = max(valid, key=lambda k: (valid[k], -k))
    return n, valid[n]


def gemm_peak(dtype: str, sizes: Sequence[int] = CPU_GEMM_SIZES) -> tuple[int, float]:
    """The best FLOP/s over `sizes` (short runs of each), with the size that reached it."""
    return best_rate({n: gemm_flops(dtype, n, budget_s=SIZE_BUDGET_S) for n in sizes})


def _cpu_peak(dtype: str) -> float:
    """The sweep's best; half types first on a small probe, since CPUs without native fp16/bf16 units run
    them 100x slower (a sweep would take seconds) and the probe is then the figure."""
    if dtype != "fp32":
        probe = gemm_flops(dtype, PROBE_N, budget_s=0.1)
        if probe <= PROBE_FAST:
            return probe
    return gemm_peak(dtype)[1]


def calibrate(dtypes: tuple[str, ...] = CALIBRATED_DTYPES) -> tuple[Device, ...]:
    """This machine's CPU (and its CUDA GPU, if torch sees one) as devices."""
    import torch  # heavy: only the calibration child process imports it

    torch.set_num_threads(threads())
    cpu = Device(THIS_MACHINE, {dt: _cpu_peak(dt) for dt in dtypes}, copy_bandwidth(),
                 f"calibrated: best torch.mm of {CPU_GEMM_SIZES[0]}³…{CPU_GEMM_SIZES[-1]}³ and a "
                 f"{COPY_BYTES >> 20} MiB copy, {threads()} threads, torch {torch.__version__}, "
                 f"{time.strftime('%Y-%m-%d')}", "cpu")
    out = [cpu]
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        peaks = {dt: gemm_flops(dt, 4096, "cuda") for dt in ("fp32", "tf32", "fp16", "bf16")}
        out.append(Device(f"{THIS_MACHINE}-cuda", peaks, copy_bandwidth(1 << 30, "cuda"),
                          f"calibrated: {name}, torch.mm 4096³ and a 1 GiB copy", "gpu"))
    return tuple(out)


def calibrate_in_subprocess(timeout: float = 120.0) -> tuple[Device, ...]:
    """Run `calibrate` in a child process; DeviceError with one line when it fails."""
    try:
        proc = subprocess.run([sys.executable, "-m", "netcost.model_io.worker.calibrate"], capture_output=True,
                              text=True, env=timing_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DeviceError(f"calibration gave no answer within {timeout:g} s") from None
    return interpret_calibration(proc.returncode, proc.stdout, proc.stderr)


def interpret_calibration(returncode: int, stdout: str, stderr: str) -> tuple[Device, ...]:
    """The devices a `python -m netcost.model_io.worker.calibrate` child printed, or DeviceError with its last error
    line."""
    try:
        return parse_devices(json.loads(stdout), "calibration")
    except (json.JSONDecodeError, DeviceError):
        last = (stderr.strip().splitlines() or [f"exit code {returncode}"])[-1]
        raise DeviceError(f"calibration failed: {last[:200]}") from None


def main() -> None:
    print(json.dumps({"devices": [d.as_dict() for d in calibrate()]}))


if __name__ == "__main__":
    main()
