"""Shape-only and lookup layers: Dropout, Flatten, Identity, Upsample, Embedding."""

from __future__ import annotations

from math import floor, prod

from ..args import Arg
from ..errors import SpecError
from ..registry import Out, register
from ._shape import numel

DROPOUT_ARGS = (Arg("p", "float", 0.5, minimum=0), Arg("inplace", "bool", False))


@register("Dropout", category="other", args=DROPOUT_ARGS)
def dropout(a: dict, x: tuple[int, ...]) -> Out:
    """Dropout: identity at inference; no cost, but its output is a tensor of its own (torchsummary counts it)."""
    if a["p"] > 1:
        raise SpecError(f"p={a['p']} must be between 0 and 1", "p")
    return Out(x)


@register("Flatten", category="other", args=(Arg("start_dim", "int", 1), Arg("end_dim", "int", -1)))
def flatten(a: dict, x: tuple[int, ...]) -> Out:
    """Flatten dims start_dim..end_dim: a view (no FLOPs, no memory of its own)."""
    r = len(x)
    s = a["start_dim"] + r if a["start_dim"] < 0 else a["start_dim"]
    e = a["end_dim"] + r if a["end_dim"] < 0 else a["end_dim"]
    if not 0 <= s < r:
        raise SpecError(f"start_dim={a['start_dim']} is out of range for a {r}-d input", "start_dim")
    if not 0 <= e < r:
        raise SpecError(f"end_dim={a['end_dim']} is out of range for a {r}-d input", "end_dim")
    if s > e:
        raise SpecError(f"start_dim={a['start_dim']} comes after end_dim={a['end_dim']}", "start_dim")
    return Out((*x[:s], prod(x[s:e + 1]), *x[e + 1:]), view=True)


@register("Identity", category="other", args=())
def identity(a: dict, x: tuple[int, ...]) -> Out:
    """Identity: passes its input on (a view)."""
    return Out(x, view=True)


UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "nearest-exact")
# FLOPs per output element: nearest copies; linear interpolation per dim is 3 FLOPs (2 mul, 1 add) per neighbour
# pair, so linear 3, bilinear 3*3 = 9 ... approximated as 2**(d+1) - 1; bicubic 4x4 taps, 2 FLOPs each.
UPSAMPLE_FLOPS = {"nearest": 0, "nearest-exact": 0, "linear": 3, "bilinear": 7, "trilinear": 15, "bicubic": 32}
UPSAMPLE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
UPSAMPLE_ARGS = (
    Arg("size", "opt_sizes", None, minimum=1),
    Arg("scale_factor", "opt_scales", None),
    Arg("mode", "choice", "nearest", choices=UPSAMPLE_MODES),
    Arg("align_corners", "opt_bool", None),
    Arg("recompute_scale_factor", "opt_bool", None),
)


def _per_dim(value: object, n: int, field: str) -> tuple:
    if not isinstance(value, tuple):
        return (value,) * n
    if len(value) != n:
        raise SpecError(f"{field}={list(value)!r} must have one entry per spatial dim ({n})", field)
    return value


@register("Upsample", category="other", args=UPSAMPLE_ARGS)
def upsample(a: dict, x: tuple[int, ...]) -> Out:
    """Upsample the spatial dims by `size` or `scale_factor` (exactly one): out = floor(in * scale)."""
    if len(x) not in (3, 4, 5):
        raise SpecError(f"expects a 3-d, 4-d or 5-d (batch, channels, spatial...) input, got {len(x)}-d", "input")
    n = len(x) - 2
    mode = a["mode"]
    if mode in UPSAMPLE_RANK and UPSAMPLE_RANK[mode] != n:
        raise SpecError(f"mode={mode!r} needs a {UPSAMPLE_RANK[mode] + 2}-d input, got {len(x)}-d", "mode")
    if a["align_corners"] is not None and mode not in UPSAMPLE_RANK:
        raise SpecError(f"align_corners can only be set with the interpolating modes, not mode={mode!r}",
                        "align_corners")
    if (a["size"] is None) == (a["scale_factor"] is None):
        raise SpecError("give exactly one of size and scale_factor", "size")
    if a["size"] is not None:
        spatial = _per_dim(a["size"], n, "size")
    else:
        scale = _per_dim(a["scale_factor"], n, "scale_factor")
        spatial = tuple(floor(x[2 + i] * scale[i]) for i in range(n))
    if any(s < 1 for s in spatial):
        raise SpecError(f"the upsampled size {list(spatial)} is empty", "scale_factor")
    out = (x[0], x[1], *spatial)
    # ptflops: its nn.Upsample hook and its F.interpolate patch each count the output elements
    return Out(out, elementwise=numel(out) * UPSAMPLE_FLOPS[mode], ptflops_elements=numel(out),
               ptflops_functional=True, fvcore_elements=numel(out) * (4 if mode == "bilinear" else 1))


EMBEDDING_ARGS = (
    Arg("num_embeddings", "int", minimum=1),
    Arg("embedding_dim", "int", minimum=1),
    Arg("padding_idx", "opt_int", None),
    Arg("max_norm", "opt_float", None),
    Arg("norm_type", "float", 2.0),
    Arg("scale_grad_by_freq", "bool", False),
    Arg("sparse", "bool", False),
)


@register("Embedding", category="embedding", args=EMBEDDING_ARGS)
def embedding(a: dict, x: tuple[int, ...]) -> Out:
    """Embedding lookup of token ids of any shape: params = N*D; no MACs; reads only the gathered rows."""
    n, d = a["num_embeddings"], a["embedding_dim"]
    if a["padding_idx"] is not None and not -n <= a["padding_idx"] < n:
        raise SpecError(f"padding_idx={a['padding_idx']} must be within num_embeddings={n}", "padding_idx")
    out = (*x, d)
    return Out(out, params=n * d, token_input=True, weight_reads=numel(out), tensors=((n, d),))
