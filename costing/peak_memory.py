"""Peak live activation memory of one inference forward pass (no autograd: nothing is saved for backward).

torchsummary's "Activations (forward)" adds up every output, as if nothing were ever freed. What an engineer needs
to size a device is the peak: walking the nodes in execution order, a tensor is live from the node that makes it
until its last reader (a graph output until the end); the peak is the most bytes live at once, counted while a node
runs (its inputs and its outputs both live). The rules:

- a view (reshape, transpose, slice, ...) and an in-place op (`relu_`, `ReLU(inplace=True)`) write into their
  first input's storage: no bytes of their own, and they keep that storage alive as long as they are read;
- parameters, buffers and constants are not activations (their sources write nothing);
- graph inputs are live from the start until their last reader (handed over to the forward, not held by a caller).

An edit of arguments keeps the lifetimes and changes a few sizes: `PeakTracker` keeps the plan's allocations and
frees per step in a segment tree (each node: the bytes it nets, and the highest point reached inside it), so the
next report's peak updates the sizes the evaluation touched in O(log n) each instead of walking every node again
(430 ms per edit at 100k nodes).

Allocator rounding (PyTorch's caching allocator rounds blocks up to 512 B, CUDA to 2 MiB segments) and a kernel's
own workspace (im2col, attention scratch) are not counted: they depend on the device and its libraries.
"""

from __future__ import annotations

import threading
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


_NEVER = -(1 << 62)  # the highest point of an empty stretch of steps


class PeakTracker:
    """The live-range plan of one graph structure and, per step, the bytes it allocates (`made`) and frees after
    it ran (`freed`), in a segment tree: a leaf holds (made - freed, made); a parent (left net + right net,
    max(left high, left net + right high)). The root's high plus the inputs held at the start is the peak.
    `token`: the evaluation (EvalState.token) whose sizes it holds."""

    def __init__(self, index: Any, elem: int, token: object, plan: LivePlan, flags: dict[str, bool],
                 outputs: dict[str, int], size: dict[Any, int]) -> None:
        self.index, self.elem, self.token = index, elem, token
        self.flags, self.outputs, self.size = flags, outputs, size
        self.held = set(plan.held)
        self.made_at = {v: i for i, made in enumerate(plan.made) for v in made}
        self.freed_at = {v: i for i, freed in enumerate(plan.freed) for v in freed}
        n = max(1, len(plan.made))
        self.leaves = 1 << (n - 1).bit_length()
        self.made = [sum(size[v] for v in made) for made in plan.made]
        self.freed = [sum(size[v] for v in freed) for freed in plan.freed]
        self.net = [0] * (2 * self.leaves)
        self.high = [_NEVER] * (2 * self.leaves)
        for i, (m, f) in enumerate(zip(self.made, self.freed, strict=True)):
            self.net[self.leaves + i], self.high[self.leaves + i] = m - f, m
        net, high = self.net, self.high
        for k in range(self.leaves - 1, 0, -1):  # (the join inlined: 130k parents at 100k nodes)
            left = 2 * k
            net[k] = net[left] + net[left + 1]
            high[k] = max(high[left], net[left] + high[left + 1])
        self.at_start = sum(size[v] for v in self.held)

    def _join(self, k: int) -> None:
        left, right = 2 * k, 2 * k + 1
        self.net[k] = self.net[left] + self.net[right]
        self.high[k] = max(self.high[left], self.net[left] + self.high[right])

    def _set_leaf(self, i: int) -> None:
        k = self.leaves + i
        self.net[k], self.high[k] = self.made[i] - self.freed[i], self.made[i]
        k //= 2
        while k:
            self._join(k)
            k //= 2

    def resize(self, v: Any, nbytes: int) -> None:
        """Storage `v` now holds `nbytes` (a value that is not a storage of its own is ignored)."""
        delta = nbytes - self.size.get(v, nbytes)
        if not delta:
            return
        self.size[v] = nbytes
        if v in self.held:
            self.at_start += delta
        if (i := self.made_at.get(v)) is not None:
            self.made[i] += delta
            self._set_leaf(i)
        if (i := self.freed_at.get(v)) is not None:
            self.freed[i] += delta
            self._set_leaf(i)

    def peak(self) -> int:
        return max(self.at_start, self.at_start + self.high[1])


