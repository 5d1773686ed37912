"""What one evaluation of a graph knows beyond its report's rows: the state the next, incremental evaluation starts
from (`CostReport.state`), and the pure caches a document's evaluations hand on to each other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .graph import Ref, Value
from .node_cost import RuleMemo
from .records import LayerCost


@dataclass(eq=False)
class EvalCaches:
    """Caches of pure functions, shared (not copied) along one line of evaluations: each evaluation given a
    previous report hands its caches on; one without starts new ones. `rules`: the node rules' results;
    `peak`: costing.peak_memory's PeakTracker of the last graph structure (its live ranges, the sizes of one
    evaluation, which the next one updates where it changed them)."""

    rules: RuleMemo = field(default_factory=RuleMemo)
    peak: Any = None

    def __reduce__(self) -> tuple[type, tuple]:
        return (EvalCaches, ())  # a copied report starts with empty caches


@dataclass(frozen=True, eq=False)
class EvalState:
    """The evaluation that made a report.

    `layers` are the report rows it was made with (`rows` indexes exactly those by node id); `values` every value
    it computed (graph inputs and node outputs); `inputs` what each node it visited read; `evaluated` the ids an
    incremental evaluation visited (None: a full one visited all); `shared_by` node id -> the ids of the nodes
    whose parameters are tied to it (None: not needed yet). `token` names the evaluation (unique, a copy too); `base`
    is the token of the one an incremental evaluation started from (None: a full one), so a cache that holds one
    evaluation's figures knows whether `evaluated` is all that changed since."""

    layers: tuple[LayerCost, ...]
    rows: Mapping[str, LayerCost]
    values: Mapping[Ref, Value]
    inputs: Mapping[str, tuple[Value | None, ...]]
    evaluated: frozenset[str] | None
    shared_by: Mapping[str, list[str]] | None
    caches: EvalCaches
    base: object | None = None
    token: object = field(default_factory=object)
