"""Normalisation: BatchNorm1d/2d/3d, LayerNorm, GroupNorm, RMSNorm (inference-mode costs)."""

from __future__ import annotations

from ..args import Arg
from ..errors import SpecError
from ..registry import Out, register
from ._shape import expect_rank, fmt_shape, infer, numel

# NetCost's per-element FLOPs: BatchNorm in inference folds to one multiply-add (2); LayerNorm/GroupNorm compute
# mean and variance on the fly (4) plus the affine multiply-add (+1, as fvcore counts it: 5); RMSNorm: square,
# sum, scale (3) + affine (1).


def bn_args(type_: str) -> tuple[Arg, ...]:
    return (
        Arg("num_features", "int", minimum=1, inferred=True),
        Arg("eps", "float", 1e-5, minimum=0),
        Arg("momentum", "opt_float", 0.1),
        Arg("affine", "bool", True),
        Arg("track_running_stats", "bool", True),
    )


BN_RANKS = {"BatchNorm1d": (2, 3), "BatchNorm2d": (4,), "BatchNorm3d": (5,)}


@register("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", category="norm", args=bn_args)
def batch_norm(a: dict, x: tuple[int, ...], type_: str) -> Out:
    """BatchNorm: params = 2*C (affine); buffers = 2*C + 1 (running mean, var, num_batches_tracked)."""
    expect_rank(x, BN_RANKS[type_], "(batch, channels, ...)")
    inferred: dict = {}
    c = infer(a, "num_features", x[1], inferred)
    n = numel(x)
    if not a["track_running_stats"] and n // c == 1:  # always normalises with the batch's own statistics
        raise SpecError(f"without running statistics it needs more than 1 value per channel, got input "
                        f"{fmt_shape(x)}", "track_running_stats")
    affine = a["affine"]
    return Out(x, params=2 * c if affine else 0, buffers=2 * c + 1 if a["track_running_stats"] else 0,
               tensors=((c,), (c,)) if affine else (),
               elementwise=2 * n, ptflops_elements=n * (2 if affine else 1), thop_elements=n * (4 if affine else 2),
               fvcore_elements=n * (2 if affine else 1), inferred=inferred)


def _trailing(a: dict, x: tuple[int, ...], inferred: dict) -> tuple[int, ...]:
    ns = a["normalized_shape"]
    if ns is None:
        inferred["normalized_shape"] = [x[-1]]
        return (x[-1],)
    if len(ns) > len(x) or tuple(x[len(x) - len(ns):]) != tuple(ns):
        raise SpecError(f"normalized_shape={list(ns)} does not match the trailing dims of the input "
                        f"{fmt_shape(x)}", "normalized_shape")
    return ns


LN_ARGS = (
    Arg("normalized_shape", "shape", minimum=1, inferred=True),
    Arg("eps", "float", 1e-5, minimum=0),
    Arg("elementwise_affine", "bool", True),
    Arg("bias", "bool", True),
)


@register("LayerNorm", category="norm", args=LN_ARGS)
def layer_norm(a: dict, x: tuple[int, ...]) -> Out:
    """LayerNorm over the trailing `normalized_shape`: params = prod(shape) * (1 + bias) when affine."""
    inferred: dict = {}
    ns = _trailing(a, x, inferred)
    size = numel(ns)
    affine = a["elementwise_affine"]
    params = size * (2 if a["bias"] else 1) if affine else 0
    n = numel(x)
    # ptflops' norm hook doubles for `module.affine`, which LayerNorm does not have (it is elementwise_affine): once
    return Out(x, params=params, elementwise=n * (5 if affine else 4), ptflops_elements=n,
               tensors=(tuple(ns),) * (2 if a["bias"] else 1) if affine else (),
               thop_elements=n * (4 if affine else 2), fvcore_elements=n * (5 if affine else 4), inferred=inferred)


