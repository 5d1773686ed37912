"""Hypothesis strategies for single layers, and the torch reference they are checked against.

A `Case` is one layer kind at one input shape: the full torch constructor arguments (`kwargs`), the spec the engine
is given (`spec_args`: the same, with input-size arguments sometimes left out to be inferred) and the input shape
(with batch). Strategies build *mostly* valid cases by construction and also wander over the edges (padding at the
limit, ceil_mode, reflect/circular padding, small inputs), so the tests are differential: whatever torch refuses
the engine must refuse with a `LayerError`, and whatever torch runs the engine must cost identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

Shape = tuple[int, ...]


@dataclass
class Case:
    type: str
    kwargs: dict[str, Any]  # the torch constructor's arguments (input sizes always present)
    spec_args: dict[str, Any]  # what the engine's LayerSpec gets
    shape: Shape  # the input, with batch
    token_input: bool = False  # int64 token ids (Embedding)
    extra: dict[str, Any] = field(default_factory=dict)


def _maybe_drop(draw: Any, kwargs: dict[str, Any], *inferred: str) -> dict[str, Any]:
    """The engine spec: the torch kwargs, with each input-size argument left out half of the time."""
    spec = dict(kwargs)
    for name in inferred:
        if name in spec and draw(st.booleans()):
            del spec[name]
    return spec


def _per_dim(draw: Any, n: int, lo: int, hi: int) -> int | list[int]:
    """An int (same for every dim) or a list of n ints, as a user may write either."""
    if n == 1 or draw(st.booleans()):
        v = draw(st.integers(lo, hi))
        return v if draw(st.booleans()) or n > 1 else [v]
    return [draw(st.integers(lo, hi)) for _ in range(n)]


def _expand(v: int | list[int], n: int) -> list[int]:
    return [v] * n if isinstance(v, int) else list(v)


# ---------------------------------------------------------------------------------------------------- conv family
@st.composite
def conv_case(draw: Any, type_: str) -> Case:
    n = int(type_[-2])
    g = draw(st.integers(1, 3))
    cin, cout = g * draw(st.integers(1, 3)), g * draw(st.integers(1, 3))
    k = _per_dim(draw, n, 1, 4)
    d = _per_dim(draw, n, 1, 3) if draw(st.booleans()) else 1
    padding_mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
    pad_kind = draw(st.sampled_from(["int", "int", "same", "valid"]))
    s: int | list[int] = 1 if pad_kind == "same" else _per_dim(draw, n, 1, 3)
    padding: Any = pad_kind if pad_kind != "int" else _per_dim(draw, n, 0, 3)
    eff = [dd * (kk - 1) + 1 for dd, kk in zip(_expand(d, n), _expand(k, n), strict=True)]
    pads = [0] * n if isinstance(padding, str) else _expand(padding, n)
    # mostly large enough for the window; sometimes one short (torch must refuse it, and so must the engine)
    slack = draw(st.integers(-1, 4))
    spatial = [max(1, e - 2 * p + slack + draw(st.integers(0, 2))) for e, p in zip(eff, pads, strict=True)]
    kwargs = {"in_channels": cin, "out_channels": cout, "kernel_size": k, "stride": s, "padding": padding,
              "dilation": d, "groups": g, "bias": draw(st.booleans()), "padding_mode": padding_mode}
    spec = _maybe_drop(draw, kwargs, "in_channels")
    return Case(type_, kwargs, spec, (draw(st.integers(1, 2)), cin, *spatial))


@st.composite
def conv_transpose_case(draw: Any, type_: str) -> Case:
    n = int(type_[-2])
    g = draw(st.integers(1, 3))
    cin, cout = g * draw(st.integers(1, 3)), g * draw(st.integers(1, 3))
    k = _per_dim(draw, n, 1, 4)
    s = _per_dim(draw, n, 1, 3)
    d = _per_dim(draw, n, 1, 3) if draw(st.booleans()) else 1
    p = _per_dim(draw, n, 0, 2)
    # output_padding must be smaller than stride or dilation: draw in range, and now and then one past it
    past = draw(st.integers(0, 7)) == 0
    op = [draw(st.integers(0, max(a, b) - (0 if past else 1))) for a, b in zip(_expand(s, n), _expand(d, n),
                                                                               strict=True)]
    kwargs = {"in_channels": cin, "out_channels": cout, "kernel_size": k, "stride": s, "padding": p,
              "output_padding": op, "groups": g, "bias": draw(st.booleans()), "dilation": d}
    spec = _maybe_drop(draw, kwargs, "in_channels")
    spatial = [draw(st.integers(1, 5)) if past else draw(st.integers(2, 5)) for _ in range(n)]
    return Case(type_, kwargs, spec, (draw(st.integers(1, 2)), cin, *spatial))


@st.composite
def dws_case(draw: Any, type_: str) -> Case:
    n = int(type_[-2])
    cin, cout = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    k = _per_dim(draw, n, 1, 4)
    s = _per_dim(draw, n, 1, 2)
    p = _per_dim(draw, n, 0, 2)
    d = draw(st.integers(1, 2))
    eff = [d * (kk - 1) + 1 for kk in _expand(k, n)]
    spatial = [max(1, e - 2 * pp + draw(st.integers(-1, 4))) for e, pp in zip(eff, _expand(p, n), strict=True)]
    kwargs = {"in_channels": cin, "out_channels": cout, "kernel_size": k, "stride": s, "padding": p,
              "dilation": d, "bias": draw(st.booleans())}
    spec = _maybe_drop(draw, kwargs, "in_channels")
    return Case(type_, kwargs, spec, (1, cin, *spatial))


# ------------------------------------------------------------------------------------------------ linear, recurrent
@st.composite
def linear_case(draw: Any, type_: str = "Linear") -> Case:
    leading = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))  # batch + any number of leading dims
    cin, cout = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kwargs = {"in_features": cin, "out_features": cout, "bias": draw(st.booleans())}
    return Case(type_, kwargs, _maybe_drop(draw, kwargs, "in_features"), (*leading, cin))


@st.composite
def hf_conv1d_case(draw: Any, type_: str = "Conv1D") -> Case:
    """Hugging Face's Conv1D(nf, nx): a linear layer with its weight stored transposed, always with a bias."""
    leading = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    nx, nf = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kwargs = {"nf": nf, "nx": nx}
    return Case(type_, kwargs, _maybe_drop(draw, kwargs, "nx"), (*leading, nx))


