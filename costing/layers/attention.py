"""MultiheadAttention as self-attention on the incoming sequence."""

from __future__ import annotations

from ..args import Arg
from ..errors import SpecError
from ..registry import Operands, Out, register
from ._shape import expect_rank, infer

MHA_ARGS = (
    Arg("embed_dim", "int", minimum=1, inferred=True),
    Arg("num_heads", "int", minimum=1),
    Arg("dropout", "float", 0.0, minimum=0),
    Arg("bias", "bool", True),
    Arg("add_bias_kv", "bool", False, unsupported=(True,)),
    Arg("add_zero_attn", "bool", False, unsupported=(True,)),
    Arg("kdim", "opt_int", None, minimum=1),
    Arg("vdim", "opt_int", None, minimum=1),
    Arg("batch_first", "bool", False),
)

SOFTMAX_FLOPS = 4  # per attention score: scale 1, exp 1, sum 1, divide 1


# a layer list's self-attention reads one input (query = key = value)
@register("MultiheadAttention", category="attention", args=MHA_ARGS,
          operands=Operands(("query",), ("key", "value", "key_padding_mask", "attn_mask"), scalars=False))
def multihead_attention(a: dict, x: tuple[int, ...]) -> Out:
    """Self-attention, E = embed_dim, L = sequence length, n = heads.

    params = 4*E*E (+4*E bias); MACs = 4*B*L*E*E (q, k, v, out projections) + 2*B*L*L*E (QK^T and AV).
    """
    expect_rank(x, (3,), "(batch, seq, embed)" if a["batch_first"] else "(seq, batch, embed)")
    inferred: dict = {}
    e = infer(a, "embed_dim", x[-1], inferred)
    n = a["num_heads"]
    if e % n:
        raise SpecError(f"num_heads={n} does not divide embed_dim={e}", "num_heads")
    for f in ("kdim", "vdim"):
        if a[f] is not None and a[f] != e:
            raise SpecError(f"{f}={a[f]} differs from embed_dim={e}: only self-attention is modelled", f)
    if a["dropout"] > 1:
        raise SpecError(f"dropout={a['dropout']} must be between 0 and 1", "dropout")
    b, seq = (x[0], x[1]) if a["batch_first"] else (x[1], x[0])
    tokens = b * seq
    proj = 4 * tokens * e * e
    attn = 2 * b * seq * seq * e
    # ptflops' MultiheadAttention hook: projections and both matmuls, plus the q scaling (L*E), the in-projection
    # bias (3*L*E), one softmax op per score (n*L*L) and the out-projection bias, which it always adds (L*E).
    # torchinfo counts only leaf modules, and MultiheadAttention has a child (out_proj, never called itself).
    ptflops = proj + attn + b * (seq * e + (3 * seq * e if a["bias"] else 0) + n * seq * seq + seq * e)
    return Out(x, params=4 * e * e + (4 * e if a["bias"] else 0), macs=proj + attn, attention_macs=attn,
               bias_adds=4 * tokens * e if a["bias"] else 0, elementwise=SOFTMAX_FLOPS * b * n * seq * seq,
               inferred=inferred, peer={"ptflops": ptflops, "torchinfo": 0},
               tensors=((3 * e, e), (e, e), *(((3 * e,), (e,)) if a["bias"] else ())))
