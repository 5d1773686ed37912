"""A training step on a device: its roofline time, the largest batch that fits the device's memory, and the
memory-vs-batch sweep. Pure Python (no torch, no Qt); reads a `TrainingReport` (costing.training).

Time (the roofline of costing.latency, row by row, plus the optimizer):
- forward: each row's FLOPs and memory traffic at the step's activation precision;
- backward: each row's backward FLOPs against twice its forward traffic (it reads the saved tensors and the
  output's gradient and writes the input's and the weights' gradients), a row without backward work costs nothing;
- recompute (checkpointed scopes): the row's forward again;
- `optimizer.step()`: memory-bound, it reads and writes the weights and their states and reads the gradients.
Compute runs at the device's peak for the precision: fp32 -> fp32, bf16-mixed and bf16 -> bf16, fp16-mixed -> fp16.

Batch (`TrainingReport.peak_at`, `max_batch`): the bytes of activations, saved tensors and activation gradients
grow linearly with the batch; weights, gradients and optimizer states do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .devices import Device
from .latency import roofline_time
from .training import TrainingReport, TrainRow

PEAK_OF = {"fp32": "fp32", "bf16-mixed": "bf16", "fp16-mixed": "fp16", "bf16": "bf16"}
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}


@dataclass(frozen=True)
class StepTime:
    forward_s: float
    backward_s: float
    recompute_s: float
    optimizer_s: float

    @property
    def total_s(self) -> float:
        return self.forward_s + self.backward_s + self.recompute_s + self.optimizer_s


def step_time(train: TrainingReport, device: Device) -> StepTime:
    """The roofline time of one training step of `train` on `device` (see the module doc)."""
    peak, _ = device.peak(PEAK_OF[train.totals.precision])
    bw, floor = device.memory_bandwidth, device.launch_floor_s
    doc_bytes = DTYPE_BYTES.get(train.report.dtype, 4)
    scale = _activation_bytes(train) / doc_bytes
    fwd = bwd = rec = 0.0
    rows = train.report.by_id
    for t in train.rows:
        row = rows[t.node_id]
        traffic = int(row.memory_access_bytes * scale)
        f = roofline_time(row.flops, traffic, peak, bw, floor).seconds
        fwd += f
        if t.backward_flops:
            bwd += roofline_time(t.backward_flops, 2 * traffic, peak, bw, floor).seconds
        if t.recompute_macs:
            rec += f
    tt = train.totals
    opt = (2 * tt.param_bytes + tt.grad_bytes + 2 * tt.optimizer_bytes) / bw if tt.grad_bytes else 0.0
    return StepTime(fwd, bwd, rec, opt)


def _activation_bytes(train: TrainingReport) -> int:
    return 4 if train.totals.precision == "fp32" else 2


@dataclass(frozen=True)
class MemoryPoint:
    batch: int
    peak_bytes: int
    fits: bool | None  # None: the device's memory is unknown


def memory_sweep(train: TrainingReport, batches: Sequence[int], memory: float | None = None) -> list[MemoryPoint]:
    """The peak memory at each batch size (and whether it fits `memory` bytes)."""
    out = []
    for b in batches:
        peak = train.peak_at(b)
        out.append(MemoryPoint(b, peak, None if memory is None else peak <= memory))
    return out


def default_batches(train: TrainingReport, memory: float | None = None) -> tuple[int, ...]:
    """Doubling from 1 up to twice the largest batch that fits `memory` (or 4 x the report's batch, at least 64)."""
    top = max(64, 4 * train.totals.batch_size)
    if memory is not None:
        fit = train.max_batch(int(memory))
        if fit:
            top = max(2, 2 * fit)
    out, b = [], 1
    while b <= top and len(out) < 40:
        out.append(b)
        b *= 2
    return tuple(out)


@dataclass(frozen=True)
class MemoryParts:
    """A step's memory by kind at one batch size (`memory_parts`): what the stacked bars show."""

    weights: int
    gradients: int
    optimizer: int
    activations: int

    def as_dict(self) -> dict[str, int]:
        return {"weights": self.weights, "gradients": self.gradients, "optimizer": self.optimizer,
                "activations": self.activations}


def saved_at(train: TrainingReport, saved_bytes: int, batch: int) -> int:
    """Saved-activation bytes of `train` (a row's or the total) at another batch: they grow linearly with it."""
    return saved_bytes * batch // max(1, train.totals.batch_size)


def memory_parts(train: TrainingReport, batch: int) -> MemoryParts:
    """The step's weights, gradients, optimizer states and saved activations at `batch` (only the last grow)."""
    t = train.totals
    return MemoryParts(t.param_bytes, t.grad_bytes, t.optimizer_bytes, saved_at(train, t.saved_activation_bytes, batch))


def row_memory_bytes(train: TrainingReport, row: TrainRow, batch: int) -> int:
    """A node's training memory at `batch`: its weights + gradients + optimizer states + saved activations."""
    return row.param_bytes + row.grad_bytes + row.optimizer_bytes + saved_at(train, row.saved_activation_bytes, batch)
