"""Models of the libraries users have, counted against those libraries' own figures. Each test needs its library
(torchvision, timm, transformers) and is skipped where it is not installed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing import CostReport
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.importers import library_models
from netcost.model_io.importers.loaders import LoadFailure, run_request
from netcost.model_io.importers.tracer import InputSpec, make_inputs
from netcost.model_io.importers.transformers_meta import meta_values_unknown
from netcost.model_io.model_ref import parse_ref
from netcost.model_io.worker.resolve import LoadOptions, ModelError, load_report


def _count(request: dict[str, Any]) -> CostReport:
    """What the worker computes for `request`, in this process: the traced graph, evaluated."""
    return evaluate_graph(run_request(request))


def _needs(library: str) -> None:
    if not library_models.installed(library):
        pytest.skip(f"needs {library}")


# --- torchvision: torchvision's published num_params and _ops (GMACs, 3 decimals) -------------------------------

@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "regnet_y_400mf", "vit_b_32", "r3d_18"])
def test_torchvision_models_match_the_published_figures(name: str) -> None:
    _needs("torchvision")
    meta = library_models.torchvision_weights(name).meta
    report = _count({"ref": f"torchvision:{name}"})
    assert report.totals.params == meta["num_params"]
    assert round(report.totals.macs / 1e9, 3) == meta["_ops"]
    assert not any("built on the CPU" in w for w in report.warnings)  # RegNet sizes itself with torch: still weightless


def test_torchvision_weights_pick_the_architecture_and_input() -> None:
    _needs("torchvision")
    meta = library_models.torchvision_weights("vit_b_16", "IMAGENET1K_SWAG_E2E_V1").meta
    report = _count({"ref": 'torchvision:vit_b_16(weights="IMAGENET1K_SWAG_E2E_V1")'})
    assert report.inputs[0][0] == (1, 3, 384, 384) and report.totals.params == meta["num_params"]
    assert round(report.totals.macs / 1e9, 3) == meta["_ops"]


def test_a_detection_model_is_counted_on_a_fresh_cpu_build() -> None:
    _needs("torchvision")
    name = "fasterrcnn_mobilenet_v3_large_320_fpn"
    report = load_report(f"torchvision:{name}", LoadOptions(timeout=300))  # through the worker, as the CLI does
    assert report.totals.params == library_models.torchvision_weights(name).meta["num_params"]
    assert any("real tensors on the CPU" in w for w in report.warnings)
    assert any(w.startswith("nms is data-dependent") for w in report.warnings)


def test_an_unknown_torchvision_name_suggests_close_ones() -> None:
    _needs("torchvision")
    with pytest.raises(LoadFailure, match="did you mean resnet50"):
        _count({"ref": "torchvision:resnet5O"})


# --- timm --------------------------------------------------------------------------------------------------------

def test_timm_models_count_their_parameters_and_default_input() -> None:
    _needs("timm")
    import timm

    report = _count({"ref": "timm:resnet18"})
    with torch.device("meta"):
        model = timm.create_model("resnet18", pretrained=False)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.inputs[0][0] == (1, *model.pretrained_cfg["input_size"])


def test_an_hf_folder_without_config(tmp_path: Path) -> None:
    _needs("transformers")
    with pytest.raises(ModelError, match="the folder has no config.json"):
        load_report(f"hf:{tmp_path}", LoadOptions())


# --- Hugging Face configs: unique params and FlopCounterMode on meta / 2 -------------------------------------------

def _configs() -> dict[str, Any]:
    import transformers as t

    small = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4}
    return {
        "bert": t.BertConfig(**small, vocab_size=1000, architectures=["BertModel"]),
        "gpt2": t.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=1000, architectures=["GPT2LMHeadModel"]),
        "llama": t.LlamaConfig(**small, num_key_value_heads=2, vocab_size=1000, architectures=["LlamaForCausalLM"]),
        "mistral": t.MistralConfig(**small, num_key_value_heads=2, vocab_size=1000,
                                   architectures=["MistralForCausalLM"]),
        "mixtral": t.MixtralConfig(**small, num_key_value_heads=2, num_local_experts=4, num_experts_per_tok=2,
                                   vocab_size=1000, architectures=["MixtralForCausalLM"]),
        "t5": t.T5Config(d_model=64, d_ff=128, num_layers=2, num_heads=4, d_kv=16, vocab_size=1000,
                         architectures=["T5ForConditionalGeneration"]),
        "whisper": t.WhisperConfig(d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                                   decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
                                   architectures=["WhisperForConditionalGeneration"]),
        "vit": t.ViTConfig(**small, architectures=["ViTForImageClassification"]),
        "clip": t.CLIPConfig(text_config={**small, "vocab_size": 1000}, vision_config={**small, "patch_size": 32},
                             projection_dim=32, architectures=["CLIPModel"]),
    }


def _save(config: Any, folder: Path, dtype: str | None = None) -> Path:
    config.save_pretrained(folder)
    if dtype:  # as a checkpoint's config.json states it
        path = folder / "config.json"
        data = json.loads(path.read_text())
        path.write_text(json.dumps({**data, "dtype": dtype}))
    return folder


def _pytorch_count(ref: str) -> tuple[int, int]:
    built = library_models.build(parse_ref(ref))
    inputs = make_inputs([InputSpec(tuple(s), d) for s, d in built.inputs], "meta")
    for module in built.model.modules():  # FlopCounterMode has no `_grouped_mm` formula and torch runs it on meta
        if hasattr(module, "_is_expert_parallel"):  # in bf16 only: MoE experts as bmm, the same multiplications
            module.config._experts_implementation = "batched_mm"
    # meta_values_unknown: transformers takes its tracing path instead of reading the meta inputs' values
    with FlopCounterMode(display=False) as counter, torch.no_grad(), meta_values_unknown(built.model):
        built.model(*inputs)
    return sum(p.numel() for p in built.model.parameters()), counter.get_total_flops() // 2


@pytest.mark.parametrize("name", ["bert", "gpt2", "llama", "mistral", "mixtral", "t5", "whisper", "vit", "clip"])
def test_hf_configs_match_pytorchs_own_count(name: str, tmp_path: Path) -> None:
    _needs("transformers")
    ref = f"hf:{_save(_configs()[name], tmp_path)}"
    report = _count({"ref": ref})
    assert (report.totals.params, report.totals.macs) == _pytorch_count(ref)
    assert not report.unsupported and not any("real tensors" in w for w in report.warnings)


def test_mixtral_in_bf16_counts_every_expert_as_pytorch_does_on_real_tensors(tmp_path: Path) -> None:
    _needs("transformers")
    config = _configs()["mixtral"]
    bf16 = _count({"ref": f"hf:{_save(config, tmp_path / 'bf16', 'bfloat16')}"})
    assert not bf16.unsupported and bf16.dtype == "bfloat16"
    # the reference: transformers' eager experts loop and eager attention on real CPU tensors, counted by
    # FlopCounterMode (their mm/bmm ops; it misses the fused CPU attention kernel and has no grouped_mm formula)
    import transformers

    config._experts_implementation = "eager"
    config._attn_implementation = "eager"
    model = transformers.MixtralForCausalLM(config).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(input_ids=torch.zeros(1, 128, dtype=torch.long), use_cache=False)
    assert bf16.totals.macs == counter.get_total_flops() // 2
    assert bf16.totals.params == sum(p.numel() for p in model.parameters())
