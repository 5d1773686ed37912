"""A Hugging Face decoder's causal-mask plumbing folds into one `mask` scope, also now that its index arithmetic has
op rules (functional nodes built from arange alone, which read no input): the top level shows the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from netcost.model_io.importers.loaders import run_request

transformers = pytest.importorskip("transformers")


def test_a_llama_configs_mask_is_one_group(tmp_path: Path) -> None:
    transformers.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2, vocab_size=1000,
                             architectures=["LlamaForCausalLM"]).save_pretrained(tmp_path)
    graph = run_request({"ref": f"hf:{tmp_path}"})
    grouped = {n.op for n in graph.nodes if n.scope == "model.mask"}
    assert {"cumsum", "le", "bitwise_and", "index"} <= grouped
    top = {n.op for n in graph.nodes if n.scope == "model"}
    assert not top & {"cumsum", "le", "bitwise_and", "index", "eq"}
    assert any(s.path == "model.mask" and s.type == "mask plumbing" for s in graph.scopes)
