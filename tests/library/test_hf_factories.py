"""Hugging Face models as users load them — from their own `.py` (a function that builds `transformers.<Arch>(config)`)
and as `hf:` config folders — with transformers' default KV cache and with `use_cache=False`, in default, sdpa and
eager attention: every one counts on the meta device and equals PyTorch's own count (unique parameters;
FlopCounterMode on meta // 2), to the unit."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import hf_factories
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing import CostReport
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.importers.loaders import run_request
from netcost.model_io.importers.tracer import InputSpec, make_inputs
from netcost.model_io.importers.transformers_meta import meta_values_unknown
from netcost.model_io.worker.resolve import LoadOptions, load_report

FACTORIES = str(Path(hf_factories.__file__).resolve())
CACHES = {"cache": None, "no-cache": False}  # None: transformers' default (a DynamicCache)
ATTENTIONS = {"default": None, "sdpa": "sdpa", "eager": "eager"}
MOE = ("mixtral", "qwen2_moe")


def _count(request: dict[str, Any]) -> CostReport:
    """What the worker computes for `request`, in this process: the traced graph, evaluated."""
    return evaluate_graph(run_request(request))


@functools.cache
def _pytorch_count(name: str, use_cache: bool | None, attn: str | None) -> tuple[int, int]:
    """PyTorch's own count of the same model and inputs: the sum of its unique parameters, FlopCounterMode's
    FLOPs // 2 on the meta device. transformers would read the meta inputs' values (`.item()`) where it is not
    tracing; under `meta_values_unknown` it takes its tracing path, which runs the same ops."""
    # FlopCounterMode has no formula for `_grouped_mm` (it would count MoE experts as 0), and torch's meta kernel
    # runs it in bf16 only: the reference runs the experts through transformers' `batched_mm`, the same
    # multiplications (every token through its top-k experts) as bmm, which FlopCounterMode counts
    experts = "batched_mm" if name in MOE else None
    with torch.device("meta"):
        model = hf_factories.build(name, use_cache, attn, experts).eval()
    specs = [InputSpec(tuple(int(d) for d in s.removeprefix("long:").split(",")),
                       "int64" if s.startswith("long:") else "float32") for s in hf_factories.inputs(name)]
    with FlopCounterMode(display=False) as counter, torch.no_grad(), meta_values_unknown(model):
        model(*make_inputs(specs, "meta"))
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


def _request(kind: str, name: str, use_cache: bool | None, attn: str | None, tmp_path: Path) -> dict[str, Any]:
    if kind == "py":
        args = [f"name={name!r}"] + [f"{k}={v!r}" for k, v in (("use_cache", use_cache), ("attn", attn))
                                      if v is not None]
        ref = f"{FACTORIES}:build({', '.join(args)})"
    else:  # a checkpoint's config.json; hf: counts without a cache unless asked for one
        hf_factories.config(name, attn=attn).save_pretrained(tmp_path)
        overrides = ", ".join(([f"attn_implementation={attn!r}"] if attn else [])
                              + (["use_cache=True"] if use_cache is None else []))
        ref = f"hf:{tmp_path}" + (f"({overrides})" if overrides else "")
    return {"ref": ref, "inputs": hf_factories.inputs(name)}


def _cases() -> list[Any]:
    cases = []
    for name in hf_factories.MODELS:
        encoder = name in hf_factories.ENCODERS  # DeBERTa: no decoder, no cache
        for cache in ["no-cache"] if encoder else CACHES:
            for attn in [a for a in ATTENTIONS if not (name in hf_factories.NO_SDPA and a == "sdpa")]:
                cases += [pytest.param(name, cache, attn, kind, id=f"{name}-{cache}-{attn}-{kind}")
                          for kind in ("py", "hf")]
    return cases


CASES = _cases()


@pytest.mark.parametrize(("name", "cache", "attention", "kind"), CASES)
def test_hf_models_count_on_meta_as_pytorch_does(name: str, cache: str, attention: str, kind: str,
                                                 tmp_path: Path) -> None:
    use_cache, attn = CACHES[cache], ATTENTIONS[attention]
    if name in hf_factories.ENCODERS:
        use_cache = None  # no decoder, no cache
    report = _count(_request(kind, name, use_cache, attn, tmp_path))
    assert (report.totals.params, report.totals.macs) == _pytorch_count(name, use_cache, attn)
    assert not report.unsupported
    assert not any("real tensors" in w or "built on the CPU" in w for w in report.warnings), report.warnings


def test_moe_experts_count_through_grouped_mm_in_fp32_on_meta() -> None:
    # item 6 of issue 24: a user's file asks for grouped_mm in fp32; torch's meta kernel takes bf16 only, its CPU
    # kernel every dtype. Closed form: per layer, tokens x top-k rows through gate+up (2 x inter) and down.
    report = _count({"ref": f"{FACTORIES}:build(name='mixtral', use_cache=False, experts='grouped_mm')",
                     "inputs": hf_factories.inputs("mixtral")})
    assert not report.unsupported and not any("real tensors" in w for w in report.warnings)
    assert report.dtype == "float32"
    cfg = hf_factories.config("mixtral")
    tokens, k, hidden, inter = hf_factories.TOKENS, cfg.num_experts_per_tok, cfg.hidden_size, cfg.intermediate_size
    experts = cfg.num_hidden_layers * tokens * k * 3 * hidden * inter
    assert sum(row.totals.macs for row in report.layers if "grouped_mm" in row.type) == experts
    assert report.totals.macs == _pytorch_count("mixtral", False, None)[1]


def test_a_1b_llama_from_a_py_file_counts_on_meta_under_the_memory_cap() -> None:
    # item 2 of issue 24: 5 GB of fp32 weights; through the worker with a 1 GiB cap, so only a weightless count
    # can succeed
    report = load_report(f"{FACTORIES}:llama_1b", LoadOptions(inputs=("long:1,128",), memory_mb=1024, timeout=300))
    assert report.totals.params == 1_235_814_400  # Llama-3.2-1B (tied embeddings)
    assert not any("real tensors" in w for w in report.warnings), report.warnings


def test_deberta_v2_xlarge_counts_on_meta() -> None:
    # item 8 of issue 24: transformers' padding check reads `pad_token_id in input_ids` (`.item()`)
    report = _count({"ref": f"{FACTORIES}:deberta_v2_xlarge", "inputs": ["long:1,128"]})
    with torch.device("meta"):
        model = hf_factories.deberta_v2_xlarge()
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert not any("real tensors" in w for w in report.warnings), report.warnings

