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


@dataclass(frozen=True, slots=True)
class Step:
    """One op: the values it reads, and the values it makes (bytes each; `alias` ones live in input 0's storage)."""

    reads: tuple[Any, ...]
    makes: tuple[tuple[Any, int], ...]
    alias: bool = False


def peak_live_bytes(inputs: Iterable[tuple[Any, int]], steps: Sequence[Step], outputs: Iterable[Any] = ()) -> int:
    """The most bytes live at once while `steps` run in order. `inputs` are (value, bytes) live at the start;
    `outputs` stay live to the end. A value is any hashable name."""
    storage: dict[Any, Any] = {}  # value -> the value whose storage it lives in
    size: dict[Any, int] = {}  # storage -> bytes
    for v, b in inputs:
        storage[v] = v
        size[v] = b
    end = len(steps)
    last: dict[Any, int] = {}  # storage -> index of the last step that reads it (or `end`)
    for i, s in enumerate(steps):
        base = storage.get(s.reads[0]) if s.alias and s.reads else None
        for v, b in s.makes:
            if base is not None:
                storage[v] = base
            else:
                storage[v] = v
                size[v] = b
                last[v] = i  # never read: freed as soon as it is made
        for r in s.reads:
            st = storage.get(r)
            if st is not None:
                last[st] = i
    for v in outputs:
        st = storage.get(v)
        if st is not None:
            last[st] = end
    frees: dict[int, int] = {}  # step -> bytes freed after it
    for st, i in last.items():
        frees[i] = frees.get(i, 0) + size[st]
    live = sum(size[v] for v, _ in _unique(inputs, storage) if v in last)  # an unread input is not held
    peak = live
    for i, s in enumerate(steps):
        live += sum(b for v, b in s.makes if storage[v] == v)
        peak = max(peak, live)
        live -= frees.get(i, 0)
    return peak


def _unique(inputs: Iterable[tuple[Any, int]], storage: dict[Any, Any]) -> list[tuple[Any, int]]:
    return [(v, b) for v, b in inputs if storage.get(v) == v]


def _inplace(op: str, args: Any) -> bool:
    """`relu_`, `add_` (aten's in-place names) or a module built with inplace=True."""
    return (op.endswith("_") and not op.endswith("__")) or bool(isinstance(args, dict) and args.get("inplace") is True)


def report_peak(report: Any) -> int | None:
    """The peak live activation bytes of a `CostReport`'s inference forward; None when the report is incomplete
    (a node that cannot be costed has no output sizes)."""
    if report.problems:
        return None
    if report.graph is not None:
        return _graph_peak(report)
    return _chain_peak(report)


def _graph_peak(report: Any) -> int:
    from .graph import FIXED_DTYPES, Ref  # (graph imports records; records imports this lazily)

    graph = report.graph
    elem = DTYPE_BYTES[graph.dtype]
    values = report.__dict__.get("_values", {})

    def nbytes(v: Any) -> int:
        shape, dt = v
        return prod(shape) * (elem if dt == "float" else FIXED_DTYPES.get(dt, 8))

    inputs = [(Ref(gi.name), nbytes(gi.value)) for gi in graph.inputs]
    steps: list[Step] = []
    rows = report.by_id
    for node in graph.nodes:
        row = rows.get(node.id)
        if row is None:
            continue
        makes = []
        i = 0
        while (ref := Ref(node.id, i)) in values:
            makes.append((ref, nbytes(values[ref])))
            i += 1
        source = not node.inputs
        view = row.totals.written_bytes == 0 and not source  # a view writes nothing of its own
        alias = view or _inplace(node.op, node.args)
        if source:  # parameters, buffers, constants: not activations
            makes = [(v, 0) for v, _ in makes]
        steps.append(Step(tuple(node.inputs), tuple(makes), alias))
    return peak_live_bytes(inputs, steps, graph.output_refs)


def _chain_peak(report: Any) -> int:
    """A layer list is a chain: each layer reads the previous one's output (a composite: its parts in turn)."""
    steps: list[Step] = []
    prev: Any = "input"
    n = 0
    for row in report.layers:
        for part in row.parts or (row,):
            made = ("out", n)
            n += 1
            written = part.totals.written_bytes
            steps.append(Step((prev,), ((made, written),), written == 0 or _inplace(part.type, part.args)))
            prev = made
    return peak_live_bytes([("input", report.summary.input_bytes)], steps, [prev])
