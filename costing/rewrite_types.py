"""The records of `costing.rewrites`: kinds, a rewrite, its result and its preview (see that module's API)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .graph import Graph
from .records import CostReport, Totals

KINDS: tuple[str, ...] = ("two_3x3", "factorize_nx1", "depthwise_separable", "global_avg_pool", "reduce_1x1",
                          "width")
# Adjustable parameters with their defaults; a rewrite's params hold every one of its kind's.
DEFAULTS: dict[str, dict[str, Any]] = {"reduce_1x1": {"ratio": 0.25}, "width": {"factor": 0.5, "scope": ""}}
WHOLE_MODEL = "*"  # the width candidate's id suffix for the whole model (its node and scope are "")


class RewriteError(ValueError):
    """A rewrite that does not apply here, or a bad id or parameter: one line naming the node or id."""


@dataclass(frozen=True)
class Rewrite:
    id: str
    kind: str
    node: str
    description: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class RewriteResult:
    graph: Graph
    mapping: dict[str, tuple[str, ...]]
    touched: frozenset[str]
    rewrite: Rewrite
    base: Graph = field(repr=False, compare=False)

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.graph.nodes if not self.base.has(n.id))

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.base.nodes if not self.graph.has(n.id))


@dataclass(frozen=True)
class RewritePreview:
    rewrite: Rewrite
    before: Totals
    after: Totals
    report: CostReport = field(repr=False, compare=False)
    result: RewriteResult = field(repr=False, compare=False)

    @property
    def delta(self) -> Totals:
        return self.after - self.before

    @property
    def params_delta(self) -> int:
        return self.after.params - self.before.params

    @property
    def macs_delta(self) -> int:
        return self.after.macs - self.before.macs

    @property
    def flops_delta(self) -> int:
        return self.after.flops - self.before.flops

    @property
    def activation_bytes_delta(self) -> int:
        return self.after.activation_bytes - self.before.activation_bytes

    @property
    def param_bytes_delta(self) -> int:
        return self.after.param_bytes - self.before.param_bytes

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON record of one candidate."""
        r = self.rewrite
        return {"id": r.id, "kind": r.kind, "node": r.node, "description": r.description, "params": dict(r.params),
                "params_delta": self.params_delta, "macs_delta": self.macs_delta, "flops_delta": self.flops_delta,
                "activation_bytes_delta": self.activation_bytes_delta, "param_bytes_delta": self.param_bytes_delta}



def make_rewrite(kind_: str, node: str, params: dict[str, Any] | None = None, what: str = "") -> Rewrite:
    full = {**DEFAULTS.get(kind_, {}), **(params or {})}
    if kind_ == "width":
        full["scope"] = node
    suffix = node if node else WHOLE_MODEL
    return Rewrite(f"{kind_}:{suffix}", kind_, node, describe(kind_, node, full, what), full)


def describe(kind_: str, node: str, params: Mapping[str, Any], what: str = "") -> str:
    if kind_ == "reduce_1x1":
        return f"{what or node}: 1×1 reduction to {params['ratio']:g} of the input channels before it"
    if kind_ == "width":
        where = node or "the whole model"
        return f"{where}: channel widths × {params['factor']:g} (coupled channels kept consistent)"
    return what or node
