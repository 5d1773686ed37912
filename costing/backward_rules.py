"""Backward rules per op kind: the MACs of the gradients and the tensors autograd saves for them.

Pure Python (no torch). One closed form per op kind, read from the node's shapes (the forward evaluation's rows),
as the forward rules are. A rule gets a `NodeCtx` (what the node reads and makes, and which gradients are needed)
and returns a `Backward`:

- `input_macs`: multiply-accumulates of the gradients w.r.t. the inputs that need one (a matmul or convolution's
  gradient w.r.t. one operand costs its forward MACs); `weight_macs`: the same w.r.t. the node's own weights,
  when they are trainable. MACs count what `torch.utils.flop_counter.FlopCounterMode` counts (matmuls,
  convolutions, attention), halved. Grouped convolutions follow the closed form (groups divide both gradients,
  as they divide the forward); FlopCounterMode (before pytorch#183405) ignores `groups` in
  `convolution_backward` and overcounts them.
- `elementwise`: other backward FLOPs (activation derivatives, bias and normalisation gradients), an estimate.
- `saved`: the tensors autograd keeps for the backward, as PyTorch's derivative formulas
  (tools/autograd/derivatives.yaml) save them: `("in", i)` input i, `("out", i)` output i, or
  `("new", elements, kind)` a tensor the op makes only for its backward (`kind`: "act" in the activation
  precision, "fp32" statistics, "int64" indices, "bool" masks). Parameters and buffers an op saves are not
  activations and are not listed. The caller counts a tensor held by several ops once (by its storage).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from math import prod
from typing import Any

Shape = tuple[int, ...]
Saved = tuple[Any, ...]


@dataclass(frozen=True)
class NodeCtx:
    op: str
    args: Mapping[str, Any]
    ins: tuple[Shape, ...]
    outs: tuple[Shape, ...]
    macs: int  # forward MACs of the node
    attention_macs: int
    elementwise: int  # forward element-wise FLOPs
    param_shapes: tuple[Shape, ...]
    need_in: tuple[bool, ...]  # per input: does it need a gradient
    need_w: bool  # the node's own parameters are trainable

    def need(self, i: int) -> bool:
        return i < len(self.need_in) and self.need_in[i]

    @property
    def out_numel(self) -> int:
        return prod(self.outs[0]) if self.outs else 0


@dataclass(frozen=True)
class Backward:
    input_macs: int = 0
    weight_macs: int = 0
    elementwise: int = 0
    saved: tuple[Saved, ...] = ()

    @property
    def macs(self) -> int:
        return self.input_macs + self.weight_macs


Rule = Callable[[NodeCtx], Backward]
RULES: dict[str, Rule] = {}


def rule(*ops: str) -> Callable[[Rule], Rule]:
    def deco(fn: Rule) -> Rule:
        for op in ops:
            RULES[op] = fn
        return fn
    return deco


IN0, OUT0 = ("in", 0), ("out", 0)
# ops whose output never carries a gradient (integer results, creation, comparisons)
NO_GRAD = frozenset({
    "arange", "ones", "zeros", "empty", "full", "rand", "randn", "randint", "empty_strided", "scalar_tensor",
    "empty_like", "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "new_zeros", "new_ones",
    "new_empty", "new_full", "eq", "ne", "lt", "le", "gt", "ge", "argmax", "argmin", "logical_not", "logical_and",
    "logical_or", "isnan", "isinf", "sign", "floor", "ceil", "round", "trunc", "bitwise_not", "bitwise_and",
    "bitwise_or", "topk_indices", "buffer", "constant", "detach", "sym_size", "_assert_async",
})
# views and reshapes: share their input's storage, save nothing
VIEWS = frozenset({
    "view", "_unsafe_view", "reshape", "transpose", "permute", "expand", "expand_as", "split", "split_with_sizes",
    "chunk", "unbind", "select", "slice", "narrow", "squeeze", "unsqueeze", "t", "flatten", "unflatten", "view_as",
    "alias", "as_strided", "movedim", "Flatten", "Identity", "contiguous", "_reshape_alias", "unfold",
    "diagonal", "real", "view_as_real", "view_as_complex", "type_as", "to", "_to_copy",
})
# element-wise ops that save nothing (their derivative is a constant)
LINEAR_ELEMENTWISE = frozenset({
    "add", "sub", "neg", "clone", "cat", "stack", "sum", "mean", "tril", "triu", "pad", "constant_pad_nd",
    "roll", "flip", "repeat", "copy", "fill", "masked_fill_scalar", "zero", "rsub", "Dropout_eval",
    "index_select_src", "new_tensor", "sum_to_size", "cumsum",
})


def _weight_grad(c: NodeCtx, macs: int) -> int:
    return macs if c.need_w else 0


@rule("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
def _conv(c: NodeCtx) -> Backward:
    """dX = conv_transpose(dY, W): forward MACs; dW = conv(X, dY): forward MACs; saves X (and W, a param)."""
    bias = c.out_numel if c.need_w and c.args.get("bias", True) else 0
    return Backward(c.macs if c.need(0) else 0, _weight_grad(c, c.macs), bias, (IN0,))


@rule("convolution", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d")
def _conv_op(c: NodeCtx) -> Backward:
    """Functional convolution: inputs (x, weight, bias?); each operand's gradient costs the forward MACs."""
    saved = (IN0, ("in", 1))
    bias = c.out_numel if c.need(2) else 0
    return Backward(c.macs if c.need(0) else 0, c.macs if c.need(1) else 0, bias, saved)


