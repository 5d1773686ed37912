"""What torch can allocate: a tensor whose byte size does not fit int64 is refused ("Storage size calculation
overflowed"), so a layer whose weight or output would be one is an error, never a costed row."""

from __future__ import annotations

from math import prod

from .errors import SpecError
from .registry import Out

INT64_MAX = 2**63 - 1
Shape = tuple[int, ...]


def check_storage(shape: Shape, item_bytes: int, what: str) -> None:
    size = prod(shape) * item_bytes
    if size > INT64_MAX:
        raise SpecError(f"{what} ({'×'.join(map(str, shape))}) would take {size:.3g} bytes, more than torch can "
                        f"allocate (sizes in bytes are int64)")


def check_allocatable(out: Out, elem: int, outputs: tuple[tuple[Shape, int], ...] | None = None) -> None:
    """Every parameter tensor (the whole count where a rule does not list them) and every output, in bytes at the
    document's element size (`outputs`: (shape, bytes per element) each; the first output at `elem` by default)."""
    for shape in out.tensors if out.tensors is not None else ((out.params,),):
        check_storage(shape, elem, "a parameter tensor")
    for shape, item in outputs if outputs is not None else ((out.shape, elem),):
        check_storage(shape, item, "the output")
