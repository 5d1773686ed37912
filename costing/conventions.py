"""Counting conventions: NetCost's MACs and FLOPs, and named views that reproduce what each peer tool prints.

Every figure on screen or in an export names its convention. The peer views are functions of the same per-layer
records, modelled on each tool's counting rules (torch 2.13; see docs/conventions.md):

- ``macs``: multiply-accumulates of conv, linear, matmul (incl. attention QK^T/AV) and recurrent gates.
- ``flops``: NetCost FLOPs = 2 x MACs + bias adds + element-wise work (activations, pooling, normalisation).
- ``thop``: thop ``profile`` "flops": MACs of the modules it has rules for; misses attention matmuls and
  ``nn.MultiheadAttention``; adds its norm/avg-pool/softmax element counts; ReLU and max-pool are free.
- ``fvcore``: ``FlopCountAnalysis`` "flops": one per MAC; LSTM/GRU/RNN count 0; attention matmuls missed; norms
  and adaptive avg-pool per element.
- ``torchinfo``: "mult-adds": each parameter x output positions (convs: spatial; recurrent: batch x seq; others
  the first dim only, which is why it is far too low on token inputs).
- ``ptflops``: "MACs" of its pytorch backend: MACs + bias adds + element counts of activations, pooling and norms,
  with ReLU-family and pooling counted twice (module hook and torch.nn.functional patch).
- ``flop_counter``: ``torch.utils.flop_counter.FlopCounterMode``: 2 x MACs of mm/bmm/conv/SDPA, bias ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod

from .records import Totals
from .registry import Out

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Convention:
    key: str
    label: str  # what a column or axis says ("FLOPs (NetCost)")
    unit: str  # "MACs" or "FLOPs"
    description: str  # one line: menus and tooltips
    counts: str  # what it counts, with its formula: Help ▸ Conventions and docs/conventions.md (checked equal)


CONVENTIONS: dict[str, Convention] = {c.key: c for c in (
    Convention("flops", "FLOPs", "FLOPs", "NetCost FLOPs: 2 per MAC + bias adds + element-wise work",
               "2 × MACs + bias adds + element-wise work (table below)"),
    Convention("macs", "MACs", "MACs", "multiply-accumulates of conv, linear, matmul and recurrent gates",
               "multiply-accumulates of conv, linear, matmul (incl. attention QKᵀ and AV) and recurrent gates"),
    Convention("thop", "thop flops", "MACs", "as thop's profile() prints it: MACs of conv/linear/RNN, no attention",
               "thop `profile`: MACs of conv/linear/RNN modules; attention matmuls and `nn.MultiheadAttention` "
               "missed; norm/avg-pool/softmax element counts; ReLU and max-pool free"),
    Convention("fvcore", "fvcore flops", "MACs", "as fvcore's FlopCountAnalysis: 1 per MAC, RNNs 0, no attention",
               "`FlopCountAnalysis`: one per MAC; LSTM/GRU/RNN count 0; attention matmuls missed; norms per "
               "element"),
    Convention("torchinfo", "torchinfo mult-adds", "MACs", "as torchinfo prints: params x output positions",
               '"mult-adds": each parameter × output positions (convs: spatial positions; recurrent: batch × seq; '
               "others: the first dim only — far too low on token inputs)"),
    Convention("ptflops", "ptflops MACs", "MACs", "as ptflops prints: MACs + bias + element-wise, some twice",
               "pytorch backend: MACs + bias adds + activation/pool/norm elements, ReLU-family and pooling counted "
               "twice (module hook + functional patch)"),
    Convention("flop_counter", "FlopCounterMode", "FLOPs", "torch.utils.flop_counter: 2 x MACs, bias ignored",
               "`torch.utils.flop_counter.FlopCounterMode`: 2 × MACs of mm/bmm/conv/SDPA, bias ignored"),
)}

# NetCost's element-wise work per element, the `flops` convention's third term (docs/conventions.md: under the
# table; Help ▸ Conventions shows the same text)
ELEMENTWISE_RULES = (
    "NetCost's element-wise FLOPs per element: ReLU 1, ReLU6 2, LeakyReLU 2, Sigmoid 4, Tanh 5, SiLU 5, GELU 8 "
    "(tanh form 9), Hardswish 5, Softmax 5; max-pool k−1 comparisons and avg-pool k operations per output; "
    "BatchNorm 2 per element (inference, folded), LayerNorm/GroupNorm 5 (4 without affine), RMSNorm 4 (3); "
    "LSTM/GRU/RNN gates 13/10/2 per hidden unit, step and direction; attention softmax 4 per score."
)


def netcost_flops(out: Out) -> int:
    return 2 * out.macs + out.bias_adds + out.elementwise


def peer_figures(category: str, out: Out, params: int) -> dict[str, int]:
    """What each peer tool charges for one layer, by the rules in this module's docstring."""
    shape = out.shape
    thop = 0 if category == "attention" else out.macs - out.attention_macs + out.thop_elements
    fvcore = 0 if category == "recurrent" else out.macs - out.attention_macs + out.fvcore_elements
    if category == "conv":
        torchinfo = out.macs + out.bias_adds
    elif category == "recurrent":
        torchinfo = params * prod(shape[:2])
    else:
        torchinfo = params * (shape[0] if shape else 1)
    ptflops = out.macs + out.bias_adds + out.ptflops_elements * (2 if out.ptflops_functional else 1)
    figures = {"thop": thop, "fvcore": fvcore, "torchinfo": torchinfo, "ptflops": ptflops,
               "flop_counter": 2 * out.macs}
    figures.update(out.peer)
    return figures