_lock = threading.Lock()  # a document's evaluations share one tracker; the loading thread may ask first


def _graph_peak(report: Any) -> int:
    graph = report.graph
    elem = DTYPE_BYTES[graph.dtype]
    state = report.state
    caches = state.caches if state is not None else None
    with _lock:
        tracker = caches.peak if caches is not None else None
        if tracker is not None and tracker.token is state.token:
            return tracker.peak()
        if tracker is not None and state.base is tracker.token and state.evaluated is not None and \
                tracker.index is graph.index and tracker.elem == elem and _update(tracker, report, elem):
            tracker.token = state.token
            return tracker.peak()
        tracker = _build(report, elem)
        if caches is not None:  # the next evaluation of this document updates it while the structure stays
            caches.peak = tracker
        return tracker.peak()


def _node_sizes(node: Any, row: Any, values: Any, elem: int) -> tuple[bool, int, list[int]]:
    """(whether it writes into its first input's storage, its output count, the bytes of each output)."""
    n_out = len(row.output_shapes) or 1
    if not node.inputs:  # parameters, buffers, constants: not activations
        sizes = [0] * n_out
    elif n_out == 1:  # what it writes is its output (a composite's parts write more: its output alone)
        sizes = [prod(row.output_shape) * elem if row.parts else row.totals.written_bytes]
    else:
        sizes = [_nbytes(values[ref], elem) if (ref := Ref(node.id, i)) in values else 0 for i in range(n_out)]
    view = row.totals.written_bytes == 0 and bool(node.inputs)  # a view writes nothing of its own
    return view or _inplace(node.op, node.args), n_out, sizes


def _nbytes(v: Any, elem: int) -> int:
    shape, dt = v
    return prod(shape) * (elem if dt == "float" else FIXED_DTYPES.get(dt, 8))


def _update(tracker: PeakTracker, report: Any, elem: int) -> bool:
    """Resize what the evaluation visited; False when a visited node changed the lifetimes (its alias flag or its
    output count): the plan is then made again."""
    graph, rows, values = report.graph, report.by_id, report.state.values
    for gi in graph.inputs:
        tracker.resize((gi.name, 0), _nbytes(gi.value, elem))
    for nid in report.state.evaluated:
        row = rows.get(nid)
        if row is None:
            return False
        alias, n_out, sizes = _node_sizes(graph.node(nid), row, values, elem)
        if alias != tracker.flags[nid] or n_out != tracker.outputs[nid]:
            return False
        for i, nbytes in enumerate(sizes):
            tracker.resize((nid, i), nbytes)
    return True


def _build(report: Any, elem: int) -> PeakTracker:
    graph, rows = report.graph, report.by_id
    state = report.state
    values = state.values if state is not None else {}
    # values are named by (node id, output index) here: hashing `Ref` dataclasses would be most of the time
    size: dict[Any, int] = {(gi.name, 0): _nbytes(gi.value, elem) for gi in graph.inputs}
    flags: dict[str, bool] = {}
    outputs: dict[str, int] = {}
    steps = []
    for node in graph.nodes:
        row = rows.get(node.id)
        if row is None:
            continue
        alias, n_out, sizes = _node_sizes(node, row, values, elem)
        flags[node.id], outputs[node.id] = alias, n_out
        for i, nbytes in enumerate(sizes):
            size[(node.id, i)] = nbytes
        steps.append((tuple((r.node, r.index) for r in node.inputs), tuple((node.id, i) for i in range(n_out)),
                      alias))
    plan = live_plan([(gi.name, 0) for gi in graph.inputs], steps, [(r.node, r.index) for r in graph.output_refs])
    return PeakTracker(graph.index, elem, state.token if state is not None else None, plan, flags, outputs, size)
