"""Convolutions: Conv1d/2d/3d and ConvTranspose1d/2d (torch semantics, incl. groups, dilation, 'same')."""

from __future__ import annotations

from math import prod

from ..args import Arg
from ..errors import SpecError
from ..registry import Out, register
from ._shape import expect_rank, infer, numel, window_out

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def conv_args(type_: str) -> tuple[Arg, ...]:
    return (
        Arg("in_channels", "int", minimum=1, inferred=True),
        Arg("out_channels", "int", minimum=1),
        Arg("kernel_size", "ints", minimum=1),
        Arg("stride", "ints", 1, minimum=1),
        Arg("padding", "padding", 0, minimum=0),
        Arg("dilation", "ints", 1, minimum=1),
        Arg("groups", "int", 1, minimum=1),
        Arg("bias", "bool", True),
        Arg("padding_mode", "choice", "zeros", choices=PADDING_MODES),
    )


def convt_args(type_: str) -> tuple[Arg, ...]:
    return (
        Arg("in_channels", "int", minimum=1, inferred=True),
        Arg("out_channels", "int", minimum=1),
        Arg("kernel_size", "ints", minimum=1),
        Arg("stride", "ints", 1, minimum=1),
        Arg("padding", "ints", 0, minimum=0),
        Arg("output_padding", "ints", 0, minimum=0),
        Arg("groups", "int", 1, minimum=1),
        Arg("bias", "bool", True),
        Arg("dilation", "ints", 1, minimum=1),
        Arg("padding_mode", "choice", "zeros", choices=("zeros",)),
    )


def _dims(type_: str) -> int:
    return int(type_[-2])


def check_groups(cin: int, cout: int, g: int) -> None:
    if cin % g:
        raise SpecError(f"groups={g} does not divide in_channels={cin}", "groups")
    if cout % g:
        raise SpecError(f"groups={g} does not divide out_channels={cout}", "groups")


def _check_padding_mode(mode: str, pad: int, size: int) -> None:
    """torch pads non-zero modes with F.pad: reflect needs pad < size, circular pad <= size (the larger side)."""
    if mode == "reflect" and pad >= size:
        raise SpecError(f"reflect padding {pad} must be smaller than the input size {size}", "padding")
    if mode == "circular" and pad > size:
        raise SpecError(f"circular padding {pad} must not exceed the input size {size}", "padding")


def conv_nd(a: dict, x: tuple[int, ...], n: int) -> Out:
    """Conv{n}d. params = Cout*(Cin/g)*prod(k) (+Cout); MACs = B*Cout*prod(out)*(Cin/g)*prod(k).

    Output per spatial dim: floor((in + 2p - d*(k-1) - 1)/s + 1); padding='same' keeps the size (stride 1 only).
    """
    if len(x) != n + 2:  # (the message is built only when needed: this runs for every row)
        expect_rank(x, (n + 2,), "(batch, channels, " + ", ".join("DHW"[3 - n:]) + ")")
    inferred: dict = {}
    cin = infer(a, "in_channels", x[1], inferred)
    cout, g = a["out_channels"], a["groups"]
    check_groups(cin, cout, g)
    k, s, d, pad = a["kernel_size"], a["stride"], a["dilation"], a["padding"]
    if pad == "same" and any(v != 1 for v in s):
        raise SpecError("padding='same' is not supported for strided convolutions", "padding")
    spatial = []
    for i in range(n):
        total = d[i] * (k[i] - 1) if pad == "same" else 0 if pad == "valid" else 2 * pad[i]
        _check_padding_mode(a["padding_mode"], total - total // 2, x[2 + i])
        spatial.append(window_out(x[2 + i], k[i], s[i], total, d[i]))
    out = (x[0], cout, *spatial)
    per_out = (cin // g) * prod(k)
    weights = cout * per_out
    macs = numel(out) * per_out
    return Out(out, params=weights + (cout if a["bias"] else 0), macs=macs,
               bias_adds=numel(out) if a["bias"] else 0, inferred=inferred,
               tensors=((cout, cin // g, *k), *(((cout,),) if a["bias"] else ())))


@register("Conv1d", "Conv2d", "Conv3d", category="conv", args=conv_args, dims=_dims)
def conv(a: dict, x: tuple[int, ...], type_: str) -> Out:
    return conv_nd(a, x, _dims(type_))


@register("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", category="conv", args=convt_args, dims=_dims)
def conv_transpose(a: dict, x: tuple[int, ...], type_: str) -> Out:
    """ConvTranspose{n}d. out = (in-1)*s - 2p + d*(k-1) + output_padding + 1; MACs = B*Cin*(Cout/g)*prod(k)*prod(in).

    params = Cin*(Cout/g)*prod(k) (+Cout).
    """
    n = _dims(type_)
    if len(x) != n + 2:  # (the message is built only when needed: this runs for every row)
        expect_rank(x, (n + 2,), "(batch, channels, " + ", ".join("DHW"[3 - n:]) + ")")
    inferred: dict = {}
    cin = infer(a, "in_channels", x[1], inferred)
    cout, g = a["out_channels"], a["groups"]
    check_groups(cin, cout, g)
    k, s, d, p, op = a["kernel_size"], a["stride"], a["dilation"], a["padding"], a["output_padding"]
    spatial = []
    for i in range(n):
        if op[i] >= s[i] and op[i] >= d[i]:
            raise SpecError(f"output_padding={op[i]} must be smaller than either stride={s[i]} or "
                            f"dilation={d[i]}", "output_padding")
        size = (x[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1
        if size < 1:
            raise SpecError(f"padding={p[i]} leaves an empty output (size {size})", "padding")
        spatial.append(size)
    out = (x[0], cout, *spatial)
    weights = cin * (cout // g) * prod(k)
    macs = x[0] * prod(x[2:]) * weights
    return Out(out, params=weights + (cout if a["bias"] else 0), macs=macs,
               bias_adds=numel(out) if a["bias"] else 0, inferred=inferred,
               tensors=((cin, cout // g, *k), *(((cout,),) if a["bias"] else ())))