@rule("Linear", "Conv1D")
def _linear(c: NodeCtx) -> Backward:
    """dX = dY W (forward MACs), dW = dY^T X (forward MACs); addmm saves X for dW (and W^T, a param, for dX):
    a frozen Linear keeps nothing."""
    bias = c.out_numel if c.need_w and c.args.get("bias", True) else 0
    return Backward(c.macs if c.need(0) else 0, _weight_grad(c, c.macs), bias, (IN0,) if c.need_w else ())


@rule("mm", "bmm", "matmul", "linear", "addmm", "baddbmm", "einsum_mm")
def _matmul(c: NodeCtx) -> Backward:
    """A @ B: dA = dY B^T, dB = A^T dY, each the forward MACs; saves A when B needs a gradient and B when A does.
    (addmm/baddbmm/linear: the bias operand first or last, as the op names it.)"""
    if c.op in ("addmm", "baddbmm"):
        a, b, bias = 1, 2, 0
    else:
        a, b, bias = 0, 1, 2
    saved = tuple(s for s, keep in ((("in", a), c.need(b)), (("in", b), c.need(a))) if keep)
    if c.op == "linear":  # F.linear(x, W, b): W^T is saved too
        saved = (("in", a), ("in", b)) if c.need(a) or c.need(b) else ()
    macs_a = c.macs if c.need(a) else 0
    macs_b = c.macs if c.need(b) else 0
    extra = c.out_numel if c.need(bias) else 0
    return Backward(macs_a, macs_b, extra, saved)


@rule("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")
def _batch_norm(c: NodeCtx) -> Backward:
    """Training batch norm saves its input and the batch mean and inverse std (C float32 each)."""
    ch = c.ins[0][1] if len(c.ins[0]) > 1 else c.ins[0][0]
    return Backward(0, 0, 8 * c.out_numel, (IN0, ("new", ch, "fp32"), ("new", ch, "fp32")))


@rule("LayerNorm", "layer_norm", "native_layer_norm", "GroupNorm", "group_norm")
def _layer_norm(c: NodeCtx) -> Backward:
    """Saves its input and a mean and rstd per normalised row (float32)."""
    x = c.ins[0]
    if c.op in ("GroupNorm", "group_norm"):
        rows = x[0] * int(c.args.get("num_groups", 1))
    else:
        shape = c.args.get("normalized_shape") or x[-1:]
        rows = prod(x) // max(1, prod(shape if isinstance(shape, (list, tuple)) else (shape,)))
    return Backward(0, 0, 8 * c.out_numel, (IN0, ("new", rows, "fp32"), ("new", rows, "fp32")))


@rule("RMSNorm", "rms_norm")
def _rms_norm(c: NodeCtx) -> Backward:
    """Composite: r = rsqrt(x.pow(2).mean(-1) + eps), y = (x * r) * w. For dx it saves x and r (a value per row);
    for dw, x * r."""
    x = c.ins[0]
    saved: tuple[Saved, ...] = (IN0, ("new", prod(x[:-1]), "act")) if c.need(0) else ()
    if c.need_w:
        saved += (("new", prod(x), "act"),)
    return Backward(0, 0, 6 * c.out_numel, saved)


