"""Pooling: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool2d."""

from __future__ import annotations

from math import prod

from ..args import Arg
from ..errors import SpecError
from ..registry import Out, register
from ._shape import expect_rank, numel, window_out


def _dims(type_: str) -> int:
    return int(type_[-2])


def _spatial_rank(x: tuple[int, ...], n: int) -> None:
    # torch accepts an unbatched input too, but every NetCost shape carries the batch dim
    if len(x) != n + 2:  # (the message is built only when needed: this runs for every row)
        expect_rank(x, (n + 2,), "(batch, channels, " + ", ".join("DHW"[3 - n:]) + ")")


def maxpool_args(type_: str) -> tuple[Arg, ...]:
    return (
        Arg("kernel_size", "ints", minimum=1),
        Arg("stride", "opt_ints", None, minimum=1),
        Arg("padding", "ints", 0, minimum=0),
        Arg("dilation", "ints", 1, minimum=1),
        Arg("return_indices", "bool", False, unsupported=(True,)),
        Arg("ceil_mode", "bool", False),
    )


def avgpool_args(type_: str) -> tuple[Arg, ...]:
    args = [
        Arg("kernel_size", "ints", minimum=1),
        Arg("stride", "opt_ints", None, minimum=1),
        Arg("padding", "ints", 0, minimum=0),
        Arg("ceil_mode", "bool", False),
        Arg("count_include_pad", "bool", True),
    ]
    if type_ == "AvgPool2d":
        args.append(Arg("divisor_override", "opt_int", None, minimum=1))
    return tuple(args)


def _window(a: dict, x: tuple[int, ...], n: int, dilation: tuple[int, ...]) -> tuple[int, ...]:
    k, p = a["kernel_size"], a["padding"]
    s = a["stride"] or k
    spatial = []
    for i in range(n):
        if p[i] > k[i] // 2:
            raise SpecError(f"padding={p[i]} must be at most half of kernel_size={k[i]}", "padding")
        spatial.append(window_out(x[2 + i], k[i], s[i], 2 * p[i], dilation[i], a["ceil_mode"], p[i]))
    return (x[0], x[1], *spatial)


@register("MaxPool1d", "MaxPool2d", category="pool", args=maxpool_args, dims=_dims)
def max_pool(a: dict, x: tuple[int, ...], type_: str) -> Out:
    """MaxPool: no params; prod(k) - 1 comparisons per output element."""
    n = _dims(type_)
    _spatial_rank(x, n)
    out = _window(a, x, n, a["dilation"])
    return Out(out, elementwise=numel(out) * (prod(a["kernel_size"]) - 1), ptflops_elements=numel(x),
               ptflops_functional=True)


@register("AvgPool1d", "AvgPool2d", category="pool", args=avgpool_args, dims=_dims)
def avg_pool(a: dict, x: tuple[int, ...], type_: str) -> Out:
    """AvgPool: no params; prod(k) - 1 adds and one divide per output element."""
    n = _dims(type_)
    _spatial_rank(x, n)
    out = _window(a, x, n, (1,) * n)
    return Out(out, elementwise=numel(out) * prod(a["kernel_size"]), ptflops_elements=numel(x),
               ptflops_functional=True, thop_elements=numel(out))


def adaptive_args(type_: str) -> tuple[Arg, ...]:
    args = [Arg("output_size", "size", minimum=1)]
    if type_.startswith("AdaptiveMax"):
        args.append(Arg("return_indices", "bool", False, unsupported=(True,)))
    return tuple(args)


@register("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", category="pool", args=adaptive_args,
          dims=_dims)
def adaptive_pool(a: dict, x: tuple[int, ...], type_: str) -> Out:
    """Adaptive pooling to `output_size` (None keeps a dim): about one op per input element plus one per output."""
    n = _dims(type_)
    _spatial_rank(x, n)
    size = a["output_size"]
    out = (x[0], x[1], *(x[2 + i] if size[i] is None else size[i] for i in range(n)))
    kernel = prod(-(-x[2 + i] // out[2 + i]) for i in range(n))
    is_avg = "Avg" in type_
    return Out(out, elementwise=numel(x) + (numel(out) if is_avg else 0), ptflops_elements=numel(x),
               ptflops_functional=True, thop_elements=numel(out) * (kernel + 1) if is_avg else 0,
               fvcore_elements=numel(x) if is_avg else 0)
