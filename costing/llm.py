"""LLM inference on a device: prefill of a prompt vs one decode step with a KV cache of T tokens (roofline).

Prefill is the model's report at the prompt length. A decode step is its report at one token, plus, for every
attention call the model's code makes (`AttentionCall`, recorded at one token), the work of that one query
against the T cached keys and values: QKᵀ and AV are 2·T·head_dim MACs per head, the softmax 4 FLOPs per score
(NetCost's attention convention), and K and V of T tokens are read from the cache. Both phases use the roofline
estimate under the no-fusion convention (costing.latency).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .devices import Device
from .dtypes import DTYPE_BYTES
from .latency import RowLatency, combine, estimate, roofline_time
from .records import CostReport


@dataclass(frozen=True)
class AttentionCall:
    """One scaled_dot_product_attention call of a decode step, as the model's code made it."""

    path: str  # the module whose code called it (its own-ops row), "" for the model's top level
    batch: int
    heads: int
    kv_heads: int  # heads of K/V as the kernel received them (after any GQA repeat the code does)
    head_dim: int

    def cache_flops(self, cache_len: int) -> int:
        # QKᵀ and AV: 2 x heads x T x head_dim MACs = 4 x ... FLOPs; softmax: 4 per score
        return self.batch * self.heads * cache_len * (4 * self.head_dim + 4)

    def cache_bytes(self, cache_len: int, elem: int) -> int:
        return 2 * self.batch * self.kv_heads * cache_len * self.head_dim * elem  # K and V of T tokens


@dataclass(frozen=True)
class Phase:
    tokens: int  # tokens produced (decode: batch) or processed (prefill: batch x prompt)
    time: RowLatency
    kv_cache_bytes: int = 0  # decode: the cache read per step
    cache_len: int = 0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.time.seconds if self.time.seconds else 0.0


def prefill(report: CostReport, device: Device, compute_dtype: str | None = None) -> Phase:
    """The prompt at once: the report traced at the prompt length (batch x length token ids). `compute_dtype`
    picks another peak than the report's dtype, as in costing.latency.estimate."""
    shape = report.inputs[0][0] if report.inputs else (1, 1)
    tokens = shape[0] * (shape[1] if len(shape) > 1 else 1)
    return Phase(tokens, estimate(report, device, compute_dtype).total)


def decode_step(report: CostReport, calls: Sequence[AttentionCall], cache_len: int, device: Device,
                compute_dtype: str | None = None) -> Phase:
    """One new token per sequence with `cache_len` tokens cached: `report` is the model traced at one token."""
    est = estimate(report, device, compute_dtype)
    floor = device.launch_floor_s
    elem = DTYPE_BYTES[report.dtype]
    extra: dict[str, tuple[int, int]] = {}
    for c in calls:
        f, b = extra.get(c.path, (0, 0))
        extra[c.path] = (f + c.cache_flops(cache_len), b + c.cache_bytes(cache_len, elem))
    rows = []
    for layer, row in zip(report.layers, est.rows, strict=True):
        f, b = extra.pop(layer.path, (0, 0))
        rows.append(roofline_time(row.flops + f, row.bytes + b, est.peak_flops, est.bandwidth, floor)
                    if f or b else row)
    for f, b in extra.values():  # a call from a module without a row of its own: still counted
        rows.append(roofline_time(f, b, est.peak_flops, est.bandwidth, floor))
    batch = report.inputs[0][0][0] if report.inputs and report.inputs[0][0] else 1
    kv = sum(c.cache_bytes(cache_len, elem) for c in calls)
    return Phase(batch, combine(rows), kv, cache_len)
