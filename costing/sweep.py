"""Input-size sweep: the graph's params, MACs and activation memory re-evaluated at other input sizes.

An axis is one or more dimensions of one graph input: height and width of an image together (`224 -> 512 px`),
or the sequence length of a token input (`128 -> 32k tokens`). Each point is a full `evaluate_graph` of the graph
with that input resized, so the series is exactly what the engine gives at that size.

A traced graph carries the sizes its trace saw in the arguments of its shape ops (`view(1, 1024, 12, 64)`, a
`1024 x 1024` causal mask, `arange(1024)`). Resizing substitutes the new size wherever a shape argument of a
functional op repeats the swept size; where that is ambiguous (another dimension of the same value) the engine
rejects the point and names the node, and the point is reported as failed, never guessed. Layer arguments
(`Embedding(num_embeddings=1024)`) are never touched: they are the model, not the input.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .graph import Graph, GraphInput, Node
from .graph_eval import evaluate_graph
from .records import CostReport, Totals
from .registry import has_kind, kind

SHAPE_ARGS = ("size", "shape", "end", "split_sizes")  # the arguments of functional ops that hold sizes
MAX_POINTS = 64


@dataclass(frozen=True)
class SweepAxis:
    """Which input dimensions a sweep resizes (all to the same size) and what the size is called."""

    input: str  # graph input name
    dims: tuple[int, ...]  # dimensions of that input's shape (with batch)
    unit: str  # "px", "tokens", "steps"
    label: str  # "input resolution", "sequence length"

    def describe(self, size: int) -> str:
        return f"{size:,} {self.unit}" if self.unit else f"{size:,}"


@dataclass(frozen=True)
class SweepPoint:
    size: int
    totals: Totals | None  # None: the graph could not be costed at this size (`error` says why)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.totals is not None

    @property
    def params(self) -> int:
        return self.totals.params if self.totals else 0

    @property
    def macs(self) -> int:
        return self.totals.macs if self.totals else 0

    @property
    def attention_macs(self) -> int:
        """QKᵀ and AV: the parameter-free matmuls whose work grows with the square of the sequence."""
        return self.totals.attention_macs if self.totals else 0

    @property
    def other_macs(self) -> int:
        return self.macs - self.attention_macs

    @property
    def activation_bytes(self) -> int:
        return self.totals.activation_bytes if self.totals else 0


@dataclass(frozen=True)
class Sweep:
    axis: SweepAxis
    points: tuple[SweepPoint, ...]

    def ok_points(self) -> list[SweepPoint]:
        return [p for p in self.points if p.ok]

    def crossover(self) -> float | None:
        """The size at which attention's MACs catch up with all other MACs, or None when they never do within
        the sweep (or already do at its first point). Between the two sizes that bracket it, attention is
        ~a·n² and the rest ~b·n, so their ratio is linear in n: interpolated linearly."""
        return crossover(self.ok_points())


def crossover(points: Sequence[SweepPoint]) -> float | None:
    prev: SweepPoint | None = None
    for p in points:
        if p.other_macs > 0 and p.attention_macs >= p.other_macs:
            if prev is None:
                return None  # attention dominates from the start: no crossover inside the range
            r0, r1 = prev.attention_macs / prev.other_macs, p.attention_macs / p.other_macs
            if r1 == r0:
                return float(p.size)
            return prev.size + (1.0 - r0) * (p.size - prev.size) / (r1 - r0)
        prev = p if p.other_macs > 0 else prev
    return None


def default_axis(graph: Graph) -> SweepAxis | None:
    """Token ids (an integer input `(B, L)`): their length; an image `(B, C, H, W)`: H and W together; a
    sequence `(B, C, L)`: L. None for a graph without inputs."""
    if not graph.inputs:
        return None
    gi = graph.inputs[0]
    rank = len(gi.shape)
    if gi.dtype != "float" and rank >= 2:
        return SweepAxis(gi.name, (rank - 1,), "tokens", "sequence length")
    if rank == 4:
        return SweepAxis(gi.name, (2, 3), "px", "input resolution")
    if rank == 5:
        return SweepAxis(gi.name, (2, 3, 4), "px", "input size")
    if rank == 3:
        return SweepAxis(gi.name, (2,), "steps", "sequence length")
    return SweepAxis(gi.name, (rank - 1,), "", "input size")


def current_size(graph: Graph, axis: SweepAxis) -> int:
    return _input(graph, axis).shape[axis.dims[0]]


def default_sizes(graph: Graph, axis: SweepAxis) -> tuple[int, ...]:
    """Tokens: doubling from 128 to 32k (where GPT-2's attention overtakes its linear layers); images: 224 to
    512 px in steps of 32; otherwise the current size times 1/4 .. 4, doubling."""
    now = current_size(graph, axis)
    if axis.unit == "tokens":
        return doubling(128, 32768)
    if axis.unit == "px" and now <= 512:
        return tuple(range(224, 513, 32)) if now >= 96 else doubling(max(8, now), now * 8)
    return doubling(max(1, now // 4), now * 4)


def doubling(first: int, last: int) -> tuple[int, ...]:
    out, n = [], max(1, first)
    while n <= last:
        out.append(n)
        n *= 2
    return tuple(out)


def sizes_between(first: int, last: int, count: int, geometric: bool) -> tuple[int, ...]:
    """`count` sizes from `first` to `last` (both kept), evenly or geometrically spaced, without repeats."""
    if first < 1 or last < first:
        raise ValueError(f"sizes {first} -> {last}: the first must be at least 1 and not above the last")
    count = max(2, min(count, MAX_POINTS))
    out: list[int] = []
    for i in range(count):
        t = i / (count - 1)
        v = first * (last / first) ** t if geometric else first + (last - first) * t
        n = int(round(v))
        if not out or n > out[-1]:
            out.append(n)
    return tuple(out)


def resized(graph: Graph, axis: SweepAxis, size: int) -> Graph:
    """`graph` with the axis' input dimensions set to `size` and the sizes baked into traced shape ops
    substituted (see the module doc). Raises ValueError for a size below 1."""
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"size {size!r} must be a positive integer")
    gi = _input(graph, axis)
    old = {gi.shape[d] for d in axis.dims}
    shape = tuple(size if d in axis.dims else s for d, s in enumerate(gi.shape))
    inputs = tuple(replace(g, shape=shape) if g.name == axis.input else g for g in graph.inputs)
    if old == {size}:
        return replace(graph, inputs=inputs)
    nodes = tuple(_substituted(n, old, size) for n in graph.nodes)
    return replace(graph, nodes=nodes, inputs=inputs)


def evaluate_at(graph: Graph, axis: SweepAxis, size: int) -> CostReport:
    return evaluate_graph(resized(graph, axis, size))


def point(graph: Graph, axis: SweepAxis, size: int) -> SweepPoint:
    """One point of a sweep: the totals at `size`, or why the graph cannot be costed there."""
    try:
        report = evaluate_at(graph, axis, size)
    except ValueError as e:
        return SweepPoint(size, None, str(e))
    if not report.complete:
        cause = report.cause
        return SweepPoint(size, None, str(cause) if cause is not None else "incomplete")
    return SweepPoint(size, report.totals)


def points(graph: Graph, axis: SweepAxis, sizes: Sequence[int]) -> Iterator[SweepPoint]:
    """The points one by one (a window evaluates them incrementally, between events)."""
    for s in sizes:
        yield point(graph, axis, s)


def sweep(graph: Graph, axis: SweepAxis | None = None, sizes: Sequence[int] | None = None) -> Sweep:
    axis = axis or default_axis(graph)
    if axis is None:
        raise ValueError("the graph has no input to sweep")
    sizes = tuple(sizes) if sizes is not None else default_sizes(graph, axis)
    return Sweep(axis, tuple(points(graph, axis, sizes)))


def _input(graph: Graph, axis: SweepAxis) -> GraphInput:
    for gi in graph.inputs:
        if gi.name == axis.input:
            if any(not 0 <= d < len(gi.shape) for d in axis.dims):
                raise ValueError(f"input {gi.name} has {len(gi.shape)} dims; cannot sweep dims {list(axis.dims)}")
            return gi
    raise ValueError(f"the graph has no input named {axis.input!r}")


def _substituted(node: Node, old: set[int], new: int) -> Node:
    if node.opaque or not has_kind(node.op) or not kind(node.op).functional:
        return node
    changed: dict[str, Any] = {}
    for key in SHAPE_ARGS:
        v = node.args.get(key)
        if isinstance(v, bool):
            continue
        if isinstance(v, int) and v in old:
            changed[key] = new
        elif isinstance(v, (list, tuple)) and any(isinstance(x, int) and not isinstance(x, bool) and x in old
                                                  for x in v):
            changed[key] = [new if isinstance(x, int) and not isinstance(x, bool) and x in old else x for x in v]
    return replace(node, args={**node.args, **changed}) if changed else node
