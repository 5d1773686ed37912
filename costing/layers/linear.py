"""Linear over the last dimension, with any number of leading dims."""

from __future__ import annotations

from ..args import Arg
from ..registry import Out, register
from ._shape import expect_rank, infer, numel

LINEAR_ARGS = (
    Arg("in_features", "int", minimum=1, inferred=True),
    Arg("out_features", "int", minimum=1),
    Arg("bias", "bool", True),
)


@register("Linear", category="linear", args=LINEAR_ARGS)
def linear(a: dict, x: tuple[int, ...]) -> Out:
    """Linear: params = Cin*Cout (+Cout); MACs = prod(leading dims)*Cin*Cout; bias adds = prod(leading)*Cout."""
    if len(x) < 2:
        expect_rank(x, (2,), "(batch, ..., features)")
    inferred: dict = {}
    cin = infer(a, "in_features", x[-1], inferred)
    cout = a["out_features"]
    rows = numel(x[:-1])
    params = cin * cout + (cout if a["bias"] else 0)
    macs = rows * cin * cout
    # torchinfo multiplies by the first (batch) dim only. ptflops' nn.Linear hook adds the bias per row
    # ((Cin*Cout + Cout) * rows; its F.linear patch, which adds it once, is disabled in ptflops 0.7.4).
    peer = {"torchinfo": params * x[0]}
    return Out((*x[:-1], cout), params=params, macs=macs, bias_adds=rows * cout if a["bias"] else 0,
               inferred=inferred, peer=peer)
