"""Roofline latency: a derived analysis of a `CostReport` for one `Device` (the records are not widened).

Per layer, `latency = max(FLOPs / peak[dtype], memory-access bytes / bandwidth, launch floor)`, under the no-fusion
convention below; the bound is whichever term is largest. The model's latency is the sum over layers.

The launch floor (`Device.launch_overhead_us`) is the shortest time a kernel takes however little it does. It is a
max, not an added term: a GPU queues launches asynchronously, so while one kernel runs the next one's launch is
already done; only kernels shorter than the launch interval wait for it (adding it would charge every long kernel a
launch it does not wait for). A row that does no work (a view) launches nothing and stays at zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .devices import Device
from .records import CostReport, LayerCost

CONVENTION = "roofline, no fusion"
CONVENTION_TEXT = ("roofline, no fusion: each layer is its own kernel that reads its inputs and weights from memory "
                   "and writes its output back, layers run one after another; latency = max(FLOPs / peak, "
                   "memory-access bytes / bandwidth, launch floor per kernel)")
# "launch": the launch floor is longer than the roofline time; "none": a row that does no work (a view such as Flatten)
BOUNDS = ("compute", "memory", "launch", "none")
TIMED_BOUNDS = BOUNDS[:3]  # the bounds that hold time


@dataclass(frozen=True)
class RowLatency:
    seconds: float
    compute_s: float  # FLOPs / peak
    memory_s: float  # bytes / bandwidth
    flops: int
    bytes: int
    bound: str

    @property
    def intensity(self) -> float:
        """FLOPs per byte (the roofline's x)."""
        return self.flops / self.bytes if self.bytes else 0.0

    @property
    def attained_flops(self) -> float:
        """FLOP/s this layer reaches under the model (the roofline's y)."""
        return self.flops / self.seconds if self.seconds else 0.0


def roofline_time(flops: int, nbytes: int, peak: float, bandwidth: float, floor: float = 0.0) -> RowLatency:
    """One kernel: the longer of its compute and memory times, and never under `floor` (its launch floor, s)."""
    compute, memory = flops / peak, nbytes / bandwidth
    if not (flops or nbytes):
        return RowLatency(0.0, compute, memory, flops, nbytes, "none")
    roof = max(compute, memory)
    bound = "launch" if floor > roof else "compute" if compute >= memory else "memory"
    return RowLatency(max(roof, floor), compute, memory, flops, nbytes, bound)


def combine(rows: Sequence[RowLatency]) -> RowLatency:
    """Several layers run one after another (a collapsed container, the whole model): times add; the bound is
    the one holding most of the time."""
    by_bound = {b: sum(r.seconds for r in rows if r.bound == b) for b in BOUNDS}
    total = sum(r.seconds for r in rows)
    bound = "none" if not total else max(TIMED_BOUNDS, key=lambda b: by_bound[b])
    return RowLatency(total, sum(r.compute_s for r in rows), sum(r.memory_s for r in rows),
                      sum(r.flops for r in rows), sum(r.bytes for r in rows), bound)


@dataclass(frozen=True)
class LatencyEstimate:
    device: Device
    peak_key: str  # which peak was used ("fp32", "fp16", ...)
    peak_flops: float
    rows: tuple[RowLatency, ...]  # one per report.layers, in order
    # the sum of `rows` (`combine`) and its seconds per bound (TIMED_BOUNDS), when already known: an edit's
    # estimate (`updated_estimate`) corrects them instead of summing 100k rows again
    known_total: RowLatency | None = field(default=None, compare=False, repr=False)
    bound_seconds: tuple[float, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def total(self) -> RowLatency:
        return self.known_total if self.known_total is not None else combine(self.rows)

    @property
    def total_s(self) -> float:
        return self.total.seconds

    @property
    def bandwidth(self) -> float:
        return self.device.memory_bandwidth

    @property
    def ridge_point(self) -> float:
        """FLOPs per byte where the compute roof meets the memory roof."""
        return self.peak_flops / self.device.memory_bandwidth

    def attainable(self, intensity: float) -> float:
        """The roof: the most FLOP/s a kernel of this arithmetic intensity can reach on the device."""
        return min(self.peak_flops, intensity * self.device.memory_bandwidth)

    def span(self, first: int, last: int) -> RowLatency:
        """Rows first..last (inclusive) of report.layers run in sequence."""
        return combine(self.rows[first:last + 1])


def layer_latency(layer: LayerCost, peak: float, bandwidth: float, floor: float = 0.0) -> RowLatency:
    return roofline_time(layer.flops, layer.memory_access_bytes, peak, bandwidth, floor)


def estimate(report: CostReport, device: Device, compute_dtype: str | None = None) -> LatencyEstimate:
    """Per-layer roofline latency of `report` on `device`, at the report's dtype unless `compute_dtype` (a peak
    key such as "tf32", or a document dtype) says otherwise."""
    peak, key = device.peak(compute_dtype or report.dtype)
    bw, floor = device.memory_bandwidth, device.launch_floor_s
    rows = tuple(layer_latency(r, peak, bw, floor) for r in report.layers)
    by_bound = tuple(sum(r.seconds for r in rows if r.bound == b) for b in TIMED_BOUNDS)
    return LatencyEstimate(device, key, peak, rows, combine(rows), by_bound)


def updated_estimate(est: LatencyEstimate, before: CostReport, report: CostReport) -> LatencyEstimate | None:
    """`est`, the estimate of `before`, for `report`, an edit of it at the same dtype: the rows of layers whose
    records are the same objects are kept, and the total is corrected by the changed rows (an identity scan
    instead of a roofline and a sum per row). None when the rows or the dtype changed: estimate afresh."""
    if len(before.layers) != len(report.layers) or before.dtype != report.dtype or est.bound_seconds is None:
        return None
    rows = list(est.rows)
    total = est.total
    seconds, compute_s, memory_s, flops, nbytes = total.seconds, total.compute_s, total.memory_s, total.flops, \
        total.bytes
    by_bound = dict(zip(TIMED_BOUNDS, est.bound_seconds, strict=True))
    bw, floor = est.device.memory_bandwidth, est.device.launch_floor_s
    for i, (old_layer, layer) in enumerate(zip(before.layers, report.layers, strict=True)):
        if old_layer is layer:
            continue
        old, new = rows[i], layer_latency(layer, est.peak_flops, bw, floor)
        rows[i] = new
        seconds += new.seconds - old.seconds
        compute_s += new.compute_s - old.compute_s
        memory_s += new.memory_s - old.memory_s
        flops += new.flops - old.flops
        nbytes += new.bytes - old.bytes
        for r, sign in ((old, -1), (new, 1)):
            if r.bound in by_bound:
                by_bound[r.bound] += sign * r.seconds
    bound = "none" if not seconds else max(TIMED_BOUNDS, key=lambda b: by_bound[b])
    return LatencyEstimate(est.device, est.peak_key, est.peak_flops, tuple(rows),
                           RowLatency(seconds, compute_s, memory_s, flops, nbytes, bound),
                           tuple(by_bound[b] for b in TIMED_BOUNDS))


def measured_place(measured_device: str) -> str:
    """Where a measurement ran, as a reader says it: "this CPU", or the GPU's name (the worker names the GPU)."""
    return "this CPU" if measured_device == "cpu" else measured_device


def measured_kind(measured_device: str) -> str:
    """The device kind ("cpu" or "gpu") a measurement ran on."""
    return "cpu" if measured_device == "cpu" else "gpu"


def device_mismatch(measured_device: str, device: Device) -> str | None:
    """A one-line warning when the measurement ran on another kind of device than the estimate is for (this CPU
    against a GPU's roofline): the ratio then compares two machines, not the estimate with reality."""
    kind_ = "gpu" if device.kind == "apple" else device.kind
    if measured_kind(measured_device) == kind_:
        return None
    a = "a CPU" if device.kind == "cpu" else "a GPU"
    return (f"measured on {measured_place(measured_device)} but estimated for {device.name} ({a}): the ratio "
            f"compares two different devices, not the estimate with reality")


def measured_correlation(est: LatencyEstimate, measured: Sequence[float | None]) -> float | None:
    """Spearman correlation of estimated and measured per-layer times, over the rows that ran and do work."""
    pairs = [(e.seconds, m) for e, m in zip(est.rows, measured, strict=True) if m is not None and e.bound != "none"]
    return rank_correlation([p[0] for p in pairs], [p[1] for p in pairs])


def rank_correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (ties get their average rank); None for fewer than 3 pairs or a constant
    series."""
    if len(xs) != len(ys) or len(xs) < 3:
        return None
    rx, ry = _ranks(xs), _ranks(ys)
    n = len(xs)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    return cov / (vx * vy) ** 0.5 if vx and vy else None


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks
