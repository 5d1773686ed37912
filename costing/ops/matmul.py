"""Matrix products and convolution as functional ops: MACs as torch.utils.flop_counter counts them (/2)."""

from __future__ import annotations

from math import prod

from ..errors import SpecError
from ..formatting import shape as fmt
from ..layers._shape import window_out
from ..layers.activation import ACTIVATION_FLOPS
from ..registry import Operands, Out, register_op
from ._values import Value, broadcast, int_list, need, numel, result


def _mm_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, int, int]:
    if len(a) != 2 or len(b) != 2:
        raise SpecError(f"mm needs two 2-d inputs, got {fmt(a)} and {fmt(b)}", "inputs")
    if a[1] != b[0]:
        raise SpecError(f"{fmt(a)} @ {fmt(b)}: inner sizes {a[1]} and {b[0]} differ", "inputs")
    return a[0], a[1], b[1]


@register_op("mm", operands=Operands(("self", "mat2")), category="linear")
def mm(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 2, "two matrices")
    n, k, m = _mm_shape(ins[0][0], ins[1][0])
    return result([((n, m), ins[0][1])], macs=n * k * m, category="linear", ptflops=n * k * m)


@register_op("addmm", operands=Operands(("self", "mat1", "mat2")), category="linear")
def addmm(a: dict, ins: tuple[Value, ...]) -> Out:
    """bias + mat1 @ mat2 (F.linear): one bias add per output element."""
    need(ins, 3, "the bias and two matrices")
    n, k, m = _mm_shape(ins[1][0], ins[2][0])
    broadcast([ins[0][0], (n, m)])
    return result([((n, m), ins[1][1])], macs=n * k * m, bias_adds=n * m, category="linear",
                  ptflops=n * k * m + numel(ins[0][0]))


def _bmm_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, int, int, int]:
    if len(a) != 3 or len(b) != 3 or a[0] != b[0] or a[2] != b[1]:
        raise SpecError(f"bmm: {fmt(a)} @ {fmt(b)} do not match (batch, n, k) @ (batch, k, m)", "inputs")
    return a[0], a[1], a[2], b[2]


@register_op("bmm", operands=Operands(("self", "mat2")), category="attention")
def bmm(a: dict, ins: tuple[Value, ...]) -> Out:
    """Batched matmul (attention scores and their weighted sum): parameter-free MACs."""
    need(ins, 2, "two batches of matrices")
    b, n, k, m = _bmm_shape(ins[0][0], ins[1][0])
    macs = b * n * k * m
    return result([((b, n, m), ins[0][1])], macs=macs, attention_macs=macs, category="attention")


@register_op("baddbmm", operands=Operands(("self", "batch1", "batch2")), category="attention")
def baddbmm(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 3, "the bias and two batches of matrices")
    b, n, k, m = _bmm_shape(ins[1][0], ins[2][0])
    macs = b * n * k * m
    return result([((b, n, m), ins[1][1])], macs=macs, attention_macs=macs, bias_adds=b * n * m,
                  category="attention")


@register_op("convolution", operands=Operands(("input", "weight"), ("bias",)), category="conv")
def convolution(a: dict, ins: tuple[Value, ...]) -> Out:
    """aten.convolution(input, weight, bias?, stride, padding, dilation, transposed, output_padding, groups)."""
    need(ins, 2, "the input and the weight")
    x, w = ins[0][0], ins[1][0]
    n = len(w) - 2
    if n < 1 or len(x) != n + 2:
        raise SpecError(f"convolution: input {fmt(x)} and weight {fmt(w)} do not match", "inputs")
    s, p, d = (int_list(a.get(k, 1 if k != "padding" else 0), k) for k in ("stride", "padding", "dilation"))
    s, p, d = ((v * n if len(v) == 1 else v) for v in (s, p, d))
    g = a.get("groups", 1)
    k = w[2:]
    if a.get("transposed"):
        op = int_list(a.get("output_padding", 0), "output_padding")
        op = op * n if len(op) == 1 else op
        if x[1] != w[0]:
            raise SpecError(f"input has {x[1]} channels, the weight expects {w[0]}", "inputs")
        cout = w[1] * g
        spatial = tuple((x[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1 for i in range(n))
        macs = x[0] * prod(x[2:]) * prod(k) * w[0] * w[1]
    else:
        if x[1] != w[1] * g:
            raise SpecError(f"input has {x[1]} channels, the weight expects {w[1] * g} (groups={g})", "inputs")
        cout = w[0]
        spatial = tuple(window_out(x[2 + i], k[i], s[i], 2 * p[i], d[i]) for i in range(n))
        macs = x[0] * prod(spatial) * prod(k) * w[0] * w[1]
    out = (x[0], cout, *spatial)
    bias = numel(out) if len(ins) > 2 else 0
    return result([(out, ins[0][1])], macs=macs, bias_adds=bias, category="conv")


@register_op("_scaled_dot_product_flash_attention_for_cpu",
             operands=Operands(("query", "key", "value"), ("attn_mask",)), category="attention", outputs=2)
def sdpa_flash_cpu(a: dict, ins: tuple[Value, ...]) -> Out:
    """torch's fused CPU attention kernel (what F.scaled_dot_product_attention runs on real CPU tensors): softmax(Q
    K^T) V as flop_counter's SDPA formula counts it, and the softmax of the scores; outputs the result and the
    per-row logsumexp. Q, K, V are 4-d with one head size; a mask (an input after them) broadcasts to the scores."""
    need(ins, 3, "query, key and value")
    (q, dt), (k, _), (v, _) = ins[0], ins[1], ins[2]
    if len(q) != 4 or len(k) != 4 or len(v) != 4 or not q[-1] == k[-1] == v[-1] or k[-2] != v[-2] \
            or q[:2] != k[:2] or k[:2] != v[:2]:
        raise SpecError(f"query {fmt(q)}, key {fmt(k)}, value {fmt(v)}: need (batch, heads, length, head size) "
                        "with one head size and key and value of one length", "inputs")
    scores = (*q[:-1], k[-2])
    if len(ins) > 3:
        broadcast([ins[3][0], scores])
    macs = numel(q[:-1]) * k[-2] * (q[-1] + v[-1])
    return result([((*q[:-1], v[-1]), dt), (q[:-1], "float")], macs=macs, attention_macs=macs,
                  elementwise=ACTIVATION_FLOPS["Softmax"] * numel(scores), category="attention")
