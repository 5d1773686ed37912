"""The article's depthwise-separable convolution: a depthwise conv (groups = Cin) then a 1x1 pointwise conv."""

from __future__ import annotations

from ..args import Arg
from ..registry import Out, register
from .conv import PADDING_MODES, conv_nd


def dws_args(type_: str) -> tuple[Arg, ...]:
    return (
        Arg("in_channels", "int", minimum=1, inferred=True),
        Arg("out_channels", "int", minimum=1),
        Arg("kernel_size", "ints", minimum=1),
        Arg("stride", "ints", 1, minimum=1),
        Arg("padding", "padding", 0, minimum=0),
        Arg("dilation", "ints", 1, minimum=1),
        Arg("bias", "bool", False),
        Arg("padding_mode", "choice", "zeros", choices=PADDING_MODES),
    )


def _dims(type_: str) -> int:
    return int(type_[-2])


@register("DepthwiseSeparableConv1d", "DepthwiseSeparableConv2d", category="conv", args=dws_args, dims=_dims)
def depthwise_separable(a: dict, x: tuple[int, ...], type_: str) -> Out:
    """params = prod(k)*Cin + Cin*Cout (no bias); MACs = prod(k)*prod(out)*Cin + Cin*prod(out)*Cout.

    (The article writes the depthwise term with Cout; it is Cin, since the depthwise output has Cin channels.)
    """
    n = _dims(type_)
    conv_type = f"Conv{n}d"
    cin = x[1] if len(x) == n + 2 else a["in_channels"]
    dw_args = {**a, "out_channels": cin if cin is not None else a["out_channels"], "groups": cin or 1}
    dw = conv_nd(dw_args, x, n)
    pw_args = {"in_channels": None, "out_channels": a["out_channels"], "kernel_size": (1,) * n, "stride": (1,) * n,
               "padding": (0,) * n, "dilation": (1,) * n, "groups": 1, "bias": a["bias"], "padding_mode": "zeros"}
    pw = conv_nd(pw_args, dw.shape, n)
    return Out(pw.shape, params=dw.params + pw.params, macs=dw.macs + pw.macs, bias_adds=dw.bias_adds + pw.bias_adds,
               inferred=dw.inferred,
               parts=(("depthwise", conv_type, dw), ("pointwise", conv_type, pw)))
