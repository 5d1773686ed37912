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

from netcost.costing.conventions import fvcore_op_elements, ptflops_op
from netcost.costing.layers.activation import ACTIVATION_FLOPS
from netcost.costing.layers.misc import UPSAMPLE_FLOPS

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
    "full", "full_like", "fill_", "zero_", "arange", "linspace", "logspace", "scalar_tensor", "lift_fresh_copy",
    "embedding",
    "index", "index_select", "gather", "select_scatter", "slice_scatter", "tril", "triu", "repeat",
    "repeat_interleave", "constant_pad_nd", "pad", "reflection_pad1d", "reflection_pad2d", "reflection_pad3d",
    "replication_pad1d", "replication_pad2d", "replication_pad3d", "flip", "roll", "new_empty", "new_zeros", "new_ones",
    "new_full", "masked_fill", "masked_fill_", "bernoulli_", "rand", "randn", "randint", "normal_", "uniform_",
    "native_dropout", "dropout", "_local_scalar_dense", "detach", "sym_size", "resize_", "set_", "item",
    "is_same_size", "_assert_async", "_assert_tensor_metadata", "sym_constrain_range_for_size",
    "_linalg_check_errors", "_assert_scalar", "_functional_assert_async",
    "im2col",  # unfolding patches copies them; the matmul that follows is the arithmetic
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

# Resampling: per output element the Upsample layer's FLOPs for the same interpolation (costing.layers.misc).
UPSAMPLE_MODES = {"upsample_nearest1d": "nearest", "upsample_nearest2d": "nearest", "upsample_nearest3d": "nearest",
                  "_upsample_nearest_exact1d": "nearest", "_upsample_nearest_exact2d": "nearest",
                  "_upsample_nearest_exact3d": "nearest", "upsample_linear1d": "linear",
                  "upsample_bilinear2d": "bilinear", "_upsample_bilinear2d_aa": "bilinear",
                  "upsample_bicubic2d": "bicubic", "_upsample_bicubic2d_aa": "bicubic",
                  "upsample_trilinear3d": "trilinear"}
GRID_SAMPLER_MODES = {0: "bilinear", 1: "nearest", 2: "bicubic"}  # grid_sampler's interpolation_mode codes
# Ordering ops: comparisons. sort/argsort: n log2(L) per row of length L; topk: n log2(k) (a heap of k);
# kthvalue/median: n (selection); nonzero/masked_select/unique: one compare per element scanned (their output size
# depends on the values, the scan does not).
ORDERING_OPS = frozenset({"sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "nonzero",
                          "masked_select", "_unique2", "unique_dim", "unique_consecutive", "histc", "bincount",
                          "bucketize", "searchsorted"})
UNTAGGED_POINTWISE = frozenset({"floor_divide", "remainder", "fmod"})
# Scatter-style writes: a plain write is data movement; an accumulating one adds each source element once.
SCATTER_OPS = frozenset({"index_put", "index_put_", "_index_put_impl_", "scatter", "scatter_", "scatter_add",
                         "scatter_add_", "scatter_reduce", "scatter_reduce_", "index_add", "index_add_",
                         "index_reduce", "index_reduce_"})
# Ops whose work depends on the values, not only the shapes: not counted, and the report says so.
DATA_DEPENDENT = {"nms": "non-maximum suppression compares each kept box with the remaining ones: its work depends "
                         "on how many boxes score and overlap (at most n(n-1)/2 IoUs for n boxes)"}


