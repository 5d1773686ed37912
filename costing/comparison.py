"""A report compared with a baseline report: per row, per scope and in total, and what kind of change it is.

One module for every view of a comparison: the window's (a document against its pinned baseline), the CLI's
`netcost compare` (two reports loaded apart) and its tables.

Rows are matched by node id while both reports come from one load (ids survive edits: a document and its
baseline, a model and the same model with `--set`/`--rewrite`), then by row name (a model loaded again, two
files). A row only in the current report is `added`, one only in the baseline `removed`; `listing()` gives them
all in graph order with removed rows where they stood. A node either report could not cost is `not_costed`, never
removed or added: no delta, no share and no total change is given from an incomplete report (`complete`,
`delta` None, `withheld`). A rewrite's new nodes are not in the baseline; `origin`
(new node id -> the baseline node id it came from, as a rewrite's mapping gives it) names the row they replace and
puts them in its group. A change of batch size, dtype or input shape is a *settings* change: the same design
measured under other conditions; anything else that changes the graph's nodes is a *design* change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .formatting import shape
from .graph import Graph
from .records import NOT_COSTED, CostReport, LayerCost, Totals
from .registry import has_kind, kind

SAME, CHANGED, ADDED, REMOVED = "same", "changed", "added", "removed"
# the per-row and total figures `netcost compare` prints
METRICS: tuple[str, ...] = ("params", "macs", "flops", "activation_bytes", "param_bytes", "memory_access_bytes")


@dataclass(frozen=True)
class RowDelta:
    """One row against the baseline: `before` is None for an added row, `after` for a removed one."""

    status: str  # SAME, CHANGED, ADDED, REMOVED or NOT_COSTED (on either side: no delta)
    after: LayerCost | None
    before: LayerCost | None = None
    replaces: tuple[str, ...] = ()  # an added row: names of the baseline rows it was made from

    @property
    def row(self) -> LayerCost:
        """The current row, or the baseline's for a removed one."""
        row = self.after if self.after is not None else self.before
        assert row is not None
        return row

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def type(self) -> str:
        return self.row.type

    def totals(self, side: str) -> Totals:
        """The row's totals `before` or `after` (zero on the side it is missing from)."""
        r = self.before if side == "before" else self.after
        return r.totals if r is not None else Totals()

    @property
    def delta(self) -> Totals | None:
        """After minus before; None for a row not costed on one side (a difference with nothing is no delta)."""
        if self.status == NOT_COSTED:
            return None
        return self.totals("after") - self.totals("before")


@dataclass(frozen=True)
class GroupDelta:
    """A scope (or a row of a flat graph) before and after: what the before-vs-after chart draws."""

    key: str
    label: str
    before: Totals
    after: Totals
    rows: tuple[str, ...] = ()  # node ids of the current rows in the group
    not_costed: int = 0  # nodes of the group either side could not cost: `before`/`after` are partial sums

    @property
    def complete(self) -> bool:
        return not self.not_costed

    @property
    def delta(self) -> Totals | None:
        return self.after - self.before if self.complete else None


