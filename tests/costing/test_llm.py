"""Prefill vs decode with a KV cache (costing.llm), by hand arithmetic on a small report."""

from __future__ import annotations

import pytest

from netcost.costing import LayerSpec, Network, evaluate
from netcost.costing.devices import Device
from netcost.costing.llm import AttentionCall, decode_step, prefill

DEV = Device("round", {"fp32": 1e12}, 100e9, "test", launch_overhead_us=0.0)  # 1 TFLOP/s, 100 GB/s; roofline only


def _report(tokens: int):
    # a stand-in for one token through a model: Linear 64 -> 64 named "attn" on (1, tokens, 64)
    return evaluate(Network([LayerSpec("Linear", {"out_features": 64}, name="attn")], (tokens, 64), "lm"))


def test_decode_adds_the_cache_to_the_attention_row():
    step = _report(1)
    base = step.layers[0]
    # Linear 64->64 on one token: 4,096 MACs -> 8,192 + 64 bias = 8,256 FLOPs; bytes (64 + 4,160 read + 64
    # written) x 4 = 17,152 B -> 171.5 ns memory-bound
    assert (base.flops, base.memory_access_bytes) == (8_256, 17_152)
    call = AttentionCall("attn", batch=1, heads=4, kv_heads=2, head_dim=16)
    phase = decode_step(step, [call], 1000, DEV)
    # cache: K and V of 1,000 tokens x 2 kv heads x 16 dims x 4 B = 2 x 128,000 = 256,000 B
    assert phase.kv_cache_bytes == 256_000
    # QKᵀ + AV: 4 heads x 1,000 x 16 x 2 MACs = 128,000 MACs = 256,000 FLOPs; softmax 4 x 4,000 = 16,000
    assert phase.time.flops == 8_256 + 272_000
    assert phase.time.bytes == 17_152 + 256_000
    assert phase.time.seconds == pytest.approx((17_152 + 256_000) / 100e9)  # 2.73 µs, memory-bound
    assert phase.time.bound == "memory" and phase.tokens_per_s == pytest.approx(1 / phase.time.seconds)
    longer = decode_step(step, [call], 2000, DEV)
    assert longer.time.seconds > phase.time.seconds  # a longer cache costs more per token


def test_a_call_without_its_own_row_is_still_counted():
    phase = decode_step(_report(1), [AttentionCall("elsewhere", 1, 4, 4, 16)], 10, DEV)
    assert phase.time.bytes == 17_152 + 2 * 4 * 10 * 16 * 4  # + 5,120 B of cache


def test_prefill_counts_the_prompt_tokens():
    full = _report(128)
    phase = prefill(full, DEV)
    assert phase.tokens == 128  # batch 1 x 128 tokens
    assert phase.tokens_per_s == pytest.approx(128 / phase.time.seconds)