@st.composite
def recurrent_case(draw: Any, type_: str) -> Case:
    cin, h = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    kwargs: dict[str, Any] = {"input_size": cin, "hidden_size": h, "num_layers": draw(st.integers(1, 3)),
                              "bias": draw(st.booleans()), "batch_first": draw(st.booleans()),
                              "dropout": draw(st.sampled_from([0.0, 0.0, 0.25, 1.0])),
                              "bidirectional": draw(st.booleans())}
    if type_ == "LSTM":
        kwargs["proj_size"] = draw(st.integers(0, h))  # == h is refused by torch
    if type_ == "RNN":
        kwargs["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    b, t = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    shape = (b, t, cin) if kwargs["batch_first"] else (t, b, cin)
    return Case(type_, kwargs, _maybe_drop(draw, kwargs, "input_size"), shape)


@st.composite
def mha_case(draw: Any, type_: str = "MultiheadAttention") -> Case:
    heads, head_dim = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    e = heads * head_dim
    kwargs: dict[str, Any] = {"embed_dim": e, "num_heads": heads, "bias": draw(st.booleans()),
                              "batch_first": draw(st.booleans()), "dropout": draw(st.sampled_from([0.0, 0.1]))}
    if draw(st.booleans()):
        kwargs["kdim"] = kwargs["vdim"] = e
    b, seq = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    shape = (b, seq, e) if kwargs["batch_first"] else (seq, b, e)
    return Case(type_, kwargs, _maybe_drop(draw, kwargs, "embed_dim"), shape)


@st.composite
def embedding_case(draw: Any, type_: str = "Embedding") -> Case:
    n, dim = draw(st.integers(1, 20)), draw(st.integers(1, 8))
    kwargs: dict[str, Any] = {"num_embeddings": n, "embedding_dim": dim}
    if draw(st.booleans()):
        kwargs["padding_idx"] = draw(st.integers(-n, n - 1))
    if draw(st.booleans()):
        kwargs["scale_grad_by_freq"] = draw(st.booleans())
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    return Case(type_, kwargs, dict(kwargs), shape, token_input=True)


# ------------------------------------------------------------------------------------------------------------ norms
@st.composite
def batch_norm_case(draw: Any, type_: str) -> Case:
    c = draw(st.integers(1, 6))
    rank = {"BatchNorm1d": draw(st.sampled_from([2, 3])), "BatchNorm2d": 4, "BatchNorm3d": 5}[type_]
    kwargs: dict[str, Any] = {"num_features": c, "eps": draw(st.sampled_from([1e-5, 1e-3])),
                              "momentum": draw(st.sampled_from([0.1, None])), "affine": draw(st.booleans()),
                              "track_running_stats": draw(st.booleans())}
    shape = (draw(st.integers(1, 2)), c, *(draw(st.integers(1, 3)) for _ in range(rank - 2)))
    return Case(type_, kwargs, _maybe_drop(draw, kwargs, "num_features"), shape)


@st.composite
def layer_norm_case(draw: Any, type_: str) -> Case:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    k = draw(st.integers(1, len(shape)))
    kwargs: dict[str, Any] = {"normalized_shape": list(shape[len(shape) - k:]),
                              "elementwise_affine": draw(st.booleans())}
    if type_ in ("LayerNorm", "CustomLayerNorm"):
        kwargs["bias"] = draw(st.booleans())
    else:
        kwargs["eps"] = draw(st.sampled_from([None, 1e-6]))
    spec = dict(kwargs)
    if k == 1 and draw(st.booleans()):  # only the last dim can be inferred
        del spec["normalized_shape"]
    return Case(type_, kwargs, spec, shape)


@st.composite
def layer_norm_2d_case(draw: Any, type_: str = "LayerNorm2d") -> Case:
    """ConvNeXt's channels-first LayerNorm on a (N, C, H, W) map; now and then a wrong normalized_shape or rank."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    if draw(st.integers(0, 9)) == 0:
        shape = shape[:3]
    c = shape[1] if draw(st.integers(0, 9)) else shape[1] + 1
    kwargs: dict[str, Any] = {"normalized_shape": [c], "elementwise_affine": draw(st.booleans()),
                              "bias": draw(st.booleans())}
    spec = dict(kwargs)
    if draw(st.booleans()):
        del spec["normalized_shape"]
        kwargs["normalized_shape"] = [shape[1]]
    return Case(type_, kwargs, spec, shape)


@st.composite
def group_norm_case(draw: Any, type_: str = "GroupNorm") -> Case:
    groups = draw(st.integers(1, 3))
    c = groups * draw(st.integers(1, 3))
    kwargs = {"num_groups": groups, "num_channels": c, "affine": draw(st.booleans())}
    shape = (draw(st.integers(1, 2)), c, *draw(st.lists(st.integers(1, 3), max_size=3)))
    return Case(type_, kwargs, _maybe_drop(draw, kwargs, "num_channels"), shape)


# ------------------------------------------------------------------------------------------------------------ pools
@st.composite
def pool_case(draw: Any, type_: str) -> Case:
    n = int(type_[-2])
    k = _per_dim(draw, n, 1, 4)
    kl = _expand(k, n)
    kwargs: dict[str, Any] = {"kernel_size": k}
    if draw(st.booleans()):
        kwargs["stride"] = _per_dim(draw, n, 1, 3)
    # padding up to half the kernel is legal; one more is sometimes drawn (torch refuses it)
    kwargs["padding"] = [draw(st.integers(0, kk // 2 + (1 if draw(st.integers(0, 9)) == 0 else 0))) for kk in kl]
    kwargs["ceil_mode"] = draw(st.booleans())
    d = [1] * n
    if type_.startswith("Max"):
        d = [draw(st.integers(1, 2)) for _ in range(n)]
        kwargs["dilation"] = d
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
        if type_ == "AvgPool2d" and draw(st.booleans()):
            kwargs["divisor_override"] = draw(st.integers(1, 5))
    eff = [dd * (kk - 1) + 1 for dd, kk in zip(d, kl, strict=True)]
    spatial = [max(1, e - 2 * p + draw(st.integers(-2, 4))) for e, p in zip(eff, kwargs["padding"], strict=True)]
    return Case(type_, kwargs, dict(kwargs), (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *spatial))


@st.composite
def adaptive_pool_case(draw: Any, type_: str) -> Case:
    n = int(type_[-2])
    if n == 1 or draw(st.booleans()):
        size: Any = draw(st.integers(1, 6))
    else:
        size = [draw(st.one_of(st.none(), st.integers(1, 6))) for _ in range(n)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *(draw(st.integers(1, 8)) for _ in range(n)))
    return Case(type_, {"output_size": size}, {"output_size": size}, shape)


# ------------------------------------------------------------------------------------------------ element-wise, misc
@st.composite
def activation_case(draw: Any, type_: str) -> Case:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    kwargs: dict[str, Any] = {}
    if type_ == "LeakyReLU":
        kwargs["negative_slope"] = draw(st.sampled_from([0.01, 0.2]))
    if type_ == "GELU":
        kwargs["approximate"] = draw(st.sampled_from(["none", "tanh"]))
    if type_ == "Softmax":
        kwargs["dim"] = draw(st.integers(-len(shape), len(shape) - 1))
    if type_ in ("ReLU", "ReLU6", "SiLU", "Hardswish") and draw(st.booleans()):
        kwargs["inplace"] = False
    return Case(type_, kwargs, dict(kwargs), shape)


@st.composite
def dropout_case(draw: Any, type_: str = "Dropout") -> Case:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    kwargs = {"p": draw(st.sampled_from([0.0, 0.5, 1.0]))}
    return Case(type_, kwargs, dict(kwargs), shape)


@st.composite
def flatten_case(draw: Any, type_: str = "Flatten") -> Case:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=5)))
    r = len(shape)
    kwargs: dict[str, Any] = {}
    start = draw(st.integers(-r, r - 1))
    s_abs = start + r if start < 0 else start
    end = draw(st.integers(s_abs, r - 1))
    if draw(st.booleans()):
        end -= r  # the same dim counted from the end
    kwargs = {"start_dim": start, "end_dim": end}
    return Case(type_, kwargs, dict(kwargs), shape)


@st.composite
def identity_case(draw: Any, type_: str = "Identity") -> Case:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    return Case(type_, {}, {}, shape)


@st.composite
def upsample_case(draw: Any, type_: str = "Upsample") -> Case:
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"]))
    n = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode) or draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *(draw(st.integers(1, 5)) for _ in range(n)))
    kwargs: dict[str, Any] = {"mode": mode}
    if draw(st.booleans()):
        kwargs["size"] = draw(st.integers(1, 7)) if draw(st.booleans()) else [
            draw(st.integers(1, 7)) for _ in range(n)]
    else:
        scale = st.sampled_from([0.5, 1.0, 1.5, 2, 2.0, 3, 2.5])
        kwargs["scale_factor"] = draw(scale) if draw(st.booleans()) else [draw(scale) for _ in range(n)]
        if draw(st.booleans()):
            kwargs["recompute_scale_factor"] = draw(st.booleans())
    if mode in ("linear", "bilinear", "bicubic", "trilinear") and draw(st.booleans()):
        kwargs["align_corners"] = draw(st.booleans())
    return Case(type_, kwargs, dict(kwargs), shape)


STRATEGIES: dict[str, Any] = {
    **{t: conv_case for t in ("Conv1d", "Conv2d", "Conv3d")},
    **{t: conv_transpose_case for t in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")},
    **{t: dws_case for t in ("DepthwiseSeparableConv1d", "DepthwiseSeparableConv2d")},
    "Linear": linear_case, "Conv1D": hf_conv1d_case,
    **{t: recurrent_case for t in ("LSTM", "GRU", "RNN")},
    "MultiheadAttention": mha_case,
    "Embedding": embedding_case,
    **{t: batch_norm_case for t in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")},
    "LayerNorm": layer_norm_case, "RMSNorm": layer_norm_case, "CustomLayerNorm": layer_norm_case,
    "LayerNorm2d": layer_norm_2d_case, "GroupNorm": group_norm_case,
    **{t: pool_case for t in ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d")},
    **{t: adaptive_pool_case for t in ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d")},
    **{t: activation_case for t in ("ReLU", "ReLU6", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Hardswish",
                                    "Softmax")},
    "Dropout": dropout_case, "Flatten": flatten_case, "Identity": identity_case, "Upsample": upsample_case,
}


def case(type_: str) -> Any:
    return STRATEGIES[type_](type_)