@rule("ReLU", "relu", "relu_", "Sigmoid", "sigmoid", "Tanh", "tanh", "softmax", "_softmax", "_safe_softmax",
      "Softmax", "log_softmax", "_log_softmax", "exp", "rsqrt", "sqrt", "reciprocal", "threshold")
def _saves_result(c: NodeCtx) -> Backward:
    return Backward(0, 0, 2 * c.out_numel, (OUT0,) if c.need(0) else ())


@rule("ReLU6", "hardtanh", "hardtanh_")
def _hardtanh(c: NodeCtx) -> Backward:
    """hardtanh (ReLU6) saves its input; its in-place form too, as a copy taken before it writes (autograd records
    the out-of-place HardtanhBackward0), so an in-place ReLU6 holds one more tensor of its input's size."""
    if not c.need(0):
        return Backward()
    if c.args.get("inplace") is True or c.op == "hardtanh_":
        return Backward(0, 0, 2 * c.out_numel, (("new", prod(c.ins[0]), "act"),))
    return Backward(0, 0, 2 * c.out_numel, (IN0,))


@rule("LeakyReLU", "leaky_relu", "GELU", "gelu", "SiLU", "silu", "Hardswish",
      "hardswish", "pow", "sin", "cos", "log", "abs", "erf", "sigmoid_backward_src", "elu", "mish", "Mish",
      "Hardsigmoid", "hardsigmoid", "square")
def _saves_input(c: NodeCtx) -> Backward:
    return Backward(0, 0, 4 * c.out_numel, (IN0,) if c.need(0) else ())


@rule("mul", "div")
def _mul(c: NodeCtx) -> Backward:
    """x * y saves y for dx and x for dy; x / y saves y for dx and x, y for dy. A scalar operand saves nothing."""
    if len(c.ins) < 2:
        return Backward(0, 0, c.out_numel if c.need(0) else 0)
    saved: list[Saved] = []
    if c.need(0):
        saved.append(("in", 1))
    if c.need(1):
        saved.append(IN0)
        if c.op == "div":
            saved.append(("in", 1))
    return Backward(0, 0, c.out_numel * (c.need(0) + 2 * c.need(1)), tuple(dict.fromkeys(saved)))


@rule("where")
def _where(c: NodeCtx) -> Backward:
    """where(cond, a, b) saves the condition."""
    return Backward(0, 0, c.out_numel, (IN0,) if any(c.need(i) for i in (1, 2)) else ())


@rule("masked_fill")
def _masked_fill(c: NodeCtx) -> Backward:
    return Backward(0, 0, c.out_numel, (("in", 1),) if c.need(0) else ())


@rule("MaxPool1d", "MaxPool2d", "MaxPool3d", "max_pool2d", "max_pool2d_with_indices", "AdaptiveMaxPool2d")
def _max_pool(c: NodeCtx) -> Backward:
    """Saves its input and the int64 index of each maximum."""
    if not c.need(0):
        return Backward()
    return Backward(0, 0, c.out_numel, (IN0, ("new", c.out_numel, "int64")))


@rule("AvgPool1d", "AvgPool2d", "AvgPool3d", "avg_pool2d")
def _avg_pool(c: NodeCtx) -> Backward:
    """avg_pool2d_backward takes the input tensor (for its shape): derivatives.yaml saves it."""
    return Backward(0, 0, prod(c.ins[0]), (IN0,) if c.need(0) else ())


