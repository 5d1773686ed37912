"""Reductions, softmax, normalisation and pooling as functional ops (the counts of the layer formulas)."""

from __future__ import annotations

from math import prod

from ..errors import SpecError
from ..formatting import shape as fmt
from ..layers._shape import window_out
from ..layers.activation import ACTIVATION_FLOPS
from ..registry import UNARY, Operands, Out, register_op
from ._values import Value, int_list, need, norm_dim, numel, result
from .shape_ops import element_kind


def _reduced(x: tuple[int, ...], dim: object, keepdim: bool) -> tuple[int, ...]:
    if dim is None or dim == [] or dim == ():
        return tuple(1 for _ in x) if keepdim else ()
    dims = {norm_dim(d, len(x)) for d in int_list(dim, "dim")}
    if keepdim:
        return tuple(1 if i in dims else s for i, s in enumerate(x))
    return tuple(s for i, s in enumerate(x) if i not in dims)


@register_op("mean", "sum", "amax", "amin", "prod", "var", "std", "norm", "linalg_vector_norm", "logsumexp",
             "any", "all", operands=UNARY)
def reduction(a: dict, ins: tuple[Value, ...], type_: str) -> Out:
    """One op per input element."""
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    out = _reduced(x, a.get("dim"), bool(a.get("keepdim", False)))
    kind = "bool" if type_ in ("any", "all") else dt
    # a mean over H, W with keepdim is what F.adaptive_avg_pool2d(x, 1) runs as: fvcore and ptflops count it so
    dims = a.get("dim")
    pooled = (type_ == "mean" and len(x) == 4 and bool(a.get("keepdim")) and isinstance(dims, (list, tuple))
              and sorted(d % 4 for d in dims) == [2, 3])
    n = numel(x) if pooled else 0
    return result([(out, kind)], elementwise=numel(x), fvcore=n, ptflops=n)


@register_op("cumsum", "cumprod", operands=UNARY)
def scan(a: dict, ins: tuple[Value, ...]) -> Out:
    """A running sum (product) along `dim`: one op per element, the input's shape; integers and bools sum as int64
    unless a dtype is given, as torch does (GPT-2's position ids from a mask)."""
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    norm_dim(a.get("dim"), len(x))
    kind = element_kind(a.get("dtype"), "float" if dt == "float" else "int64")
    return result([(x, kind)], elementwise=numel(x))


@register_op("max", "min", operands=UNARY, outputs=None)
def max_min(a: dict, ins: tuple[Value, ...]) -> Out:
    """max(x) (one value) or max(x, dim) (values and indices)."""
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    if "dim" not in a:
        return result([((), dt)], elementwise=numel(x))
    out = _reduced(x, a["dim"], bool(a.get("keepdim", False)))
    return result([(out, dt), (out, "int64")], elementwise=numel(x))


SOFTMAX_FLOPS = ACTIVATION_FLOPS["Softmax"]


@register_op("_softmax", "_safe_softmax", "_log_softmax", "softmax", "log_softmax", operands=UNARY,
             category="activation")
def softmax(a: dict, ins: tuple[Value, ...], type_: str) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    norm_dim(a.get("dim", -1), len(x))
    return result([(x, dt)], elementwise=SOFTMAX_FLOPS * numel(x), category="activation",
                  ptflops=numel(x) if type_ == "_softmax" else 0)


@register_op("native_batch_norm", "_native_batch_norm_legit_no_training", "_native_batch_norm_legit",
             operands=Operands(("input",), ("weight", "bias", "running_mean", "running_var")), category="norm",
             outputs=3)
def batch_norm(a: dict, ins: tuple[Value, ...], type_: str) -> Out:
    """Inference batch norm folds to one multiply-add per element (2); outputs (y, mean, invstd)."""
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    if len(x) < 2:
        raise SpecError(f"batch norm needs a (batch, channels, ...) input, got {fmt(x)}", "inputs")
    for v, _ in ins[1:]:
        if v != (x[1],):
            raise SpecError(f"a statistic of shape {fmt(v)} does not match {x[1]} channels", "inputs")
    stat = (x[1],) if type_ != "_native_batch_norm_legit_no_training" else (0,)
    affine = a.get("weight", True) is not None and len(ins) > 1
    return result([(x, dt), (stat, dt), (stat, dt)], elementwise=2 * numel(x), category="norm",
                  fvcore=numel(x) * (2 if affine else 1))