@dataclass(frozen=True)
class Comparison:
    baseline: CostReport
    current: CostReport
    rows: Mapping[str, RowDelta]  # current node id -> its delta (a node not costed now: NOT_COSTED)
    ordered: tuple[RowDelta, ...]  # every row, current and removed, in graph order (removed where they stood)
    settings: tuple[str, ...]  # "batch 1 → 8", "dtype float32 → bfloat16", "input 1×3×224×224 → 1×3×320×320"
    design: bool  # the nodes (ops, layer arguments, edges) differ
    origin: Mapping[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Both reports cost every node: only then do totals, deltas and shares mean anything."""
        return self.current.complete and self.baseline.complete

    @property
    def withheld(self) -> str:
        """Why the total deltas are not shown ('' while they are): 'not costed (18 nodes)', naming the side."""
        if self.current.complete and self.baseline.complete:
            return ""
        if not self.current.complete:
            return f"{self.current.incomplete_note} now"
        return f"{self.baseline.incomplete_note} in the baseline"

    @property
    def delta(self) -> Totals | None:
        """Current minus baseline totals; None while either is incomplete (a partial sum is no saving)."""
        return self.current.totals - self.baseline.totals if self.complete else None

    @property
    def removed(self) -> tuple[LayerCost, ...]:
        """Baseline rows with no current node, in baseline order (a node not costed now is not removed)."""
        return tuple(d.row for d in self.ordered if d.status == REMOVED)

    @property
    def not_costed(self) -> tuple[RowDelta, ...]:
        """Rows either side could not cost, in `ordered`'s order."""
        return tuple(d for d in self.ordered if d.status == NOT_COSTED)

    def changed(self) -> tuple[RowDelta, ...]:
        """The rows that differ (changed, added, removed), in `ordered`'s order."""
        return tuple(d for d in self.ordered if d.status != SAME)

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
            bits = [f"{n} {what}" for what, n in (("changed", counts[CHANGED]), ("new", counts[ADDED]),
                                                  ("removed", len(self.removed)),
                                                  (NOT_COSTED, len(self.not_costed))) if n]
            parts.append("design change" + (f" ({', '.join(bits)})" if bits else ""))
        if self.settings:
            what = "settings change" if self.design else "settings change, not a design change"
            parts.append(f"{what}: {', '.join(self.settings)}")
        return "; ".join(parts)

    def counts(self) -> dict[str, int]:
        """Current rows per status (SAME, CHANGED, ADDED; NOT_COSTED when some are)."""
        out = {SAME: 0, CHANGED: 0, ADDED: 0}
        for d in self.rows.values():
            out[d.status] = out.get(d.status, 0) + 1
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
        missing: dict[str, int] = {}
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
                if k.startswith("row:") and k[4:] in self.current.by_id:
                    label[k] += f" + {r.name}"  # a kept row a rewrite added to: named for what it holds now
            after[k] = after.get(k, Totals()) + r.totals
            members.setdefault(k, []).append(r.node_id)
            order.setdefault(k, i + 0.5)
            label.setdefault(k, _group_label(r, depth))
        for i, d in enumerate(self.not_costed):  # partial sums: the group is marked, its delta withheld
            k = base_key.get(d.before.node_id, _group_key(d.row, depth)) if d.before is not None else \
                _group_key(d.row, depth)
            missing[k] = missing.get(k, 0) + 1
            order.setdefault(k, len(self.current.layers) + i)
            label.setdefault(k, _group_label(d.row, depth))
        keys = sorted(set(before) | set(after) | set(missing), key=lambda k: order[k])
        return [GroupDelta(k, label[k], before.get(k, Totals()), after.get(k, Totals()), tuple(members.get(k, ())),
                           missing.get(k, 0)) for k in keys]


def compare(baseline: CostReport, current: CostReport, origin: Mapping[str, str] | None = None, *,
            shared_ids: bool = True) -> Comparison:
    """`current` against `baseline`. `shared_ids`: both come from one load, so equal node ids are the same node
    (False for two files loaded apart, whose ids mean nothing to each other: rows are then matched by name)."""
    origin = dict(origin or {})
    base = baseline.layers
    match: dict[int, int] = {}  # current row index -> baseline row index
    if shared_ids:
        by_id = {r.node_id: i for i, r in enumerate(base) if r.node_id}
        match = {k: by_id[r.node_id] for k, r in enumerate(current.layers) if r.node_id in by_id}
    by_name: dict[str, int] = {}
    for i, r in enumerate(base):
        by_name.setdefault(r.name, i)
    used = set(match.values())
    for k, r in enumerate(current.layers):  # by name: rows whose id the baseline lacks (a model loaded again)
        i = by_name.get(r.name)
        if k not in match and r.node_id not in origin and i is not None and i not in used:
            match[k] = i
            used.add(i)
    rows: dict[str, RowDelta] = {}
    ordered: list[RowDelta] = []
    next_base = 0

    def removed_up_to(stop: int, contiguous: bool = False) -> None:
        """List the unmatched baseline rows before `stop` (only the run right here when `contiguous`)."""
        nonlocal next_base
        while next_base < stop and (next_base not in used or not contiguous):
            if next_base not in used:
                b = base[next_base]
                d = RowDelta(NOT_COSTED if lost(b) else REMOVED, None, b)
                if d.status == NOT_COSTED and shared_ids:
                    rows.setdefault(b.node_id, d)  # the current graph's node, without figures
                ordered.append(d)
            next_base += 1

    gone_now = _uncosted(current, shared_ids)  # nodes the current graph has but could not cost

    def lost(row: LayerCost) -> bool:
        return (row.node_id if shared_ids else row.name) in gone_now

    for k, r in enumerate(current.layers):
        i = match.get(k)
        if i is None and (r.node_id if shared_ids else r.name) in _uncosted(baseline, shared_ids):
            d = RowDelta(NOT_COSTED, r, None)  # the baseline has the node but no figures for it
        elif i is None:  # what it replaced, if anything, stood here: the removed rows come first
            removed_up_to(len(base), contiguous=True)
            src = baseline.by_id.get(origin[r.node_id]) if r.node_id in origin else None
            d = RowDelta(ADDED, r, None, (src.name,) if src is not None else ())
        else:
            removed_up_to(i)
            next_base = max(next_base, i + 1)
            d = RowDelta(_status(base[i], r), r, base[i])
        rows[r.node_id] = d
        ordered.append(d)
    removed_up_to(len(base))
    return Comparison(baseline, current, rows, tuple(ordered), settings_changes(baseline, current),
                      design_changed(baseline.graph, current.graph, baseline, current), origin)


def _uncosted(report: CostReport, shared_ids: bool) -> frozenset[str]:
    """The report's uncosted nodes, by id (one load) or by name (two loads)."""
    if shared_ids:
        return report.not_costed
    return frozenset(p.name for p in report.problems)


def _status(before: LayerCost, after: LayerCost) -> str:
    same = (before.totals, before.type, before.output_shape) == (after.totals, after.type, after.output_shape)
    return SAME if same else CHANGED


def settings_changes(baseline: CostReport, current: CostReport) -> tuple[str, ...]:
    """The settings that differ, one line each: input shapes, batch size, dtype."""
    out = []
    a = ", ".join(shape(s) for s, _ in baseline.inputs)
    b = ", ".join(shape(s) for s, _ in current.inputs)
    if a != b:
        out.append(f"input {a} → {b}")
    if baseline.batch_size != current.batch_size:
        out.append(f"batch {baseline.batch_size} → {current.batch_size}")
    if baseline.dtype != current.dtype:
        out.append(f"dtype {baseline.dtype} → {current.dtype}")
    return tuple(out)


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
