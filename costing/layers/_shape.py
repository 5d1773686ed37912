"""Small shape helpers shared by the cost functions."""

from __future__ import annotations

from math import prod

from ..errors import SpecError

Shape = tuple[int, ...]


def numel(shape: Shape) -> int:
    return prod(shape)


def expect_rank(x: Shape, ranks: tuple[int, ...], what: str) -> None:
    if len(x) not in ranks:
        want = " or ".join(f"{r}-d" for r in ranks)
        raise SpecError(f"expects a {want} input {what}, got shape {fmt_shape(x)}", "input")


def fmt_shape(x: Shape) -> str:
    return "(" + ", ".join(str(d) for d in x) + ")"


def infer(a: dict, name: str, actual: int, inferred: dict) -> int:
    """Fill an input-size argument from the incoming shape, or check that the given value agrees with it."""
    given = a.get(name)
    if given is None:
        inferred[name] = actual
        return actual
    if given != actual:
        raise SpecError(f"{name}={given} contradicts the incoming shape, which has {actual}", name)
    return given


def window_out(n_in: int, k: int, s: int, pad_total: int, d: int, ceil_mode: bool = False,
               pad_left: int = 0) -> int:
    """Output length of a sliding window (conv or pool) along one dim, torch's rule."""
    eff = d * (k - 1) + 1
    padded = n_in + pad_total
    # torch's pooling_output_shape: floor division, with ceil_mode rounding up (stride - 1 added) ...
    out = (padded - eff + (s - 1 if ceil_mode else 0)) // s + 1
    # ... except that the last window must start inside the input or the left padding
    if ceil_mode and (out - 1) * s >= n_in + pad_left:
        out -= 1
    if out < 1:
        what = f"kernel_size {k}" if d == 1 else f"dilated kernel size {eff} (kernel_size {k}, dilation {d})"
        raise SpecError(f"{what} is larger than the padded input {padded}", "kernel_size")
    return out