@register_op("native_layer_norm", operands=Operands(("input",), ("weight", "bias")), category="norm", outputs=3)
def layer_norm(a: dict, ins: tuple[Value, ...]) -> Out:
    """mean and variance on the fly (4 per element) plus the affine multiply-add (+1 with a weight)."""
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    ns = int_list(a.get("normalized_shape"), "normalized_shape")
    if len(ns) > len(x) or tuple(x[len(x) - len(ns):]) != ns:
        raise SpecError(f"normalized_shape={list(ns)} does not match the trailing dims of {fmt(x)}",
                        "normalized_shape")
    for v, _ in ins[1:]:
        if v != ns:
            raise SpecError(f"an affine parameter of shape {fmt(v)} does not match {list(ns)}", "inputs")
    per = 5 if a.get("weight", True) is not None and len(ins) > 1 else 4
    stat = (*x[:len(x) - len(ns)], *(1 for _ in ns))
    return result([(x, dt), (stat, dt), (stat, dt)], elementwise=per * numel(x), category="norm",
                  fvcore=per * numel(x))


def _window(a: dict, x: tuple[int, ...], dilation: bool) -> tuple[tuple[int, ...], int]:
    n = len(x) - 2
    if n < 1:
        raise SpecError(f"pooling needs a (batch, channels, spatial...) input, got {fmt(x)}", "inputs")
    k = int_list(a.get("kernel_size"), "kernel_size")
    k = k * n if len(k) == 1 else k
    s = int_list(a.get("stride") or list(k), "stride")
    s = s * n if len(s) == 1 else s
    p = int_list(a.get("padding", 0), "padding")
    p = p * n if len(p) == 1 else p
    d = int_list(a.get("dilation", 1), "dilation") if dilation else (1,)
    d = d * n if len(d) == 1 else d
    ceil = bool(a.get("ceil_mode", False))
    spatial = tuple(window_out(x[2 + i], k[i], s[i], 2 * p[i], d[i], ceil, p[i]) for i in range(n))
    return (x[0], x[1], *spatial), prod(k)


@register_op("max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices", operands=UNARY,
             category="pool", outputs=2)
def max_pool(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    out, window = _window(a, x, True)
    return result([(out, dt), (out, "int64")], elementwise=numel(out) * (window - 1), category="pool",
                  ptflops=numel(x))


@register_op("avg_pool1d", "avg_pool2d", "avg_pool3d", operands=UNARY, category="pool")
def avg_pool(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    out, window = _window(a, x, False)
    return result([(out, dt)], elementwise=numel(out) * window, category="pool", ptflops=numel(x))


def _adaptive(a: dict, x: tuple[int, ...]) -> tuple[int, ...]:
    n = len(x) - 2
    size = a.get("output_size")
    size = int_list(size, "output_size")
    size = size * n if len(size) == 1 else size
    if len(size) != n:
        raise SpecError(f"output_size={list(size)} needs {n} entries for {fmt(x)}", "output_size")
    return (x[0], x[1], *size)


@register_op("_adaptive_avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "_adaptive_avg_pool3d",
             operands=UNARY, category="pool")
def adaptive_avg_pool(a: dict, ins: tuple[Value, ...], type_: str) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    out = _adaptive(a, x)
    fv = numel(x) if type_ in ("_adaptive_avg_pool2d", "adaptive_avg_pool2d") else 0
    return result([(out, dt)], elementwise=numel(x) + numel(out), category="pool", fvcore=fv, ptflops=numel(x))


@register_op("adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", operands=UNARY, category="pool",
             outputs=2)
def adaptive_max_pool(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    out = _adaptive(a, x)
    return result([(out, dt), (out, "int64")], elementwise=numel(x), category="pool", ptflops=numel(x))
