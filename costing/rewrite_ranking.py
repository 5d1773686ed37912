"""Rewrite candidates ranked by what they save, the harmful and meaningless ones marked hidden with why.

Shared by the window's Rewrites panel and `netcost rewrites --sort saving` (pure Python, no Qt, no torch):

    Saving.MACS / Saving.PARAMS                      the metric a ranking saves (MACs by default)
    pointless(graph, rewrite, report) -> str         why a candidate is meaningless before any preview ("" if not):
                                                     a 1×1 reduction or depthwise-separable on a conv reading
                                                     ≤ FEW_CHANNELS channels (the RGB input), a reduction on a conv
                                                     that already reads a 1×1 reduction (a bottleneck)
    hidden_reason(preview, by, why_pointless="") -> str   "" when worth showing, else "increases MACs by 1,456 %",
                                                     "changes no MACs" or the pointless reason
    rank(graph, previews, by, report) -> list[Ranked]    biggest saving first (graph order on a tie), each with
                                                     its hidden reason
    next_best(ranked_ids, applied_id, still_there) -> str | None   the candidate to select after applying one:
                                                     the next shown one after it in the old ranking
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from .graph import Graph, Node
from .records import CostReport
from .registry import has_kind, kind
from .rewrites import Rewrite, RewritePreview, conv_geometry

FEW_CHANNELS = 4  # at most this many input channels (an RGB or RGBA image): nothing to reduce or separate
_SEPARATES = ("reduce_1x1", "depthwise_separable")
# what may sit between a 1×1 reduction and the conv it feeds (the reduction's own norm / activation)
_PASS_CATEGORIES = ("activation", "norm")


class Saving(Enum):
    """The cost a ranking orders candidates by: how much of it they take away."""

    MACS = "macs"
    PARAMS = "params"

    @property
    def label(self) -> str:
        return "MACs" if self is Saving.MACS else "params"

    def delta(self, preview: RewritePreview) -> int:
        return preview.macs_delta if self is Saving.MACS else preview.params_delta

    def before(self, preview: RewritePreview) -> int:
        return preview.before.macs if self is Saving.MACS else preview.before.params


@dataclass(frozen=True)
class Ranked:
    preview: RewritePreview
    saving: int  # how much of the metric it takes away (negative: it adds)
    hidden: str  # why it is hidden by default; "" when shown

    @property
    def rewrite(self) -> Rewrite:
        return self.preview.rewrite


def _conv_reading(graph: Graph, node: Node, report: CostReport) -> dict | None:
    row = report.by_id.get(node.id)
    return None if row is None else conv_geometry(row, node)


def _reduction_before(graph: Graph, node: Node, report: CostReport) -> Node | None:
    """The 1×1 conv with fewer outputs than inputs that `node` reads, through its norm / activation, if any."""
    cur = node
    for _ in range(4):
        if not cur.inputs or not graph.has(cur.inputs[0].node):
            return None
        prev = graph.node(cur.inputs[0].node)
        c = _conv_reading(graph, prev, report)
        if c is not None:
            return prev if all(v == 1 for v in c["k"]) and c["cout"] < c["cin"] else None
        if not has_kind(prev.op) or kind(prev.op).category not in _PASS_CATEGORIES:
            return None
        cur = prev
    return None


def pointless(graph: Graph, rewrite: Rewrite, report: CostReport) -> str:
    """Why `rewrite` makes no sense on this model whatever it saves ("" when it may)."""
    if rewrite.kind not in _SEPARATES:
        return ""
    node = graph.by_name(rewrite.node)
    c = None if node is None else _conv_reading(graph, node, report)
    if node is None or c is None:
        return ""
    if c["cin"] <= FEW_CHANNELS:
        what = "reduce" if rewrite.kind == "reduce_1x1" else "separate"
        return f"{rewrite.node} reads only {c['cin']} channels (the input image): nothing to {what}"
    if rewrite.kind == "reduce_1x1":
        red = _reduction_before(graph, node, report)
        if red is not None:
            return f"{rewrite.node} already reads a 1×1 reduction ({red.display_name})"
    return ""


def _percent(delta: int, before: int) -> str:
    return f"{abs(delta) / before * 100:,.0f} %" if before else f"{abs(delta):,}"


def hidden_reason(preview: RewritePreview, by: Saving = Saving.MACS, why_pointless: str = "") -> str:
    """Why the candidate is hidden by default: it makes no sense, or it does not lower the chosen cost."""
    if why_pointless:
        return why_pointless
    d = by.delta(preview)
    if d > 0:
        return f"increases {by.label} by {_percent(d, by.before(preview))}"
    if d == 0:
        return f"changes no {by.label}"
    return ""


def rank(graph: Graph, previews: Iterable[RewritePreview], by: Saving = Saving.MACS,
         report: CostReport | None = None) -> list[Ranked]:
    """`previews` biggest saving of `by` first (stable: graph order on a tie), each with its hidden reason.
    `report`: the graph's (for the channel counts); evaluated when not given."""
    if report is None or report.graph is not graph:
        from .graph_eval import evaluate_graph

        report = evaluate_graph(graph)
    out = [Ranked(p, -by.delta(p), hidden_reason(p, by, pointless(graph, p.rewrite, report))) for p in previews]
    return sorted(out, key=lambda r: -r.saving)


def next_best(ranked_ids: Sequence[str], applied_id: str, still_there: Callable[[str], bool]) -> str | None:
    """After applying `applied_id`, the id to select: the first one after it in the old ranking that is still a
    candidate, else the nearest one before it."""
    if applied_id not in ranked_ids:
        return next((i for i in ranked_ids if still_there(i)), None)
    at = list(ranked_ids).index(applied_id)
    after = [i for i in ranked_ids[at + 1:] if still_there(i)]
    if after:
        return after[0]
    return next((i for i in reversed(ranked_ids[:at]) if still_there(i)), None)