@rule("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "adaptive_avg_pool2d")
def _adaptive_avg_pool(c: NodeCtx) -> Backward:
    """To 1x1 torch takes the mean (nothing saved); otherwise _adaptive_avg_pool2d saves its input."""
    if not c.need(0):
        return Backward()
    if all(s == 1 for s in c.outs[0][2:]):
        return Backward(0, 0, prod(c.ins[0]))
    return Backward(0, 0, prod(c.ins[0]), (IN0,))


@rule("Dropout", "dropout", "native_dropout")
def _dropout(c: NodeCtx) -> Backward:
    """p > 0 in training: a bool mask like the output (native_dropout, as on a GPU); p = 0 is the identity."""
    if not c.need(0) or not float(c.args.get("p", 0.5) or 0):
        return Backward()
    return Backward(0, 0, c.out_numel, (("new", c.out_numel, "bool"),))


@rule("Embedding", "embedding")
def _embedding(c: NodeCtx) -> Backward:
    """Saves the indices (for the weight's scatter-add gradient)."""
    idx = 0 if c.op == "Embedding" else 1
    if c.op == "Embedding" and not c.need_w or c.op == "embedding" and not c.need(0):
        return Backward()
    return Backward(0, 0, c.out_numel, (("in", idx),))


@rule("MultiheadAttention")
def _mha(c: NodeCtx) -> Backward:
    """Projections as Linear (the in-projection's input gradient only when the input needs one), QK^T and AV
    twice each (dQ, dK; dA, dV) when anything before them needs a gradient. Saves (torch's math path, batch-first
    or not): the input, the packed q, k, v copy (3 L E, which the AV matmul's v views), q and k scaled (2 L E),
    the attention weights (heads L^2 per sequence), and the out-projection's input (L E); with attention
    dropout in training also its mask (bool) and the dropped weights."""
    x = c.ins[0]
    e = x[-1]
    proj = c.macs - c.attention_macs
    in_proj, out_proj = proj * 3 // 4, proj // 4
    if not (c.need_w or c.need(0)):
        return Backward()
    seq_b = prod(x[:-1])
    heads = int(c.args.get("num_heads", 1))
    b = x[0] if c.args.get("batch_first") else x[1]
    seq = seq_b // b
    scores = b * heads * seq * seq
    macs_in = (in_proj if c.need(0) else 0) + 2 * c.attention_macs + out_proj
    macs_w = (in_proj + out_proj) if c.need_w else 0
    saved: tuple[Saved, ...] = (IN0, ("new", 3 * seq_b * e, "act"), ("new", 2 * seq_b * e, "act"),
                                ("new", scores, "act"), ("new", seq_b * e, "act"))
    if float(c.args.get("dropout", 0) or 0):
        saved += (("new", scores, "bool"), ("new", scores, "act"))
    return Backward(macs_in, macs_w, 6 * scores, saved)


@rule("LSTM", "GRU", "RNN")
def _recurrent(c: NodeCtx) -> Backward:
    """Every gate matmul twice (input and weight gradients), except the first step's gradient w.r.t. h0 (zeros,
    no gradient) and the first layer's input gradient when its input needs none. Saves, per layer, step and
    direction, what the cell's ops keep (LSTM: 4 gates, c_prev, tanh(c), h_prev = 7h; GRU: h_prev, r, z, the
    hidden-side gate block (3h), n = 7h; RNN: h_prev, h), and each layer's input sequence."""
    if not (c.need_w or c.need(0)):
        return Backward()
    g = {"LSTM": 4, "GRU": 3, "RNN": 1}[c.op]
    x = c.ins[0]
    h = int(c.args.get("hidden_size", 1))
    h_out = int(c.args.get("proj_size", 0) or h)
    layers = int(c.args.get("num_layers", 1))
    dirs = 2 if c.args.get("bidirectional") else 1
    steps = x[0] * x[1]
    batch = x[0] if c.args.get("batch_first") else x[1]
    first_in = dirs * steps * g * h * x[-1]
    skip = layers * dirs * batch * g * h * h_out + (0 if c.need(0) else first_in)
    per_step = {"LSTM": 7, "GRU": 7, "RNN": 2}[c.op] * h
    saved = (IN0, ("new", layers * dirs * steps * per_step, "act"),
             ("new", (layers - 1) * steps * dirs * h_out, "act"))
    return Backward(c.macs - skip, c.macs if c.need_w else 0, 2 * c.elementwise, saved)


def backward_of(c: NodeCtx) -> Backward:
    """The backward of one node (nothing when none of its inputs or weights needs a gradient)."""
    if not (c.need_w or any(c.need_in)):
        return Backward()
    fn = RULES.get(c.op)
    if fn is not None:
        return fn(c)
    if c.op in VIEWS or c.op in LINEAR_ELEMENTWISE:
        return Backward(0, 0, c.out_numel if c.op not in VIEWS else 0)
    if c.op.endswith("_") and c.op[:-1] in RULES:  # an in-place variant (relu_, add_)
        return RULES[c.op[:-1]](c)
    # an op without a rule: its gradient w.r.t. each input like its forward, its inputs saved (an estimate)
    saved = tuple(("in", i) for i in range(len(c.ins)))
    return Backward(c.macs if any(c.need_in) else 0, c.macs if c.need_w else 0, c.elementwise, saved)


def has_rule(op: str) -> bool:
    return op in RULES or op in VIEWS or op in LINEAR_ELEMENTWISE or op in NO_GRAD
