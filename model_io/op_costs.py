"""The cost of one aten op, as the tracer sees it: MACs from `torch.utils.flop_counter`'s registry, NetCost's own
formulas for element-wise work, pooling, normalisation and reductions; views and data movement are free.

An op that fits none of these is *unsupported*: the tracer lists it with its count, never counts it as 0 silently.
Classification is by the op's identity and its tags (pointwise, reduction, view), decided once per op and cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any

import torch
from torch.utils import flop_counter

from costing.layers.activation import ACTIVATION_FLOPS

aten = torch.ops.aten

# What a matmul-like op counts as (for categories of rows that have no torch.nn class of their own).
MATMUL_CATEGORY = {"mm": "linear", "addmm": "linear", "bmm": "attention", "baddbmm": "attention",
                   "convolution": "conv", "_convolution": "conv", "cudnn_convolution": "conv",
                   "convolution_overrideable": "conv", "_slow_conv2d_forward": "conv"}
ATTENTION_PREFIX = ("_scaled_dot_product", "_flash_attention", "_efficient_attention")

# Per-element FLOPs of activation ops, the same constants as the layer formulas (costing.layers.activation).
POINTWISE_FLOPS = {"relu": ACTIVATION_FLOPS["ReLU"], "hardtanh": ACTIVATION_FLOPS["ReLU6"],
                   "leaky_relu": ACTIVATION_FLOPS["LeakyReLU"], "sigmoid": ACTIVATION_FLOPS["Sigmoid"],
                   "tanh": ACTIVATION_FLOPS["Tanh"], "silu": ACTIVATION_FLOPS["SiLU"],
                   "gelu": ACTIVATION_FLOPS["GELU"], "hardswish": ACTIVATION_FLOPS["Hardswish"]}
ACTIVATION_OPS = frozenset(POINTWISE_FLOPS)
SOFTMAX_FLOPS = ACTIVATION_FLOPS["Softmax"]

# Data movement and tensor creation: no arithmetic. Memory traffic is still charged by the tracer.
FREE_OPS = frozenset({
    "clone", "copy_", "_to_copy", "contiguous", "cat", "stack", "split", "split_with_sizes", "unsafe_split",
    "unbind", "_unsafe_view", "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like",
    "full", "full_like", "fill_", "zero_", "arange", "scalar_tensor", "lift_fresh_copy", "embedding",
    "index", "index_select", "gather", "select_scatter", "slice_scatter", "tril", "triu", "repeat",
    "repeat_interleave", "constant_pad_nd", "pad", "flip", "roll", "new_empty", "new_zeros", "new_ones",
    "new_full", "masked_fill", "masked_fill_", "bernoulli_", "rand", "randn", "randint", "normal_", "uniform_",
    "native_dropout", "dropout", "_local_scalar_dense", "detach", "sym_size", "resize_", "set_", "item",
    "is_same_size", "_assert_async", "_assert_tensor_metadata", "sym_constrain_range_for_size",
    "_linalg_check_errors", "_assert_scalar", "_functional_assert_async",
})
# Ops answered from metadata alone; they never reach a kernel and cost nothing.
METADATA_OPS = frozenset({"size", "sym_size", "stride", "sym_stride", "numel", "sym_numel", "dim",
                          "storage_offset", "sym_storage_offset", "is_contiguous", "sym_is_contiguous",
                          "is_strides_like_format", "is_non_overlapping_and_dense", "layout"})

POOL_OPS = frozenset({"max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
                      "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
                      "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "_adaptive_avg_pool2d",
                      "adaptive_avg_pool3d", "_adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
                      "adaptive_max_pool3d"})
NORM_OPS = {"native_batch_norm": 2, "_native_batch_norm_legit_no_training": 2, "_native_batch_norm_legit": 2,
            "native_layer_norm": 5, "native_group_norm": 5, "_fused_rms_norm": 4}
SOFTMAX_OPS = frozenset({"_softmax", "_safe_softmax", "_log_softmax", "softmax", "log_softmax"})


# torch's fused CPU kernels for nn.MultiheadAttention / nn.TransformerEncoderLayer in eval() + no_grad(). The tracer
# turns these fast paths off (tracer.unfused), but TorchScript always takes them on real CPU tensors; they are
# costed here as the ops they replace (projections, QK^T and AV, softmax, feed-forward, norms).
FUSED_OPS = frozenset({"_native_multi_head_attention", "_transformer_encoder_layer_fwd"})


@dataclass(slots=True)
class OpCost:
    macs: int = 0
    bias_adds: int = 0
    elementwise: int = 0
    attention_macs: int = 0
    category: str = "other"  # what the op is, for rows that take their category from their ops


FREE = "free"
UNSUPPORTED = "unsupported"


def classify(func: Any) -> str:
    """'free', 'unsupported', or the kind of formula that costs `func` (decided from its name and tags)."""
    name = func.overloadpacket.__name__
    if name in METADATA_OPS or func.is_view or name in FREE_OPS or torch.Tag.inplace_view in func.tags:
        return FREE
    if func.overloadpacket in flop_counter.flop_registry:
        return "matmul"
    if name.startswith(ATTENTION_PREFIX):
        return "sdpa"
    if name in FUSED_OPS:
        return name
    if name in NORM_OPS:
        return "norm"
    if name in POOL_OPS:
        return "pool"
    if name in SOFTMAX_OPS:
        return "softmax"
    tags = func.tags
    if torch.Tag.pointwise in tags:
        return "pointwise"
    if torch.Tag.reduction in tags or name in ("max", "min", "var", "std", "norm", "linalg_vector_norm", "cumsum"):
        return "reduction"
    return UNSUPPORTED


def _numel(t: Any) -> int:
    if isinstance(t, torch.Tensor):
        return t.numel()
    if isinstance(t, (tuple, list)) and t and isinstance(t[0], torch.Tensor):
        return t[0].numel()
    return 0


def cost(kind: str, func: Any, args: tuple, kwargs: dict, out: Any) -> OpCost:
    """The cost of one call of an op of `kind` (see `classify`)."""
    name = func.overloadpacket.__name__
    if kind == "matmul":
        macs = flop_counter.flop_registry[func.overloadpacket](*args, **kwargs, out_val=out) // 2
        category = MATMUL_CATEGORY.get(name, "attention" if name.startswith(ATTENTION_PREFIX) else "linear")
        bias = 0
        if name in ("addmm", "baddbmm") or category == "conv" and len(args) > 2 and args[2] is not None:
            bias = _numel(out)
        return OpCost(macs=macs, bias_adds=bias, attention_macs=macs if category == "attention" else 0,
                      category=category)
    if kind == "sdpa":  # a fused CPU attention kernel the flop counter does not know: same formula
        q, k, v = (tuple(a.shape) for a in args[:3])
        macs = flop_counter.sdpa_flop_count(q, k, v) // 2
        return OpCost(macs=macs, attention_macs=macs, elementwise=SOFTMAX_FLOPS * prod(q[:-1]) * k[-2],
                      category="attention")
    if kind in FUSED_OPS:
        return _fused_cost(name, args, kwargs)
    if kind == "pointwise":
        base = name.rstrip("_")
        per = POINTWISE_FLOPS.get(base, 1)
        if base == "gelu" and kwargs.get("approximate", args[1] if len(args) > 1 else "none") == "tanh":
            per += 1
        return OpCost(elementwise=per * _numel(out), category="activation" if base in ACTIVATION_OPS else "other")
    if kind == "softmax":
        return OpCost(elementwise=SOFTMAX_FLOPS * _numel(out), category="activation")
    if kind == "norm":
        per = NORM_OPS[name]
        if name == "native_layer_norm" and (len(args) < 3 or args[2] is None):
            per = 4
        return OpCost(elementwise=per * _numel(args[0]), category="norm")
    if kind == "pool":
        return OpCost(elementwise=_pool_flops(name, args, out), category="pool")
    if kind == "reduction":
        return OpCost(elementwise=_numel(args[0]) if args else _numel(out), category="other")
    raise ValueError(kind)


def _pool_flops(name: str, args: tuple, out: Any) -> int:
    """As the layer formulas (costing.layers.pool): max k-1 compares, avg k adds, adaptive in + out."""
    n_out = _numel(out)
    if name.startswith(("adaptive", "_adaptive")):
        return _numel(args[0]) + (n_out if "avg" in name else 0)
    k = args[1] if len(args) > 1 else 1
    window = prod(k) if isinstance(k, (list, tuple)) else int(k) ** (len(args[0].shape) - 2)
    if isinstance(k, (list, tuple)) and len(k) == 1:
        window = int(k[0]) ** (len(args[0].shape) - 2)
    return n_out * (window - 1 if name.startswith("max") else window)


def _attention_core(q: Any, k: Any, heads: int, dim: int) -> tuple[int, int, int]:
    """(projection MACs, attention MACs, softmax elements) of multi-head attention of q over k, both (..., L, E)."""
    tokens_q, tokens_k, keys = q.numel() // dim, k.numel() // dim, k.shape[-2]
    projections = (tokens_q + 2 * tokens_k) * dim * dim + tokens_q * dim * dim  # q, k, v in; out
    return projections, 2 * tokens_q * keys * dim, tokens_q * heads * keys


def _fused_cost(name: str, args: tuple, kwargs: dict) -> OpCost:
    if name == "_native_multi_head_attention":
        q, k = args[0], args[1]
        dim, heads = int(args[3]), int(args[4])
        proj, attn, scores = _attention_core(q, k, heads, dim)
        tokens_q, tokens_k = q.numel() // dim, k.numel() // dim
        bias = (2 * tokens_q + 2 * tokens_k) * dim if args[6] is not None else 0
        return OpCost(macs=proj + attn, bias_adds=bias, attention_macs=attn, elementwise=SOFTMAX_FLOPS * scores,
                      category="attention")
    src, dim, heads, use_gelu = args[0], int(args[1]), int(args[2]), bool(args[7])
    ffn = int(args[14].shape[0])
    proj, attn, scores = _attention_core(src, src, heads, dim)
    tokens = src.numel() // dim
    act = POINTWISE_FLOPS["gelu" if use_gelu else "relu"]
    return OpCost(macs=proj + attn + 2 * tokens * dim * ffn, bias_adds=tokens * (5 * dim + ffn),
                  attention_macs=attn, category="attention",
                  elementwise=SOFTMAX_FLOPS * scores + 2 * NORM_OPS["native_layer_norm"] * tokens * dim
                  + act * tokens * ffn + 2 * tokens * dim)
