"""A user's model file that builds Hugging Face models from config objects (nothing downloaded), as people load
them into NetCost: `hf_factories.py:build(name="llama", use_cache=False, attn="eager")`.

Every config is small (2 layers, hidden 64) so that the whole matrix counts in seconds; `config(name)` is also
what the tests save as `hf:` folders. Encoder-decoders come wrapped in a module that takes their inputs
positionally, as a user's file would, since NetCost calls `model(*inputs)`.
"""

from __future__ import annotations

from typing import Any

import torch
import transformers as t
from torch import nn

SMALL = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
         "vocab_size": 1000}
DECODERS = {
    "gpt2": (t.GPT2Config, {"n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 1000}, "GPT2LMHeadModel"),
    "llama": (t.LlamaConfig, {**SMALL, "num_key_value_heads": 2}, "LlamaForCausalLM"),
    "mistral": (t.MistralConfig, {**SMALL, "num_key_value_heads": 2}, "MistralForCausalLM"),
    "qwen2": (t.Qwen2Config, {**SMALL, "num_key_value_heads": 2}, "Qwen2ForCausalLM"),
    "gemma": (t.GemmaConfig, {**SMALL, "num_key_value_heads": 2, "head_dim": 16}, "GemmaForCausalLM"),
    "mixtral": (t.MixtralConfig, {**SMALL, "num_key_value_heads": 2, "num_local_experts": 4,
                                  "num_experts_per_tok": 2}, "MixtralForCausalLM"),
    "qwen2_moe": (t.Qwen2MoeConfig, {**SMALL, "num_key_value_heads": 2, "num_experts": 4, "num_experts_per_tok": 2,
                                     "moe_intermediate_size": 32, "shared_expert_intermediate_size": 64},
                  "Qwen2MoeForCausalLM"),
    "opt": (t.OPTConfig, {"hidden_size": 64, "ffn_dim": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                          "word_embed_proj_dim": 64, "vocab_size": 1000}, "OPTForCausalLM"),
    "phi": (t.PhiConfig, SMALL, "PhiForCausalLM"),
    "falcon": (t.FalconConfig, {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                                "vocab_size": 1000}, "FalconForCausalLM"),
    "gpt_neox": (t.GPTNeoXConfig, SMALL, "GPTNeoXForCausalLM"),
    "bloom": (t.BloomConfig, {"hidden_size": 64, "n_layer": 2, "n_head": 4, "vocab_size": 1000}, "BloomForCausalLM"),
}
SEQ2SEQ = {
    "t5": (t.T5Config, {"d_model": 64, "d_ff": 128, "num_layers": 2, "num_heads": 4, "d_kv": 16, "vocab_size": 1000},
           "T5ForConditionalGeneration"),
    "bart": (t.BartConfig, {"d_model": 64, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4,
                            "decoder_attention_heads": 4, "encoder_ffn_dim": 128, "decoder_ffn_dim": 128,
                            "vocab_size": 1000}, "BartForConditionalGeneration"),
    "whisper": (t.WhisperConfig, {"d_model": 64, "encoder_layers": 2, "decoder_layers": 2,
                                  "encoder_attention_heads": 4, "decoder_attention_heads": 4, "encoder_ffn_dim": 128,
                                  "decoder_ffn_dim": 128, "max_source_positions": 64},
                "WhisperForConditionalGeneration"),
}
# DeBERTa-v3 is a DeBERTa-v2 architecture: relative attention, log buckets, shared keys, no absolute positions
ENCODERS = {
    "deberta_v3": (t.DebertaV2Config, {**SMALL, "relative_attention": True, "pos_att_type": ["p2c", "c2p"],
                                       "max_relative_positions": -1, "position_buckets": 256,
                                       "norm_rel_ebd": "layer_norm", "share_att_key": True,
                                       "position_biased_input": False}, "DebertaV2Model"),
}
MODELS = {**DECODERS, **SEQ2SEQ, **ENCODERS}
NO_SDPA = frozenset({"bloom", "deberta_v3"})  # transformers refuses attn_implementation="sdpa" for these
TOKENS = 32


def config(name: str, use_cache: bool | None = None, attn: str | None = None) -> Any:
    """The config of `name`; `use_cache`/`attn` None keep transformers' defaults (a KV cache, sdpa attention)."""
    cls, fields, arch = MODELS[name]
    extra: dict[str, Any] = {"architectures": [arch]}
    if use_cache is not None:
        extra["use_cache"] = use_cache
    if attn is not None:
        extra["attn_implementation"] = attn
    return cls(**fields, **extra)


def inputs(name: str) -> list[str]:
    """The inputs as `--input` gives them, in the order the model (or its wrapper) takes them."""
    if name == "whisper":
        cls, fields, _ = MODELS[name]
        return [f"1,80,{2 * fields['max_source_positions']}", f"long:1,{TOKENS}"]
    return [f"long:1,{TOKENS}"] * (2 if name in SEQ2SEQ else 1)


class Seq2Seq(nn.Module):
    """An encoder-decoder called with (encoder input, decoder token ids), positionally."""

    def __init__(self, model: nn.Module, encoder_input: str) -> None:
        super().__init__()
        self.model, self.encoder_input = model, encoder_input

    def forward(self, source: torch.Tensor, decoder_input_ids: torch.Tensor) -> Any:
        return self.model(**{self.encoder_input: source}, decoder_input_ids=decoder_input_ids)


def build(name: str, use_cache: bool | None = None, attn: str | None = None,
          experts: str | None = None) -> nn.Module:
    """The model `name`, as a user's factory builds it: `transformers.<Arch>(config)`."""
    cfg = config(name, use_cache, attn)
    if experts is not None:
        cfg._experts_implementation = experts
    model = getattr(t, MODELS[name][2])(cfg)
    if name in SEQ2SEQ:
        return Seq2Seq(model, "input_features" if name == "whisper" else "input_ids")
    return model


def llama_1b(use_cache: bool = False) -> nn.Module:
    """Llama-3.2-1B's architecture (1.24 B parameters): 5 GB of fp32 weights, more than the worker's 4 GiB cap."""
    return t.LlamaForCausalLM(t.LlamaConfig(
        hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
        num_key_value_heads=8, vocab_size=128256, max_position_embeddings=131072, tie_word_embeddings=True,
        rope_theta=500000.0, use_cache=use_cache))


def deberta_v2_xlarge() -> nn.Module:
    """microsoft/deberta-v2-xlarge's architecture (about 0.9 B parameters)."""
    return t.DebertaV2Model(t.DebertaV2Config(
        vocab_size=128100, hidden_size=1536, num_hidden_layers=24, num_attention_heads=24, intermediate_size=6144,
        hidden_act="gelu", max_position_embeddings=512, relative_attention=True, position_buckets=256,
        norm_rel_ebd="layer_norm", share_att_key=True, pos_att_type=["p2c", "c2p"], layer_norm_eps=1e-7,
        conv_kernel_size=3, conv_act="gelu", max_relative_positions=-1, position_biased_input=False, pad_token_id=0))
