"""`netcost llm`: prefill vs decode per device from a real (tiny) causal LM's own attention calls."""

from __future__ import annotations

import json

import pytest

from netcost.model_io.cli.cli import main

TINY_LM = '''
import torch
import torch.nn.functional as F
from torch import nn

class TinyLM(nn.Module):
    """Embedding, one causal attention (4 heads of 16), a head: the shape of a decoder, small."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 64)
        self.attn = Attention()
        self.head = nn.Linear(64, 100, bias=False)

    def forward(self, tokens):
        return self.head(self.attn(self.embed(tokens)))

class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(64, 192)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = (z.view(b, t, 4, 16).transpose(1, 2) for z in self.qkv(x).split(64, dim=2))
        return F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, 64)
'''


def test_llm_json_by_hand(capsys, tmp_path):
    model = tmp_path / "tiny.py"
    model.write_text(TINY_LM)
    code = main(["llm", f"{model}:TinyLM", "--device", "t4", "--prompt", "32", "--context", "100", "--context",
                 "100000", "--batch", "2", "--format", "json"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    d = json.loads(out)
    assert (d["batch"], d["prompt_tokens"], d["dtype"]) == (2, 32, "float32") and "no fusion" in d["convention"]
    (t4,) = d["devices"]
    assert t4["name"] == "t4" and t4["prefill"]["tokens_per_s"] == pytest.approx(2 * 32 / t4["prefill"]["latency_s"])
    short, long = t4["decode"]
    # the cache read per step: K and V x batch 2 x 4 heads x T tokens x 16 dims x 4 B = 1,024 B per cached token
    assert (short["cache_tokens"], short["kv_cache_bytes"]) == (100, 102_400)
    # (a cache of 1,000 tokens reads in 3.2 µs at 320 GB/s: under the T4's launch floor; 100,000 is memory-bound)
    assert (long["cache_tokens"], long["kv_cache_bytes"]) == (100_000, 102_400_000)
    assert short["tokens_per_s"] == pytest.approx(2 / short["latency_s"])  # one token per sequence
    assert long["latency_s"] > short["latency_s"] and long["bound"] == "memory"


def test_llm_table():
    from netcost.costing import LayerSpec, Network, evaluate
    from netcost.costing.devices import PRESETS
    from netcost.costing.llm import AttentionCall, decode_step, prefill
    from netcost.model_io.cli.llm import to_table

    step = evaluate(Network([LayerSpec("Linear", {"out_features": 64}, name="attn")], (1, 64), "lm"))
    full = evaluate(Network([LayerSpec("Linear", {"out_features": 64}, name="attn")], (16, 64), "lm"))
    a100 = PRESETS[0]
    steps = [decode_step(step, [AttentionCall("attn", 1, 4, 4, 16)], t, a100) for t in (16, 64)]
    out = to_table("lm", "float32", 1, 16, 1, [(a100, prefill(full, a100), steps)])
    lines = out.splitlines()
    assert "Prefill (16 tok)" in lines[1] and "KV cache" in lines[1]
    assert lines[3].startswith("a100-40gb") and "T=16" in lines[3] and "T=64" in lines[4]
    assert lines[4].startswith(" ")  # the device and its prefill are named once per device
    assert "no fusion" in lines[-1]


def test_llm_refusals(capsys):
    assert main(["llm", "zoo:lstm_tagger_module", "--device", "t4"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("netcost: error: zoo:lstm_tagger_module: no causal F.scaled_dot_product_attention")
    assert main(["llm", "zoo:alexnet"]) == 2
    assert "runs PyTorch causal LMs" in capsys.readouterr().err
