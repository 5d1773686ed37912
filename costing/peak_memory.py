"""Peak live activation memory of one inference forward pass (no autograd: nothing is saved for backward).

torchsummary's "Activations (forward)" adds up every output, as if nothing were ever freed. What an engineer needs
to size a device is the peak: walking the nodes in execution order, a tensor is live from the node that makes it
until its last reader (a graph output until the end); the peak is the most bytes live at once, counted while a node
runs (its inputs and its outputs both live). The rules:

- a view (reshape, transpose, slice, ...) and an in-place op (`relu_`, `ReLU(inplace=True)`) write into their
  first input's storage: no bytes of their own, and they keep that storage alive as long as they are read;
- parameters, buffers and constants are not activations (their sources write nothing);
- graph inputs are live from the start until their last reader (handed over to the forward, not held by a caller).

Allocator rounding (PyTorch's caching allocator rounds blocks up to 512 B, CUDA to 2 MiB segments) and a kernel's
own workspace (im2col, attention scratch) are not counted: they depend on the device and its libraries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

from .dtypes import DTYPE_BYTES
from .graph import FIXED_DTYPES, Ref


@dataclass(frozen=True, slots=True)
class LivePlan:
    """When each storage is made and freed; bytes come separately, so one plan serves every report of a graph
    whose structure an edit kept (an argument edit changes sizes, not lifetimes)."""

    held: tuple[Any, ...]  # input storages live at the start (read by some step, or an output)
    made: tuple[tuple[Any, ...], ...]  # per step: the storages it allocates
    freed: tuple[tuple[Any, ...], ...]  # per step: the storages whose last reader it is

    def peak(self, size: dict[Any, int]) -> int:
        live = sum(size[v] for v in self.held)
        peak = live
        for made, freed in zip(self.made, self.freed, strict=True):
            for v in made:
                live += size[v]
            if live > peak:
                peak = live
            for v in freed:
                live -= size[v]
        return peak


def live_plan(inputs: Iterable[Any], steps: Sequence[tuple[tuple[Any, ...], tuple[Any, ...], bool]],
              outputs: Iterable[Any] = ()) -> LivePlan:
    """The plan of `steps` (reads, makes, alias) run in order: `inputs` live at the start, `outputs` to the end.
    A value is any hashable name."""
    storage: dict[Any, Any] = {v: v for v in inputs}  # value -> the value whose storage it lives in
    end = len(steps)
    last: dict[Any, int] = {}  # storage -> the last step that reads it (or `end`)
    made: list[tuple[Any, ...]] = []
    for i, (reads, makes, alias) in enumerate(steps):
        base = storage.get(reads[0]) if alias and reads else None
        own = []
        for v in makes:
            if base is not None:
                storage[v] = base
            else:
                storage[v] = v
                own.append(v)
                last[v] = i  # never read: freed as soon as it is made
        made.append(tuple(own))
        for r in reads:
            st = storage.get(r)
            if st is not None:
                last[st] = i
    for v in outputs:
        st = storage.get(v)
        if st is not None:
            last[st] = end
    freed: list[list[Any]] = [[] for _ in steps]
    held = []
    for st, i in last.items():
        if i < end:
            freed[i].append(st)
    for v in inputs:
        if v in last:  # an unread input is not held
            held.append(v)
    return LivePlan(tuple(held), tuple(made), tuple(tuple(f) for f in freed))


def _inplace(op: str, args: Any) -> bool:
    """`relu_`, `add_` (aten's in-place names) or a module built with inplace=True."""
    return (op.endswith("_") and not op.endswith("__")) or bool(isinstance(args, dict) and args.get("inplace") is True)


def report_peak(report: Any) -> int | None:
    """The peak live activation bytes of a `CostReport`'s inference forward; None when the report is incomplete
    (a node that cannot be costed has no output sizes)."""
    if report.problems or report.graph is None:
        return None
    return _graph_peak(report)


def _graph_peak(report: Any) -> int:
    graph = report.graph
    elem = DTYPE_BYTES[graph.dtype]
    state = report.state
    values = state.values if state is not None else {}
    rows = report.by_id

    def nbytes(v: Any) -> int:
        shape, dt = v
        return prod(shape) * (elem if dt == "float" else FIXED_DTYPES.get(dt, 8))

    # values are named by (node id, output index) here: hashing `Ref` dataclasses would be most of the time
    size: dict[Any, int] = {(gi.name, 0): nbytes(gi.value) for gi in graph.inputs}
    costed = []
    flags = []
    for node in graph.nodes:
        row = rows.get(node.id)
        if row is None:
            continue
        costed.append((node, row))
        n_out = len(row.output_shapes) or 1
        if not node.inputs:  # parameters, buffers, constants: not activations
            for i in range(n_out):
                size[(node.id, i)] = 0
        elif n_out == 1:  # what it writes is its output (a composite's parts write more: its output alone)
            size[(node.id, 0)] = prod(row.output_shape) * elem if row.parts else row.totals.written_bytes
        else:
            for i in range(n_out):
                ref = Ref(node.id, i)
                size[(node.id, i)] = nbytes(values[ref]) if ref in values else 0
        view = row.totals.written_bytes == 0 and bool(node.inputs)  # a view writes nothing of its own
        flags.append(view or _inplace(node.op, node.args))
    key = tuple(flags)
    hit = state.caches.peak_plan if state is not None else None
    if hit is not None and hit[0] is graph.index and hit[1] == key:
        plan = hit[2]  # the same structure (an edit of arguments): the same lifetimes
    else:
        steps = [(tuple((r.node, r.index) for r in node.inputs),
                  tuple((node.id, i) for i in range(len(row.output_shapes) or 1)), alias)
                 for (node, row), alias in zip(costed, flags, strict=True)]
        plan = live_plan([(gi.name, 0) for gi in graph.inputs], steps,
                         [(r.node, r.index) for r in graph.output_refs])
        if state is not None:  # the next evaluation of this document reuses it while the structure stays
            state.caches.peak_plan = (graph.index, key, plan)
    return plan.peak(size)
