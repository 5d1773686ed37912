"""The records every view reads: one `LayerCost` per layer, `Totals`, and the `CostReport` that holds them."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .categories import CATEGORIES

if TYPE_CHECKING:
    from .eval_state import EvalState

Shape = tuple[int, ...]
PEERS: tuple[str, ...] = ("thop", "fvcore", "torchinfo", "ptflops", "flop_counter")


@dataclass(frozen=True, slots=True)
class Totals:
    """Additive sums over layers. Integers only, so incremental updates by difference stay exact."""

    params: int = 0
    trainable_params: int = 0
    frozen_params: int = 0
    buffers: int = 0
    macs: int = 0
    flops: int = 0
    bias_adds: int = 0
    elementwise_flops: int = 0
    attention_macs: int = 0
    param_bytes: int = 0
    activation_bytes: int = 0
    read_bytes: int = 0
    written_bytes: int = 0
    memory_access_bytes: int = 0
    thop: int = 0
    fvcore: int = 0
    torchinfo: int = 0
    ptflops: int = 0
    flop_counter: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(*map(operator.add, _VALUES(self), _VALUES(other)))

    def __sub__(self, other: Totals) -> Totals:
        return Totals(*map(operator.sub, _VALUES(self), _VALUES(other)))

    def _values(self) -> tuple[int, ...]:
        return _VALUES(self)

    @staticmethod
    def sum(items: Iterable[Totals]) -> Totals:
        """The sum of many Totals in one pass (column sums), much faster than chaining `+`."""
        columns = tuple(zip(*map(_VALUES, items), strict=True))
        return Totals(*map(sum, columns)) if columns else Totals()

    def peer_views(self) -> dict[str, int]:
        return {p: getattr(self, p) for p in PEERS}

    def as_dict(self) -> dict[str, int]:
        return {f: getattr(self, f) for f in _TOTAL_FIELDS}


_TOTAL_FIELDS = tuple(f.name for f in fields(Totals))
_VALUES = operator.attrgetter(*_TOTAL_FIELDS)


@dataclass(frozen=True, slots=True)
class LayerCost:
    """The cost of one layer (or one traced module) at its input shape. Bytes use the document's dtype."""

    index: int
    name: str
    type: str
    category: str
    input_shape: Shape
    output_shape: Shape
    totals: Totals
    args: dict[str, Any] = field(default_factory=dict)  # resolved constructor arguments, inferred ones filled
    inferred: tuple[str, ...] = ()  # names of the arguments taken from the incoming shape
    depth: int = 0
    path: str = ""  # module path for traced models ("layer1.0.conv1"); the name for layer lists
    parts: tuple[LayerCost, ...] = ()  # a composite's sub-layers (depthwise, pointwise)
    shared_with: tuple[str, ...] = ()  # other module paths whose parameters this layer shares
    input_shapes: tuple[Shape, ...] = ()  # every tensor input, for traced modules with several
    # graph rows: the node's id, the names of the rows (or model inputs) whose outputs it reads, every output
    node_id: str = ""
    inputs: tuple[str, ...] = ()
    output_shapes: tuple[Shape, ...] = ()
    scope: str = ""
    opaque: bool = False
    # the shapes of the parameter tensors the node holds (a tie names whole ones); None: not known (an opaque node)
    param_shapes: tuple[Shape, ...] | None = field(default=None, compare=False)

    # Convenience accessors used everywhere (one place, so views never re-derive them).
    @property
    def params(self) -> int:
        return self.totals.params

    @property
    def trainable_params(self) -> int:
        return self.totals.trainable_params

    @property
    def frozen_params(self) -> int:
        return self.totals.frozen_params

    @property
    def buffers(self) -> int:
        return self.totals.buffers

    @property
    def macs(self) -> int:
        return self.totals.macs

    @property
    def flops(self) -> int:
        return self.totals.flops

    @property
    def param_bytes(self) -> int:
        return self.totals.param_bytes

    @property
    def activation_bytes(self) -> int:
        return self.totals.activation_bytes

    @property
    def memory_access_bytes(self) -> int:
        return self.totals.memory_access_bytes

    @property
    def arithmetic_intensity(self) -> float:
        """FLOPs per byte moved (NetCost FLOPs / memory access cost)."""
        mac = self.totals.memory_access_bytes
        return self.totals.flops / mac if mac else 0.0


@dataclass(frozen=True)
class HierarchyNode:
    """A container module of a traced model: its path, type, depth and the layer rows it spans."""

    path: str
    type: str
    depth: int
    first: int  # index of its first leaf layer
    last: int  # index of its last leaf layer (inclusive)
    totals: Totals  # the sum of its costed members: a partial sum while `not_costed`
    not_costed: int = 0  # member nodes (nested ones too) that could not be costed

    @property
    def complete(self) -> bool:
        return not self.not_costed


