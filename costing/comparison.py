"""A report compared with a baseline report: per row, per scope and in total, and what kind of change it is.

The window's comparison (a document against its pinned baseline, where node ids persist); `costing.compare` is the
CLI's (two reports loaded apart, matched by row name) and supplies the settings-change lines both show.

Rows are matched by node id (ids survive edits), then by row name (a model loaded again, a second document).
A rewrite's new nodes are not in the baseline; `origin` (new node id -> the baseline node id it came from, as a
rewrite's mapping gives it) lets them be grouped with the row they replace. A change of batch size, dtype or input
shape is a *settings* change: the same design measured under other conditions; anything else that changes the
graph's nodes is a *design* change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .compare import settings_changes
from .graph import Graph
from .records import CostReport, LayerCost, Totals
from .registry import has_kind, kind

SAME, CHANGED, NEW = "same", "changed", "new"


@dataclass(frozen=True)
class RowDelta:
    """One current row against the baseline: `before` is None for a row the baseline does not have."""

    status: str  # SAME, CHANGED or NEW
    after: LayerCost
    before: LayerCost | None = None
    replaces: tuple[str, ...] = ()  # a new row: names of the baseline rows it was made from

    @property
    def delta(self) -> Totals:
        return self.after.totals - (self.before.totals if self.before is not None else Totals())


@dataclass(frozen=True)
class GroupDelta:
    """A scope (or a row of a flat graph) before and after: what the before-vs-after chart draws."""

    key: str
    label: str
    before: Totals
    after: Totals
    rows: tuple[str, ...] = ()  # node ids of the current rows in the group

    @property
    def delta(self) -> Totals:
        return self.after - self.before


@dataclass(frozen=True)
class Comparison:
    baseline: CostReport
    current: CostReport
    rows: Mapping[str, RowDelta]  # current node id -> its delta
    removed: tuple[LayerCost, ...]  # baseline rows with no current row
    settings: tuple[str, ...]  # "batch 1 → 8", "dtype float32 → bfloat16", "input 1×3×224×224 → 1×3×320×320"
    design: bool  # the nodes (ops, layer arguments, edges) differ
    origin: Mapping[str, str] = field(default_factory=dict)

    @property
    def delta(self) -> Totals:
        return self.current.totals - self.baseline.totals

    @property
    def kind(self) -> str:
        """'none', 'settings', 'design' or 'both'."""
        if self.settings and self.design:
            return "both"
        return "settings" if self.settings else "design" if self.design else "none"

    def describe(self) -> str:
        """One line for the totals panel: what changed since the baseline."""
        if self.kind == "none":
            return "no change since the baseline"
        parts = []
        if self.design:
            counts = self.counts()
            bits = [f"{n} {what}" for what, n in (("changed", counts[CHANGED]), ("new", counts[NEW]),
                                                  ("removed", len(self.removed))) if n]
            parts.append("design change" + (f" ({', '.join(bits)})" if bits else ""))
        if self.settings:
            parts.append("settings change, not a design change: " + ", ".join(self.settings) if not self.design
                         else "settings change: " + ", ".join(self.settings))
        return "; ".join(parts)

    def counts(self) -> dict[str, int]:
        out = {SAME: 0, CHANGED: 0, NEW: 0}
        for d in self.rows.values():
            out[d.status] += 1
        return out

    def auto_depth(self, wanted: int = 6) -> int:
        """The shallowest scope depth that splits the model into at least `wanted` groups (a ResNet: its
        stages; MobileNetV2: its `features.N` blocks)."""
        deepest = max((r.scope.count(".") + 1 for r in self.current.layers if r.scope), default=1)
        depth = 1
        while depth < deepest and len(self.groups(depth)) < wanted:
            depth += 1
        return depth

    def groups(self, depth: int = 1) -> list[GroupDelta]:
        """Totals before and after per scope at `depth` (`layer3`, `features.4`); a row outside any scope, and
        every row of a flat graph, is its own group. A new row joins the group of the row it replaces. Groups are
        in graph order (the current graph's, then removed ones where they were)."""
        before: dict[str, Totals] = {}
        after: dict[str, Totals] = {}
        order: dict[str, float] = {}
        label: dict[str, str] = {}
        members: dict[str, list[str]] = {}
        base_key: dict[str, str] = {}
        for i, r in enumerate(self.baseline.layers):
            k = _group_key(r, depth)
            base_key[r.node_id] = k
            before[k] = before.get(k, Totals()) + r.totals
            order.setdefault(k, i)
            label.setdefault(k, _group_label(r, depth))
        for i, r in enumerate(self.current.layers):
            d = self.rows.get(r.node_id)
            k = _group_key(r, depth)
            if d is not None and d.before is not None:
                k = base_key.get(d.before.node_id, k)
            elif r.node_id in self.origin and self.origin[r.node_id] in base_key:
                k = base_key[self.origin[r.node_id]]
            after[k] = after.get(k, Totals()) + r.totals
            members.setdefault(k, []).append(r.node_id)
            order.setdefault(k, i + 0.5)
            label.setdefault(k, _group_label(r, depth))
        keys = sorted(set(before) | set(after), key=lambda k: order[k])
        return [GroupDelta(k, label[k], before.get(k, Totals()), after.get(k, Totals()), tuple(members.get(k, ())))
                for k in keys]


def compare(baseline: CostReport, current: CostReport, origin: Mapping[str, str] | None = None) -> Comparison:
    origin = dict(origin or {})
    base_by_id = {r.node_id: r for r in baseline.layers if r.node_id}
    base_by_name: dict[str, LayerCost] = {}
    for r in baseline.layers:
        base_by_name.setdefault(r.name, r)
    current_ids = {r.node_id for r in current.layers}
    used: set[str] = set()
    rows: dict[str, RowDelta] = {}
    pending: list[LayerCost] = []
    for r in current.layers:
        b = base_by_id.get(r.node_id) if r.node_id else None
        if b is not None:
            used.add(b.node_id)
            rows[r.node_id] = RowDelta(SAME if b.totals == r.totals else CHANGED, r, b)
        else:
            pending.append(r)
    for r in pending:  # by name, for rows whose id the baseline lacks (a model loaded again)
        b = base_by_name.get(r.name)
        if b is not None and b.node_id not in used and b.node_id not in current_ids \
                and r.node_id not in origin:
            used.add(b.node_id)
            rows[r.node_id] = RowDelta(SAME if b.totals == r.totals else CHANGED, r, b)
        else:
            src = origin.get(r.node_id)
            replaces = (base_by_id[src].name,) if src in base_by_id else ()
            rows[r.node_id] = RowDelta(NEW, r, None, replaces)
    removed = tuple(r for r in baseline.layers if r.node_id not in used)
    return Comparison(baseline, current, rows, removed, settings_changes(baseline, current),
                      design_changed(baseline.graph, current.graph, baseline, current), origin)


def design_changed(before: Graph | None, after: Graph | None, baseline: CostReport, current: CostReport) -> bool:
    """Whether the nodes differ: ids, ops, edges or the arguments of layer nodes. The arguments of functional
    ops are left out, since a traced model re-traced at another size bakes the new size into its views."""
    if before is None or after is None:
        return [(r.name, r.type, r.args) for r in baseline.layers] != [(r.name, r.type, r.args)
                                                                      for r in current.layers]
    if before.nodes is after.nodes:
        return False
    if len(before.nodes) != len(after.nodes):
        return True
    for a, b in zip(before.nodes, after.nodes, strict=True):
        if (a.id, a.op, a.inputs, a.trainable) != (b.id, b.op, b.inputs, b.trainable):
            return True
        functional = has_kind(a.op) and kind(a.op).functional
        if not functional and not a.opaque and dict(a.args) != dict(b.args):
            return True
    return False


def _group_key(r: LayerCost, depth: int) -> str:
    if not r.scope:
        return f"row:{r.node_id or r.name}"
    return "scope:" + ".".join(r.scope.split(".")[:depth])


def _group_label(r: LayerCost, depth: int) -> str:
    return ".".join(r.scope.split(".")[:depth]) if r.scope else r.name