def measured_totals(macs: int, bias_adds: int, elementwise: int, attention_macs: int, params: int, trainable: int,
                    buffers: int, read: int, written: int, category: str, known_module: bool, elem: int,
                    out_shape: Shape, fvcore_elements: int = 0, ptflops: int | None = None,
                    torchinfo: int | None = None) -> Totals:
    """The totals of work a tracer measured (an opaque node: a module call or an op no formula reproduces). Peer
    views: a torch.nn module of a known kind by the rules for its category; fvcore counts ops whatever module runs
    them (matmuls and convolutions but not fused attention, whose MACs are attention_macs; norms, adaptive pooling
    and resampling by its element rules: `fvcore_elements`); for functional work and unknown modules thop's module
    rules never see them, ptflops only the torch.* / F.* calls it patches (`ptflops`, what those patches charged),
    and torchinfo applies its name rule to leaf modules of any class (`torchinfo`: `torchinfo_leaf` of the call)."""
    out = Out(out_shape, params=params, buffers=buffers, macs=macs, bias_adds=bias_adds, elementwise=elementwise,
              attention_macs=attention_macs)
    peers = peer_figures(category, out, params)
    peers["fvcore"] = 0 if category == "recurrent" and known_module else macs - attention_macs + fvcore_elements
    if not known_module:
        peers.update(thop=0, torchinfo=torchinfo or 0,
                     ptflops=ptflops if ptflops is not None else macs - attention_macs + bias_adds)
    return Totals(params=params, trainable_params=trainable, frozen_params=params - trainable, buffers=buffers,
                  macs=macs, flops=netcost_flops(out), bias_adds=bias_adds, elementwise_flops=elementwise,
                  attention_macs=attention_macs, param_bytes=params * elem, activation_bytes=written,
                  read_bytes=read, written_bytes=written, memory_access_bytes=read + written, **peers)


# --- the peer tools' rules for one traced aten op (model_io.importers.op_costs measures the element counts) ---

# ptflops 0.7.4 patches these torch.nn.functional calls (input elements; interpolate: output elements; the pools
# too, `ptflops_op`'s `pool`) and torch.matmul/mm/bmm/addmm/baddbmm (MACs, the added tensor once); F.conv*,
# F.linear and SDPA are not patched.
PTFLOPS_FUNCTIONAL_OPS = frozenset({"relu", "relu_", "gelu", "gelu_", "silu", "silu_", "elu", "elu_", "prelu",
                                    "_prelu_kernel", "_softmax"})
PTFLOPS_MATMULS = frozenset({"mm", "bmm", "addmm", "baddbmm"})
# fvcore's handles beyond matmuls and convolutions, by the aten op the dispatcher sees for them
FVCORE_ELEMENTS = {"_adaptive_avg_pool2d": ("in", 1), "adaptive_avg_pool2d": ("in", 1),
                   "upsample_nearest2d": ("out", 1), "upsample_bilinear2d": ("out", 4),
                   "grid_sampler_2d": ("out", 4)}


def ptflops_op(name: str, macs: int, attention_macs: int, first_in: int, out: int, pool: bool,
               upsample: bool) -> int:
    """What ptflops' torch.* / F.* patches charge for one call of aten op `name` (rows without a module hook):
    `first_in`/`out` the elements of its first input and of its output, `pool` a pooling op (or the mean that
    F.adaptive_avg_pool2d(x, 1) runs as), `upsample` a resampling op."""
    if name in PTFLOPS_MATMULS:  # not the matmuls of fused attention (SDPA runs as bmm here; ptflops never sees it)
        added = first_in if name in ("addmm", "baddbmm") else 0
        return macs - attention_macs + (added if not attention_macs else 0)
    if name in PTFLOPS_FUNCTIONAL_OPS or pool:
        return first_in
    if upsample:
        return out
    return 0


def fvcore_op_elements(name: str, first_in: int, out: int, norm: bool, affine: bool, global_avg_pool: bool) -> int:
    """fvcore's element counts beyond MACs for one call of aten op `name`: norms (layer/group norm 5 per element
    with affine, else 4; batch norm in eval 2 / 1; no RMSNorm handle), adaptive average pooling and resampling."""
    if global_avg_pool:
        return first_in
    if norm:
        if name == "_fused_rms_norm":
            return 0
        if "batch_norm" in name:
            return first_in * (2 if affine else 1)
        return first_in * (5 if affine else 4)
    rule = FVCORE_ELEMENTS.get(name)
    if rule is None:
        return 0
    side, scale = rule
    return scale * (first_in if side == "in" else out)


def torchinfo_leaf(class_name: str, params: Sequence[tuple[str, int]], out_shape: Shape) -> int:
    """torchinfo's mult-adds of one call of a leaf module of any class, by its rule (torchinfo 1.8,
    `LayerInfo.calculate_macs`), which goes by names: a parameter named `weight` or `bias` counts numel x output
    positions (all dims but the channels when the class name contains "Conv", so HF GPT-2's Conv1D counts as a
    convolution; else the first dim), other names with weight/bias in them (`weight_ih_l0`) numel x the first two
    dims, any other parameter (`gamma`, `cls_token`) nothing."""
    total = 0
    for name, numel in params:
        if name in ("weight", "bias"):
            positions = prod(out_shape[:1] + out_shape[2:]) if "Conv" in class_name else \
                (out_shape[0] if out_shape else 1)
            total += numel * positions
        elif "weight" in name or "bias" in name:
            total += numel * prod(out_shape[:2])
    return total


def convention_value(totals: object, convention: str) -> int:
    """The figure of a `Totals` (of a layer, a category or a model) under `convention`."""
    if convention not in CONVENTIONS:
        raise KeyError(f"unknown convention {convention!r} (choose one of {', '.join(CONVENTIONS)})")
    return int(getattr(totals, convention))
