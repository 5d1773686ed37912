"""Helpers shared by the functional ops: values, dims, broadcasting and the peer rule for functional work."""

from __future__ import annotations

from math import prod
from typing import Any

from ..errors import SpecError
from ..formatting import shape as fmt_shape
from ..registry import Out

Shape = tuple[int, ...]
Value = tuple[Shape, str]
INT64_MAX = 9223372036854775807


def numel(shape: Shape) -> int:
    return prod(shape)


def need(ins: tuple[Value, ...], n: int, what: str) -> None:
    if len(ins) < n:
        raise SpecError(f"needs {n} input{'s' * (n > 1)} ({what}), got {len(ins)}", "inputs")


def norm_dim(dim: Any, rank: int, field: str = "dim") -> int:
    """A dim in [-rank, rank) as a non-negative index (a 0-d tensor counts as rank 1, as in torch)."""
    r = max(rank, 1)
    if not isinstance(dim, int) or isinstance(dim, bool) or not -r <= dim < r:
        raise SpecError(f"{field}={dim!r} is out of range for a {rank}-d input", field)
    return dim % r


def broadcast(shapes: list[Shape]) -> Shape:
    """torch's broadcasting of several shapes, or a SpecError naming them all."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        size = 1
        for s in shapes:
            d = s[len(s) - rank + i] if len(s) - rank + i >= 0 else 1
            if d != 1:
                if size not in (1, d):
                    raise SpecError(" + ".join(fmt_shape(s) or "()" for s in shapes) + " do not broadcast", "inputs")
                size = d
        out.append(size)
    return tuple(out)


def functional(out: Out, fvcore: int = 0, ptflops: int = 0) -> Out:
    """Peer views of work outside torch.nn modules (the rules of traced containers' own ops,
    model_io.importers.op_costs): module-hook tools (thop, torchinfo) never see it; fvcore counts matmuls and
    convolutions but not fused attention, plus its element rules (`fvcore`: norms, adaptive pooling, resampling);
    ptflops only what its torch.* / F.* patches charge (`ptflops`: matmuls, some activations and pools)."""
    out.peer = {"thop": 0, "torchinfo": 0, "fvcore": out.macs - out.attention_macs + fvcore, "ptflops": ptflops,
                "flop_counter": 2 * out.macs}
    out.read_inputs = True
    return out


def result(outputs: list[Value] | tuple[Value, ...], *, view: bool = False, category: str = "other",
           fvcore: int = 0, ptflops: int = 0, **cost: int) -> Out:
    outs = tuple(outputs)
    first = outs[0][0] if outs else ()
    return functional(Out(first, view=view, outputs=outs, category=category, **cost), fvcore, ptflops)


def int_list(value: Any, field: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise SpecError(f"{field}={value!r} must be an int or a list of ints", field)
