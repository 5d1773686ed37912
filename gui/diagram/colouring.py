"""`DiagramColouring`: what colour and width every box takes — the colour scale over the visible boxes (or the
pinned baseline's while the scale is fixed to it), a block's state at the latest refresh (colour, width, share,
its change against the baseline), the containers' colours, and the edges' widths when they encode activation
bytes."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from PySide6.QtGui import QColor

from netcost.costing import HierarchyNode, LayerCost
from netcost.costing.comparison import ADDED, SAME, RowDelta
from netcost.costing.formatting import si
from netcost.costing.records import NOT_COSTED, CostReport
from netcost.gui.common.cost_colors import METRICS, CostScale, MetricSource, share_text
from netcost.gui.diagram.blocks import GroupFrameItem, LayerBlockItem
from netcost.gui.diagram.context import DiagramContext
from netcost.gui.diagram.layout import Route
from netcost.gui.diagram.style import LESS, MIN_WIDTH_FRACTION, MORE
from netcost.gui.diagram.training_marks import ScopeMark, node_marks, scope_mark
from netcost.gui.diagram.unit_values import UnitValues, Value
from netcost.gui.document.metric_values import Subject, getter
from netcost.gui.document.training_state import TrainingState

_GRAY = QColor(150, 150, 150)  # a block without costs yet
EDGE_WIDTHS = (1.2, 2.0, 3.2, 4.8, 7.0)  # activation bytes, by fifths of the largest (log), when memory is shown


@dataclass(frozen=True)
class Recolour:
    """What the latest refresh coloured with: blocks synced later use the same scale and total."""

    gen: int
    value: Callable[[Subject], float]  # the colour metric's value of a row (gui/document/metric_values.py)
    total: float
    by_id: Mapping[str, LayerCost]
    error_row: int | None
    color_of: Callable[[float], QColor]
    width_of: Callable[[Subject], float]
    deltas: Mapping[str, RowDelta] | None = None  # against the pinned baseline
    marks: Mapping[str, ScopeMark] = field(default_factory=dict)  # nodes in frozen / checkpointed scopes


class ScopeNodes(Protocol):
    """What the colouring reads of the scene's items (`placement.DiagramItems`): every scope's subtotal in the
    current report, whether its frame has an item or not."""

    def hierarchy(self) -> dict[str, HierarchyNode]: ...

    def node_of(self, path: str) -> HierarchyNode: ...


class DiagramColouring:
    """The colours of one scene's boxes. `groups`: the scene's container items by scope path (those made so far);
    `items` makes them and knows every scope's subtotal (`hierarchy`, `node_of`), item or not."""

    def __init__(self, scene: DiagramContext, groups: Mapping[str, GroupFrameItem], items: ScopeNodes) -> None:
        self.scene = scene
        self.groups = groups
        self.hierarchy, self.node_of = items.hierarchy, items.node_of
        self.scale = CostScale(1, 1, mode="linear")
        self.width_max = 0.0
        self.current: Recolour | None = None
        self._baseline: tuple[object, object] = (None, None)  # the document's pinned baseline as last coloured
        self._kept: UnitValues | None = None  # the blocks' values, kept across edits (`_kept_range`)
        # the training metrics and the frozen / checkpointed marks follow the document's training settings
        self._training = TrainingState.of(scene.document)
        self._scopes_shown = dict(self._training.scopes)
        self._training.changed.connect(self._on_training_changed)

    def _on_training_changed(self) -> None:
        """Recolour when a training metric is shown or a scope was frozen / checkpointed (its marks)."""
        state = self.scene.state
        uses = any(m is not None and METRICS[m].source is MetricSource.TRAINING
                   for m in (state.metric, state.width_metric))
        if uses or self._scopes_shown != self._training.scopes:
            self._scopes_shown = dict(self._training.scopes)
            self.scene.refresh()

    def _unit_subjects(self, report: CostReport | None = None) -> list[Subject]:
        """Every visible box's record in `report` (default: the current one; the pinned baseline's while the scale
        is fixed to it: boxes the baseline lacks are left out)."""
        layout = self.scene.layout
        paths, ids = layout.units if layout is not None else ([], [])
        by_id = (report or self.scene.document.report).by_id
        out: list[Subject] = list(filter(None, map(by_id.get, ids)))  # (those costed, in C: 100k ids)
        if report is None:
            out += self._complete_scopes(paths)
        else:
            hier = {h.path: h for h in report.hierarchy}
            out += [hier[p] for p in paths if p in hier]
        return out

    def _complete_scopes(self, paths: list[str]) -> list[HierarchyNode]:
        """The folded scopes' subtotals in the current report (not every scope has an item: `placement`), those
        with every node costed (a partial sum sets no range)."""
        return [n for n in map(self.node_of, paths) if n.complete]

    def recolour(self) -> bool:
        """A new colouring from the document's current report and the view state (`current`); True when the scale
        or the width range changed (the colour bar follows)."""
        scene = self.scene
        doc = scene.document
        state = scene.state
        report = doc.report
        # left to right, a block's width runs along the flow: a narrower block would leave its edges short of it
        wmetric = None if state.orientation.horizontal else state.width_metric
        value = getter(doc, state.metric)  # a Totals field, or the latency estimate (gui/document/metric_values.py)
        wvalue = getter(doc, wmetric) if wmetric else value
        hier = self.hierarchy()
        for path, g in self.groups.items():
            if path in hier:
                g.node = hier[path]
        base = doc.baseline_report
        self._baseline = (doc.baseline, base)
        kept = self._kept_range(value, wvalue if wmetric else None)
        if kept is not None:
            scale, wmax = kept
        else:
            subjects = self._unit_subjects()
            # fixed to the baseline: the range of the baseline's boxes, so a layer an edit did not touch keeps its
            # colour (a changed one may leave the range: it takes the end colour)
            ranged = self._unit_subjects(base) if doc.scale_fixed and base is not None else subjects
            scale = CostScale.from_values(map(value, ranged), mode=state.scale_mode)  # (C-level loops)
            wmax = max(map(wvalue, subjects), default=0) if wmetric else 0
        changed = (scale.vmin, scale.vmax, scale.mode, wmax) != (self.scale.vmin, self.scale.vmax, self.scale.mode,
                                                                 self.width_max)
        self.scale, self.width_max = scale, wmax
        colors: dict[float, QColor] = {}  # value -> colour: repeated layers share one lookup

        def color_of(value: float) -> QColor:
            c = colors.get(value)
            if c is None:
                c = colors[value] = scale.color(value)
            return c

        def width_of(s: Subject) -> float:
            if not wmetric or wmax <= 0:
                return 1.0
            return MIN_WIDTH_FRACTION + (1 - MIN_WIDTH_FRACTION) * wvalue(s) / wmax

        total = value(report) if report.complete else 0  # 0: no shares of a partial total
        comparison = doc.comparison()
        self.current = Recolour(scene.gen, value, total, report.by_id, doc.error_row(), color_of, width_of,
                                comparison.rows if comparison is not None else None,
                                node_marks(self._training, doc.graph))
        return changed

    def _kept_range(self, value: Value, width: Value | None) -> tuple[CostScale, float] | None:
        """The colour scale and the width range from the blocks' values kept across edits (`UnitValues`: an edit
        reads the rows it changed) and the folded scopes' read now; None where they are read in full (a scale fixed
        to the baseline, shares, latency or training metrics)."""
        scene, doc = self.scene, self.scene.document
        state, layout, report = scene.state, scene.layout, doc.report
        metrics = (state.metric, None if state.orientation.horizontal else state.width_metric)
        if layout is None or (doc.scale_fixed and doc.baseline_report is not None) or state.scale_mode == "share" or \
                any(m is not None and (METRICS[m].derived or METRICS[m].source is MetricSource.TRAINING)
                    for m in metrics):
            self._kept = None
            return None
        paths, ids = layout.units
        key = (layout, *metrics, doc.convention)
        kept = self._kept if self._kept is not None and self._kept.key == key else None
        changed = None if kept is None or kept.report is report else doc.changed_since(kept.report)
        if kept is None or (kept.report is not report and changed is None):
            kept = self._kept = UnitValues(key, report, ids, value, width)
        elif changed is not None:
            nodes = doc.graph.nodes
            kept.follow(report, (nodes[r].id for r in changed), value, width)
        scopes = self._complete_scopes(paths)
        positive = [v for v in map(value, scopes) if v > 0]
        positive += kept.positive_range(value) or ()  # (the blocks' smallest and largest stand for them all)
        if not positive:
            scale = CostScale(1.0, 1.0, mode=state.scale_mode)
        else:
            mode = state.scale_mode  # (as CostScale.from_values reads them)
            scale = CostScale(min(positive) if mode != "linear" else 0.0, max(positive), mode=mode)
        if width is None:
            return scale, 0
        return scale, max([w for w in (kept.width_max(width),) if w is not None] + list(map(width, scopes)), default=0)

    def shows_baseline(self) -> bool:
        """Whether the last colouring was made with the document's current baseline (pinned or not)."""
        doc = self.scene.document
        return self._baseline[0] is doc.baseline and self._baseline[1] is doc.baseline_report

    def sync_block(self, item: LayerBlockItem, quiet: bool = False) -> LayerBlockItem:
        """Bring a block up to the latest refresh (colour, width, cost, share); `quiet` when it is about to be
        painted."""
        ctx = self.current
        if ctx is None or item.gen == ctx.gen:
            return item
        item.gen = ctx.gen
        mark = ctx.marks.get(item.layer_id, ScopeMark.NONE)
        if mark != item.mark:
            item.mark = mark
            if not quiet:
                item.update()
        cost = ctx.by_id.get(item.layer_id)
        if cost is None:
            item.set_state(None, _GRAY, 1.0, ctx.error_row is not None, quiet=quiet)
            return item
        v = ctx.value(cost)
        badge = ("", "")
        if ctx.deltas is not None:
            d = ctx.deltas.get(item.layer_id)
            if d is not None and d.status == ADDED:
                badge = ("new", "new")
            elif d is not None and d.before is not None and d.status != SAME:
                badge = delta_badge(v, ctx.value(d.before))
        item.set_state(cost, ctx.color_of(v), ctx.width_of(cost), ctx.error_row is not None and
                       item.row >= ctx.error_row, share_text(v / ctx.total) if ctx.total else "", quiet=quiet,
                       badge=badge)
        return item

    def sync_groups(self, groups: Iterable[GroupFrameItem], relabel: Callable[[list[GroupFrameItem]], None],
                    quiet: bool = False) -> None:
        """Bring the containers `groups` up to the scene's latest refresh: their colour, and their label
        (`relabel`). The scene syncs those on screen at a refresh, the others when painted (`quiet`) or read."""
        gen = self.scene.gen
        stale = [g for g in groups if g.gen != gen]
        if not stale or self.current is None:
            return
        self.colour_groups(stale, quiet)
        relabel(stale)
        for g in stale:
            g.gen = gen

    def colour_groups(self, groups: Iterable[GroupFrameItem], quiet: bool = False) -> None:
        """Recolour the containers `groups` that show (those inside a folded scope when a relayout shows them, those
        off screen when painted: the scene's `prepare`)."""
        ctx = self.current
        assert ctx is not None
        doc = self.scene.document
        conv = doc.convention
        value, total = ctx.value, ctx.total
        base = doc.baseline_report
        base_hier = {h.path: h for h in base.hierarchy} if base is not None else None
        training = self._training
        for g in groups:
            if not g.isVisible():  # inside a folded scope (most of a 100k-node graph's): the refresh after the
                continue  # relayout that shows it colours it
            mark = scope_mark(training, g.node.path)
            if mark != g.mark:
                g.mark = mark
                g.update()
            if not g.node.complete:  # nodes inside are not costed: neutral, no figure, marked (`group_lines`)
                badge = (NOT_COSTED, NOT_COSTED)
                g.set_state(_GRAY, 1.0, (None, g.node.not_costed, g.collapsed, conv, badge), quiet)
                g.badge = badge
                continue
            v = value(g.node)
            badge = ("", "")
            if base_hier is not None:  # a scope against its subtotal in the baseline
                b = base_hier.get(g.node.path)
                badge = ("new", "new") if b is None else delta_badge(v, value(b)) if b.complete else ("", "")
            # what its label shows: the share as text, so a new total repaints only the shares that read otherwise
            g.set_state(ctx.color_of(v), ctx.width_of(g.node),
                        (v, share_text(v / total) if total else "", g.collapsed, conv, badge), quiet)
            g.badge = badge

    def scope_color(self, node: HierarchyNode) -> QColor:
        """The colour of a folded scope's box (as `colour_groups` gives its item: an overview needs no item)."""
        ctx = self.current
        return ctx.color_of(ctx.value(node)) if ctx is not None and node.complete else _GRAY

    def removed_rows(self) -> list[tuple[str, str, str]]:
        """(name, type, what it cost) of the baseline's rows the current graph no longer has."""
        assert self.current is not None
        value, fmt = self.current.value, self.scene.format_value
        return [(r.name, r.type, ("−" if value(r) else "") + fmt(value(r))
                 + (f" · −{si(r.totals.params)} params" if r.totals.params else ""))
                for r in self.scene.document.removed_rows()]

    def edge_widths(self, routes: list[Route], edge_bytes: Callable[[Route], int]) -> list[float] | None:
        """Line widths encoding the activation bytes each edge carries, while memory colours the blocks."""
        if self.scene.state.metric != "memory" or not routes:
            return None
        sizes = [edge_bytes(r) for r in routes]
        top = max(sizes)
        if top <= 0:
            return None
        return [EDGE_WIDTHS[min(len(EDGE_WIDTHS) - 1, int(len(EDGE_WIDTHS) * _log_fraction(b, top)))] for b in sizes]


def delta_badge(value: float, before: float) -> tuple[str, str]:
    """(text, kind) of a block's change against the baseline in the shown metric: '−72 %', '+3.1 M' when it had
    none before; ('', '') when unchanged. kind: LESS or MORE."""
    if value == before:
        return ("", "")
    kind_ = LESS if value < before else MORE
    if before > 0:
        rel = (value - before) / before * 100
        text = f"{rel:+.1f} %" if abs(rel) < 10 else f"{rel:+.0f} %"
    else:
        text = "+" + si(value - before)
    return (text.replace("-", "−"), kind_)


def _log_fraction(value: int, top: int) -> float:
    """0..1 position of `value` on a log scale spanning three decades below `top` (edge widths)."""
    if value <= 0 or top <= 0:
        return 0.0
    return min(max(1 + math.log10(value / top) / 3, 0.0), 0.999)
