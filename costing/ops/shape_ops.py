"""Data movement ops: views, reshapes, splits, joins and copies. No arithmetic; a view writes nothing."""

from __future__ import annotations

from typing import Any

from ..errors import SpecError
from ..formatting import shape as fmt_shape
from ..registry import UNARY, Operands, Out, register_op
from ._values import INT64_MAX, Shape, Value, broadcast, int_list, need, norm_dim, numel, result


def _resolve_size(size: Any, total: int, shape: Shape) -> Shape:
    dims = int_list(size, "size")
    if dims.count(-1) > 1:
        raise SpecError(f"size={list(dims)} has more than one -1", "size")
    if any(d < -1 for d in dims):
        raise SpecError(f"size={list(dims)} has a negative size", "size")
    known = numel(tuple(d for d in dims if d != -1))
    if -1 in dims:
        if known == 0 or total % known:
            raise SpecError(f"cannot view {fmt_shape(shape)} ({total} elements) as {list(dims)}", "size")
        dims = tuple(total // known if d == -1 else d for d in dims)
    elif known != total:
        raise SpecError(f"cannot view {fmt_shape(shape)} ({total} elements) as {fmt_shape(dims)}", "size")
    return dims


def _view(a: dict, ins: tuple[Value, ...], is_view: bool) -> Out:
    need(ins, 1, "the tensor")
    (x, dt) = ins[0]
    return result([(_resolve_size(a.get("size"), numel(x), x), dt)], view=is_view)


@register_op("view", "reshape", operands=UNARY)
def view(a: dict, ins: tuple[Value, ...]) -> Out:
    """A new shape of the same elements (one -1 may stand for the rest)."""
    return _view(a, ins, True)


@register_op("_unsafe_view", operands=UNARY)
def unsafe_view(a: dict, ins: tuple[Value, ...]) -> Out:
    return _view(a, ins, False)


@register_op("t", operands=UNARY)
def t(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    if len(x) > 2:
        raise SpecError(f"t() expects a tensor of at most 2 dims, got {fmt_shape(x)}", "inputs")
    return result([(tuple(reversed(x)), dt)], view=True)


def _transposed(a: dict, x: Shape) -> Shape:
    d0, d1 = norm_dim(a.get("dim0"), len(x), "dim0"), norm_dim(a.get("dim1"), len(x), "dim1")
    s = list(x)
    if s:
        s[d0], s[d1] = s[d1], s[d0]
    return tuple(s)


@register_op("transpose", operands=UNARY)
def transpose(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    return result([(_transposed(a, x), dt)], view=True)


@register_op("transpose_", operands=UNARY)
def transpose_(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    return result([(_transposed(a, x), dt)])


@register_op("permute", operands=UNARY)
def permute(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    dims = [norm_dim(d, len(x), "dims") for d in int_list(a.get("dims"), "dims")]
    if sorted(dims) != list(range(len(x))):
        raise SpecError(f"dims={list(a.get('dims'))} is not a permutation of the {len(x)} dims", "dims")
    return result([(tuple(x[d] for d in dims), dt)], view=True)


@register_op("expand", operands=UNARY)
def expand(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    size = int_list(a.get("size"), "size")
    if len(size) < len(x):
        raise SpecError(f"expand to {list(size)} has fewer dims than {fmt_shape(x)}", "size")
    lead = len(size) - len(x)
    out = []
    for i, s in enumerate(size):
        old = x[i - lead] if i >= lead else None
        if s == -1:
            if old is None:
                raise SpecError("expand: -1 is not allowed for a new leading dim", "size")
            s = old
        elif old is not None and old not in (1, s):
            raise SpecError(f"cannot expand {fmt_shape(x)} to {list(size)}", "size")
        out.append(s)
    return result([(tuple(out), dt)], view=True)


@register_op("unsqueeze", operands=UNARY)
def unsqueeze(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    d = norm_dim(a.get("dim"), len(x) + 1)
    return result([((*x[:d], 1, *x[d:]), dt)], view=True)


@register_op("squeeze", operands=UNARY)
def squeeze(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    dim = a.get("dim")
    if dim is None:
        return result([(tuple(s for s in x if s != 1), dt)], view=True)
    dims = {norm_dim(d, len(x)) for d in int_list(dim, "dim")} if x else set()
    return result([(tuple(s for i, s in enumerate(x) if not (i in dims and s == 1)), dt)], view=True)


@register_op("select", operands=UNARY)
def select(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    d = norm_dim(a.get("dim"), len(x))
    i = a.get("index")
    if not isinstance(i, int) or not -x[d] <= i < x[d]:
        raise SpecError(f"index={i!r} is out of range for dim {d} of size {x[d]}", "index")
    return result([((*x[:d], *x[d + 1:]), dt)], view=True)


@register_op("slice", operands=UNARY)
def slice_(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    d = norm_dim(a.get("dim", 0), len(x))
    n = x[d]
    start = a.get("start")
    end = a.get("end")
    step = a.get("step", 1)
    if not isinstance(step, int) or step < 1:
        raise SpecError(f"step={step!r} must be a positive integer", "step")
    start = 0 if start is None else start + n if start < 0 else start
    end = n if end is None or end >= INT64_MAX else end + n if end < 0 else end
    start, end = max(0, min(start, n)), max(0, min(end, n))
    size = max(0, -(-(end - start) // step))
    return result([((*x[:d], size, *x[d + 1:]), dt)], view=True)


def _split(x: Shape, dt: str, sizes: list[int], d: int, is_view: bool) -> Out:
    return result([((*x[:d], s, *x[d + 1:]), dt) for s in sizes], view=is_view)


def _even_sizes(a: dict, x: Shape) -> tuple[list[int], int]:
    d = norm_dim(a.get("dim", 0), len(x))
    size = a.get("split_size")
    if not isinstance(size, int) or size < 1:
        raise SpecError(f"split_size={size!r} must be a positive integer", "split_size")
    n = x[d]
    return [min(size, n - k) for k in range(0, n, size)] or [0], d


@register_op("split", "unsafe_split", operands=UNARY, outputs=None)
def split(a: dict, ins: tuple[Value, ...], type_: str) -> Out:
    """Equal chunks of `split_size` along `dim` (views; `unsafe_split` writes copies)."""
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    sizes, d = _even_sizes(a, x)
    return _split(x, dt, sizes, d, type_ == "split")


@register_op("split_with_sizes", operands=UNARY, outputs=None)
def split_with_sizes(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    d = norm_dim(a.get("dim", 0), len(x))
    sizes = list(int_list(a.get("split_sizes"), "split_sizes"))
    if sum(sizes) != x[d] or any(s < 0 for s in sizes):
        raise SpecError(f"split_sizes={sizes} must add up to dim {d}'s size {x[d]}", "split_sizes")
    return _split(x, dt, sizes, d, True)


@register_op("unbind", operands=UNARY, outputs=None)
def unbind(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    d = norm_dim(a.get("dim", 0), len(x))
    return result([((*x[:d], *x[d + 1:]), dt)] * x[d], view=True)


@register_op("alias", "detach", operands=UNARY)
def alias(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    return result([ins[0]], view=True)


COPY_OPERANDS = {"fill_": Operands(("self", "value")), "copy_": Operands(("self", "src")),
                 "masked_fill_": Operands(("self", "mask", "value")), "bernoulli_": Operands(("self",), ("p",))}


@register_op("clone", "contiguous", "tril", "triu", "fill_", "zero_", "lift_fresh_copy", "copy_", "masked_fill_",
             "bernoulli_", "normal_", "uniform_", operands=lambda t: COPY_OPERANDS.get(t, UNARY))
def copy_like(a: dict, ins: tuple[Value, ...]) -> Out:
    """A copy (or an in-place fill) of the first input: no arithmetic, the output is written."""
    need(ins, 1, "the tensor")
    return result([ins[0]])


@register_op("_to_copy", operands=UNARY)
def to_copy(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensor")
    x, dt = ins[0]
    return result([(x, element_kind(a.get("dtype"), dt))])


@register_op("masked_fill", operands=Operands(("self", "mask", "value")))
def masked_fill(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 2, "the tensor and the mask")
    x, dt = ins[0]
    if broadcast([x, ins[1][0]]) != x:
        raise SpecError(f"the mask {fmt_shape(ins[1][0])} does not broadcast to {fmt_shape(x)}", "inputs")
    return result([(x, dt)])


@register_op("cat", operands=Operands(("tensors",), variadic=True))
def cat(a: dict, ins: tuple[Value, ...]) -> Out:
    """Concatenate along `dim`: every other dim must agree (a 1-d empty tensor is skipped, as torch does)."""
    need(ins, 1, "the tensors")
    shapes = [x for x, _ in ins if x != (0,)] or [ins[0][0]]
    rank = len(shapes[0])
    d = norm_dim(a.get("dim", 0), rank)
    for x in shapes[1:]:
        if len(x) != rank or any(x[i] != shapes[0][i] for i in range(rank) if i != d):
            raise SpecError(f"cat along dim {d}: " + ", ".join(fmt_shape(s) for s in shapes) + " do not match",
                            "inputs")
    out = list(shapes[0])
    out[d] = sum(x[d] for x in shapes)
    return result([(tuple(out), ins[0][1])])


@register_op("stack", operands=Operands(("tensors",), variadic=True))
def stack(a: dict, ins: tuple[Value, ...]) -> Out:
    need(ins, 1, "the tensors")
    x = ins[0][0]
    if any(s != x for s, _ in ins[1:]):
        raise SpecError("stack: " + ", ".join(fmt_shape(s) for s, _ in ins) + " must all be equal", "inputs")
    d = norm_dim(a.get("dim", 0), len(x) + 1)
    return result([((*x[:d], len(ins), *x[d:]), ins[0][1])])


@register_op("embedding", operands=Operands(("weight", "indices")))
def embedding(a: dict, ins: tuple[Value, ...]) -> Out:
    """Functional lookup: weight (N, D) gathered at integer indices of any shape."""
    need(ins, 2, "the weight and the indices")
    w, dt = ins[0]
    idx = ins[1][0]
    if len(w) != 2:
        raise SpecError(f"the weight must be 2-d, got {fmt_shape(w)}", "inputs")
    return result([((*idx, w[1]), dt)])


@register_op("gather", operands=Operands(("self", "index")))
def gather(a: dict, ins: tuple[Value, ...]) -> Out:
    """Values of the input picked along `dim` at int64 indices: the output has the index's shape and the input's
    element kind (BERT's token-type ids read from a buffer). torch's checks: same rank, and the index no larger
    than the input in every other dim."""
    need(ins, 2, "the tensor and the index")
    (x, dt), (idx, kind) = ins[0], ins[1]
    if kind != "int64":
        raise SpecError(f"the index must be int64, got {kind}", "inputs")
    d = norm_dim(a.get("dim"), len(x))
    if len(idx) != max(len(x), 1) and idx != () and x != ():
        raise SpecError(f"the index {fmt_shape(idx)} must have as many dims as the input {fmt_shape(x)}", "inputs")
    if any(idx[i] > x[i] for i in range(min(len(idx), len(x))) if i != d):
        raise SpecError(f"the index {fmt_shape(idx)} is larger than the input {fmt_shape(x)} outside dim {d}",
                        "inputs")
    return result([(idx, dt)])


@register_op("index", operands=Operands(("self", "indices"), variadic=True))  # self and a list of indices
def index(a: dict, ins: tuple[Value, ...]) -> Out:
    """`x[i, j]` with integer index tensors for the leading dims (transformers' mask functions, run on a grid of
    indices): the index shapes broadcast, the remaining dims follow. A boolean mask's result depends on its values,
    and a None among the indices is never recorded as data: those stay measured."""
    need(ins, 2, "the tensor and an index")
    x, dt = ins[0]
    indices = ins[1:]
    if len(indices) > len(x):
        raise SpecError(f"{len(indices)} indices for a {len(x)}-d input {fmt_shape(x)}", "inputs")
    for _, kind in indices:
        if kind not in ("int64", "int32"):
            raise SpecError(f"an index must be int64 or int32 (a {kind} mask selects by its values)", "inputs")
    return result([((*broadcast([s for s, _ in indices]), *x[len(indices):]), dt)])


FLOAT_NAMES = {"float32", "float16", "bfloat16", "float64", "float", "half", "double"}


def element_kind(dtype: Any, default: str) -> str:
    """A dtype argument ('float16', 'int64', None) as an element kind ('float' or a fixed dtype)."""
    if dtype is None:
        return default
    name = str(dtype).removeprefix("torch.")
    return "float" if name in FLOAT_NAMES or name.startswith("float") else name