@register("LayerNorm2d", category="norm", args=LN_ARGS)
def layer_norm_2d(a: dict, x: tuple[int, ...]) -> Out:
    """LayerNorm over the channels of a (N, C, H, W) map at each position (ConvNeXt's, in torchvision and timm: an
    nn.LayerNorm subclass that permutes to channels-last and back): params = C * (1 + bias) when affine."""
    expect_rank(x, (4,), "(batch, channels, height, width)")
    inferred: dict = {}
    ns = a["normalized_shape"]
    if ns is None:
        inferred["normalized_shape"] = [x[1]]
        ns = (x[1],)
    elif tuple(ns) != (x[1],):
        raise SpecError(f"normalized_shape={list(ns)} must be the channels of the input {fmt_shape(x)}",
                        "normalized_shape")
    affine = a["elementwise_affine"]
    params = x[1] * (2 if a["bias"] else 1) if affine else 0
    n = numel(x)
    # a subclass with its own forward: thop's and ptflops' hooks go by exact class (nn.LayerNorm) and never see it;
    # fvcore counts its layer_norm op; torchinfo its weight and bias by the batch dim (its default rule)
    return Out(x, params=params, elementwise=n * (5 if affine else 4), fvcore_elements=n * (5 if affine else 4),
               inferred=inferred, peer={"thop": 0, "ptflops": 0},
               tensors=((x[1],),) * (2 if a["bias"] else 1) if affine else ())


@register("CustomLayerNorm", category="norm", args=LN_ARGS)
def custom_layer_norm(a: dict, x: tuple[int, ...]) -> Out:
    """LayerNorm's arithmetic in a subclass with its own forward (timm's LayerNorm): costs as LayerNorm; the peer
    tools hook exact classes, so thop and ptflops never see it (0), fvcore counts its layer_norm op."""
    out = layer_norm(a, x)
    out.peer = {"thop": 0, "ptflops": 0}
    return out


GN_ARGS = (
    Arg("num_groups", "int", minimum=1),
    Arg("num_channels", "int", minimum=1, inferred=True),
    Arg("eps", "float", 1e-5, minimum=0),
    Arg("affine", "bool", True),
)


@register("GroupNorm", category="norm", args=GN_ARGS)
def group_norm(a: dict, x: tuple[int, ...]) -> Out:
    """GroupNorm: params = 2*C when affine; C must be divisible by num_groups."""
    if len(x) < 2:
        expect_rank(x, (2, 3, 4, 5), "(batch, channels, ...)")
    inferred: dict = {}
    c = infer(a, "num_channels", x[1], inferred)
    if c % a["num_groups"]:
        raise SpecError(f"num_groups={a['num_groups']} does not divide num_channels={c}", "num_groups")
    n = numel(x)
    if n // a["num_groups"] == 1:  # torch: each group's statistics need more than one value
        raise SpecError(f"each of the {a['num_groups']} groups needs more than 1 value, got input {fmt_shape(x)}",
                        "num_groups")
    affine = a["affine"]
    return Out(x, params=2 * c if affine else 0, elementwise=n * (5 if affine else 4),
               ptflops_elements=n * (2 if affine else 1), thop_elements=n * (4 if affine else 2),
               fvcore_elements=n * (5 if affine else 4), inferred=inferred, tensors=((c,), (c,)) if affine else ())


RMS_ARGS = (
    Arg("normalized_shape", "shape", minimum=1, inferred=True),
    Arg("eps", "opt_float", None),
    Arg("elementwise_affine", "bool", True),
)


@register("RMSNorm", category="norm", args=RMS_ARGS)
def rms_norm(a: dict, x: tuple[int, ...]) -> Out:
    """RMSNorm: params = prod(normalized_shape) when affine."""
    inferred: dict = {}
    ns = _trailing(a, x, inferred)
    affine = a["elementwise_affine"]
    n = numel(x)
    # thop 0.1.1 has no rule for nn.RMSNorm (newer than it): it charges nothing, so no thop_elements
    return Out(x, params=numel(ns) if affine else 0, elementwise=n * (4 if affine else 3), inferred=inferred,
               tensors=(tuple(ns),) if affine else ())