@dataclass(slots=True)
class OpCost:
    macs: int = 0
    bias_adds: int = 0
    elementwise: int = 0
    attention_macs: int = 0
    category: str = "other"  # what the op is, for rows that take their category from their ops
    ptflops: int = 0  # what ptflops' torch.* / F.* patches charge for this call (rows without a module hook)
    fvcore_elements: int = 0  # fvcore's element counts beyond MACs (norms, adaptive pooling, resampling)


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
    if name.rstrip("_") in POINTWISE_FLOPS or name.rstrip("_") in UNTAGGED_POINTWISE:  # in-place variants
        return "pointwise"  # (hardswish_) and a few element-wise ops lack the pointwise tag
    if name in ("grouped_mm", "grouped_mm_fallback"):  # F.grouped_mm, transformers' own fallback op: the same
        return "_grouped_mm"
    if name in ("_grouped_mm", "grid_sampler_2d", "grid_sampler_3d", "_weight_norm_interface", "col2im",
                "roi_align"):
        return name
    if name in UPSAMPLE_MODES:
        return "upsample"
    if name in ORDERING_OPS:
        return "ordering"
    if name in SCATTER_OPS:
        return "scatter"
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
    """The cost of one call of an op of `kind` (see `classify`), with what ptflops and fvcore charge for it."""
    c = _cost(kind, func, args, kwargs, out)
    name = func.overloadpacket.__name__
    c.ptflops = _ptflops(kind, name, args, kwargs, out, c)
    c.fvcore_elements = _fvcore_elements(kind, name, args, kwargs, out)
    return c


def ptflops_patched(charges: dict[str, int], module: Any) -> int:
    """ptflops' charges for a row's ops, less those of torch.nn.functional functions the module captured at
    construction (`self.activation = F.relu` in nn.TransformerEncoderLayer, HF's `self.act = F.gelu`): ptflops
    patches the attribute `F.relu` later, so a reference taken before runs unpatched and is never counted."""
    functional = _functional_names()
    members = vars(module).values() if module is not None else ()  # no module: a flat graph (TorchScript, export)
    captured = tuple(functional[id(v)] for v in members if id(v) in functional)
    return sum(v for op, v in charges.items() if not (captured and op.strip("_").startswith(captured)))


_FUNCTIONAL: dict[int, str] = {}


def _functional_names() -> dict[int, str]:
    """id -> name of the torch.nn.functional functions (Python ones and C builtins such as F.gelu)."""
    if not _FUNCTIONAL:
        import inspect

        import torch.nn.functional as F

        _FUNCTIONAL.update({id(f): name for name, f in vars(F).items()
                            if (inspect.isfunction(f) or inspect.isbuiltin(f)) and not name.startswith("_")})
    return _FUNCTIONAL


def _is_global_avg_pool(name: str, args: tuple, kwargs: dict) -> bool:
    """`mean` over the last two dims with keepdim: what F.adaptive_avg_pool2d(x, 1) dispatches as."""
    if name != "mean" or not args or getattr(args[0], "dim", lambda: 0)() != 4:
        return False
    dims = _arg(args, kwargs, 1, "dim", None)
    keep = bool(_arg(args, kwargs, 2, "keepdim", False))
    return keep and isinstance(dims, (list, tuple)) and sorted(d % 4 for d in dims) == [2, 3]


def _ptflops(kind: str, name: str, args: tuple, kwargs: dict, out: Any, c: OpCost) -> int:
    first = _numel(args[0]) if args else 0
    return ptflops_op(name, c.macs, c.attention_macs, first, _numel(out),
                      name in POOL_OPS or _is_global_avg_pool(name, args, kwargs), kind == "upsample")


def _fvcore_elements(kind: str, name: str, args: tuple, kwargs: dict, out: Any) -> int:
    norm = kind == "norm"
    index = 2 if name == "native_layer_norm" else 1  # where a norm op takes its weight
    affine = norm and len(args) > index and args[index] is not None
    first = _numel(args[0]) if args else 0
    return fvcore_op_elements(name, first, _numel(out), norm, affine, _is_global_avg_pool(name, args, kwargs))


def _cost(kind: str, func: Any, args: tuple, kwargs: dict, out: Any) -> OpCost:
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
    return _more_cost(kind, name, args, kwargs, out)


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any) -> Any:
    return kwargs[name] if name in kwargs else args[index] if len(args) > index else default