@dataclass(frozen=True)
class SummaryFigures:
    """torchsummary's footer, reproduced: sizes in bytes (torchsummary prints them in MiB)."""

    input_bytes: int
    forward_backward_bytes: int
    params_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.forward_backward_bytes + self.params_bytes


@dataclass(frozen=True)
class Problem:
    """Why a node has no costs: its own error (`stale` False) or an input that could not be costed (`stale`)."""

    node_id: str
    name: str
    message: str
    field: str | None = None
    stale: bool = False
    type: str = ""
    index: int = -1

    def __str__(self) -> str:
        """`Conv2d #4 'conv3': groups=3 does not divide in_channels=64` (as a LayerError reads)."""
        return f"{self.type} #{self.index} '{self.name}': {self.message}"


@dataclass(frozen=True)
class CostReport:
    model: str
    inputs: tuple[tuple[Shape, str], ...]  # (shape with batch, dtype) per model input
    batch_size: int
    dtype: str
    layers: tuple[LayerCost, ...]
    totals: Totals
    by_category: dict[str, Totals]
    summary: SummaryFigures
    hierarchy: tuple[HierarchyNode, ...] = ()
    unsupported: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()
    source: str = "layers"  # "layers" (an editable list) or how a model was loaded ("torch", "onnx", ...)
    graph: Any = None  # the `Graph` the report was evaluated from (a layer list: its chain graph)
    problems: tuple[Problem, ...] = ()  # nodes that could not be costed: the report is then incomplete
    input_names: tuple[str, ...] = ()  # names of the model inputs, as rows' `inputs` name them
    # the evaluation that made it: what the next, incremental one starts from (costing.eval_state)
    state: EvalState | None = field(default=None, compare=False, repr=False)
    # how its peak activation memory is found (costing.peak_memory.report_peak, handed over by the evaluator that
    # made it): records stay below the graph code that the peak walks
    peak_of: Callable[[CostReport], int | None] | None = field(default=None, compare=False, repr=False)

    @property
    def complete(self) -> bool:
        """Whether every node is costed. The one test every view asks: an incomplete report's totals are partial
        sums, so no view shows them, a share of them or a delta against them (see `incomplete_note`)."""
        return not self.problems

    @cached_property
    def not_costed(self) -> frozenset[str]:
        """Node ids of the nodes that could not be costed (no row, no figures)."""
        return frozenset(p.node_id for p in self.problems)

    @property
    def incomplete_note(self) -> str:
        """'' for a complete report, else what a total shows instead of a number: 'not costed (18 nodes)'."""
        return not_costed_note(len(self.problems)) if self.problems else ""

    @property
    def cause(self) -> Problem | None:
        """The first node that fails on its own (the rest are stale because of it)."""
        return next((p for p in self.problems if not p.stale), self.problems[0] if self.problems else None)

    @cached_property
    def peak_activation_bytes(self) -> int | None:
        """Peak live activation memory of an inference forward (costing.peak_memory); None if incomplete."""
        return self.peak_of(self) if self.peak_of is not None else None

    @cached_property
    def by_id(self) -> Mapping[str, LayerCost]:
        """Rows by node id (the evaluation's own index when these are the rows it made)."""
        if self.state is not None and self.state.layers is self.layers:
            return self.state.rows
        return {r.node_id: r for r in self.layers}

    @property
    def output_shape(self) -> Shape:
        return self.layers[-1].output_shape if self.layers else (self.inputs[0][0] if self.inputs else ())

    def share(self, layer: LayerCost, metric: str) -> float | None:
        """The layer's fraction (0..1) of the model's total `metric` (params, macs, flops, ...); None while the
        report is incomplete (a share of a partial total would be too large)."""
        total = getattr(self.totals, metric)
        if not self.complete:
            return None
        return getattr(layer.totals, metric) / total if total else 0.0

    def category_share(self, category: str, metric: str) -> float | None:
        """A category's fraction of the total `metric`; None while the report is incomplete."""
        if not self.complete:
            return None
        total = getattr(self.totals, metric)
        part = self.by_category.get(category, Totals())
        return getattr(part, metric) / total if total else 0.0


NOT_COSTED = "not costed"
DASH = "—"  # what a figure that is not costed shows instead of a number


def not_costed_note(nodes: int) -> str:
    """'not costed (18 nodes)': what a total shows while that many nodes are not costed."""
    return f"{NOT_COSTED} ({nodes} node{'s' * (nodes != 1)})"


def empty_categories() -> dict[str, Totals]:
    return {c: Totals() for c in CATEGORIES}
