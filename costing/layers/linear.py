"""Linear over the last dimension, with any number of leading dims."""

from __future__ import annotations

from ..args import Arg
from ..conventions import torchinfo_leaf
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
               inferred=inferred, peer=peer, tensors=((cout, cin), *(((cout,),) if a["bias"] else ())))


CONV1D_ARGS = (
    Arg("nf", "int", minimum=1, help="output features"),
    Arg("nx", "int", minimum=1, inferred=True, help="input features"),
)


@register("Conv1D", category="linear", args=CONV1D_ARGS)
def conv1d_hf(a: dict, x: tuple[int, ...]) -> Out:
    """Hugging Face's Conv1D (GPT-2): a linear layer whose weight is stored transposed (nx x nf), always with a
    bias, run as one addmm: params = nx*nf + nf; MACs = prod(leading dims)*nx*nf."""
    if len(x) < 2:
        expect_rank(x, (2,), "(batch, ..., features)")
    inferred: dict = {}
    nx = infer(a, "nx", x[-1], inferred)
    nf = a["nf"]
    rows = numel(x[:-1])
    params = nx * nf + nf
    macs = rows * nx * nf
    out = (*x[:-1], nf)
    # thop has no rule for the class (0); ptflops counts it through its torch.addmm patch, which adds the bias
    # tensor once; torchinfo goes by the class name, and "Conv" in it makes it count output positions as a conv's.
    peer = {"thop": 0, "ptflops": macs + nf,
            "torchinfo": torchinfo_leaf("Conv1D", (("weight", nx * nf), ("bias", nf)), out)}
    return Out(out, params=params, macs=macs, bias_adds=rows * nf, inferred=inferred, peer=peer,
               tensors=((nx, nf), (nf,)))