def _more_cost(kind: str, name: str, args: tuple, kwargs: dict, out: Any) -> OpCost:
    if kind == "_grouped_mm":  # MoE experts: each row of mat_a meets one group's (K, N) matrix
        a, b = args[0], args[1]
        macs = _numel(out) * a.shape[-1]
        if a.dim() == 2 and b.dim() == 2:  # groups split K: out is (G, M, N), each sums over its share of K
            macs //= out.shape[0]
        return OpCost(macs=macs, category="linear")
    if kind == "upsample":
        return OpCost(elementwise=_numel(out) * UPSAMPLE_FLOPS[UPSAMPLE_MODES[name]], category="other")
    if kind in ("grid_sampler_2d", "grid_sampler_3d"):
        spatial = 2 if kind == "grid_sampler_2d" else 3
        mode = GRID_SAMPLER_MODES.get(int(_arg(args, kwargs, 2, "interpolation_mode", 0)), "bilinear")
        if spatial == 3 and mode == "bilinear":
            mode = "trilinear"
        grid_points = _numel(args[1]) // spatial  # each point's coordinates are unnormalised: a multiply and an add
        return OpCost(elementwise=_numel(out) * UPSAMPLE_FLOPS[mode] + 2 * spatial * grid_points, category="other")
    if kind == "_weight_norm_interface":  # w = g * v / ||v||: square and add per element, sqrt and divide per
        v, g = args[0], args[1]  # norm, a multiply per element
        return OpCost(elementwise=3 * _numel(v) + 2 * _numel(g), category="other")
    if kind == "col2im":  # folding adds the overlapping patches back together
        return OpCost(elementwise=_numel(args[0]), category="other")
    if kind == "roi_align":  # torchvision: sampling_ratio^2 bilinear samples (7 FLOPs + 1 add) per output, a divide
        ratio = int(_arg(args, kwargs, 5, "sampling_ratio", -1))
        if ratio <= 0:  # adaptive: the sample count follows each box's size, i.e. the values
            return OpCost(category="other")
        return OpCost(elementwise=_numel(out) * (ratio * ratio * (UPSAMPLE_FLOPS["bilinear"] + 1) + 1),
                      category="other")
    if kind == "ordering":
        x = args[0]
        n = _numel(x)
        if name in ("sort", "argsort", "msort"):
            length = x.shape[0 if name == "msort" else int(_arg(args, kwargs, 1, "dim", -1))] if x.dim() else 1
            return OpCost(elementwise=n * max(1, (length - 1).bit_length()), category="other")
        if name == "topk":
            k = int(_arg(args, kwargs, 1, "k", 1))
            return OpCost(elementwise=n * max(1, (k - 1).bit_length()), category="other")
        if name in ("searchsorted", "bucketize"):  # a binary search of each query among L boundaries
            queries, bounds = (args[1], args[0]) if name == "searchsorted" else (args[0], args[1])
            steps = max(1, (bounds.shape[-1] if bounds.dim() else 1).bit_length())
            return OpCost(elementwise=_numel(queries) * steps, category="other")
        return OpCost(elementwise=n, category="other")
    if kind == "scatter":
        if name.startswith(("index_put", "_index_put")):  # (self, indices, values, accumulate)
            accumulate = bool(_arg(args, kwargs, 3, "accumulate", False))
            source = _arg(args, kwargs, 2, "values", None)
        elif name.startswith("scatter"):  # (self, dim, index, src | value, ...): one element per index entry;
            # a plain scatter only writes, the others (and scatter with reduce=) combine with what is there
            accumulate = name not in ("scatter", "scatter_") or len(args) > 4 or "reduce" in kwargs
            source = args[2]
        else:  # index_add / index_reduce (self, dim, index, source, ...)
            accumulate, source = True, _arg(args, kwargs, 3, "source", None)
        return OpCost(elementwise=_numel(source) if accumulate else 0, category="other")
    raise ValueError(kind)


def data_dependent_notes(ops: set[str]) -> list[str]:
    """One plain line per op among `ops` whose cost depends on the values (they are listed, not counted)."""
    return [f"{op} is data-dependent and not counted: {DATA_DEPENDENT[op]}" for op in sorted(ops)
            if op in DATA_DEPENDENT]


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
