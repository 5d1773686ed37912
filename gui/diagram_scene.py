"""`DiagramScene`: the block diagram of a `CostDocument`, one `LayerBlockItem` per layer id.

Layout: execution order top to bottom, wrapped into newspaper columns (each read top to bottom, an elbow arrow
leads to the next) so that long networks keep a slide-like aspect ratio. A traced model's containers are framed
groups that collapse into one block showing their subtotal.

Updates in place: `reportChanged`/`layerChanged` recolour and relabel existing items; only insert/remove/move add
or remove items; `documentReset` rebuilds. The scene can be built and rendered without any view (exports).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from PySide6.QtCore import QObject, QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from PySide6.QtWidgets import QGraphicsScene

from costing import CONVENTIONS, PEERS, HierarchyNode
from costing.formatting import grouped, key_args, nbytes, percent, shape, si

from .cost_colors import (
    METRICS,
    CostScale,
    Theme,
    convention_label,
    format_metric,
    palette_is_dark,
    share_text,
)
from .cost_document import CostDocument
from .diagram_items import (
    BLOCK_H,
    BLOCK_W,
    CONT_H,
    ENTRY_GAP,
    HEADER_H,
    MIN_WIDTH_FRACTION,
    PAD,
    ArrowsItem,
    GroupFrameItem,
    LayerBlockItem,
    _Fonts,
    fit_title,
)
from .latency_state import LatencyState
from .metric_values import Subject, getter, title_of, value_of

VGAP = 24.0  # room for an arrow between blocks
COL_GAP = 64.0
MARGIN = 36.0
OWN_OPS = " (own ops)"  # the tracer's type suffix of a container's own-ops row
ASPECT = 1.6  # target width/height of the whole diagram (16:10 slides and screens)


@dataclass(frozen=True)
class _Unit:
    """One visible box of the layout: a layer row, or a collapsed container (`group` >= 0)."""

    row: int
    group: int = -1


class DiagramScene(QGraphicsScene):
    """See the module docstring. `metric`, `log_scale` and `width_metric` are view settings, not edits."""

    settingsChanged = Signal()  # metric, scale, width encoding or the colour range changed (colour bar follows)

    def __init__(self, document: CostDocument, parent: QObject | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.metric = "flops"
        self.log_scale = True
        self.width_metric: str | None = "params"
        self.column_height: float | None = None  # exports fix the column height (a page) instead of the aspect
        self.aspect = ASPECT  # the on-screen view sets its viewport's width/height so blocks fill it
        self.theme = Theme.of(palette_is_dark() if dark is None else dark)
        self.fonts = _Fonts()
        self.scale = CostScale(1, 1)
        self.width_max = 0
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)  # items move on every relayout
        self.setBackgroundBrush(self.theme.background)
        self._ids: list[int] = []
        self._blocks: dict[int, LayerBlockItem] = {}
        self._groups: list[GroupFrameItem] = []
        self._collapsed: set[str] = set()
        self._units: list[_Unit] = []
        self._selected: set[int] = set()
        self._latency_watched = False
        self._arrows = ArrowsItem()
        self.addItem(self._arrows)
        d = document
        d.documentReset.connect(self._on_document_reset)
        d.layersInserted.connect(self._on_document_structure)
        d.layersRemoved.connect(self._on_document_structure)
        d.layersMoved.connect(self._on_document_structure)
        d.reportChanged.connect(self._on_document_report)
        d.layerChanged.connect(self._on_document_layer)
        d.errorChanged.connect(self._on_document_report)
        d.conventionChanged.connect(self._on_document_report)
        d.selection.changed.connect(self._on_selection_changed)
        self.rebuild()

    # ---- public API ----------------------------------------------------------------------------------------
    def block(self, row: int) -> LayerBlockItem:
        return self._blocks[self._ids[row]]

    def blocks(self) -> list[LayerBlockItem]:
        """Blocks in row order."""
        return [self._blocks[i] for i in self._ids]

    def groups(self) -> list[GroupFrameItem]:
        return list(self._groups)

    def group(self, path: str) -> GroupFrameItem:
        return next(g for g in self._groups if g.node.path == path)

    def set_metric(self, metric: str) -> None:
        if metric not in METRICS:
            raise KeyError(metric)
        if metric != self.metric:
            self.metric = metric
            if METRICS[metric].derived and not self._latency_watched:  # another device recolours
                LatencyState.of(self.document).changed.connect(self._on_document_report)
                self._latency_watched = True
            self.refresh()

    def set_log_scale(self, log: bool) -> None:
        if log != self.log_scale:
            self.log_scale = log
            self.refresh()

    def set_width_metric(self, metric: str | None) -> None:
        """None: uniform width; otherwise block width encodes this metric (labelled in the colour bar)."""
        if metric is not None and metric not in METRICS:
            raise KeyError(metric)
        if metric != self.width_metric:
            self.width_metric = metric
            self.refresh()

    def set_dark(self, dark: bool) -> None:
        if dark != self.theme.dark:
            self.theme = Theme.of(dark)
            self.setBackgroundBrush(self.theme.background)
            self._relayout()
            for item in self.items():
                item.update()

    def set_aspect(self, aspect: float) -> None:
        """Lay out for a viewport of this width/height; ignores changes under 15 % (a relayout moves every item)."""
        aspect = min(max(aspect, 0.4), 5.0)
        if abs(aspect - self.aspect) > 0.15 * self.aspect:
            self.aspect = aspect
            self._relayout()

    def set_column_height(self, height: float | None) -> None:
        """Wrap into columns of at most `height` scene units (None: the slide-like default aspect). For exports."""
        if height != self.column_height:
            self.column_height = height
            self._relayout()

    def set_collapsed(self, path: str, collapsed: bool) -> None:
        if collapsed == (path in self._collapsed):
            return
        (self._collapsed.add if collapsed else self._collapsed.discard)(path)
        self._relayout()
        self.refresh()

    def toggle_collapsed(self, path: str) -> None:
        self.set_collapsed(path, path not in self._collapsed)

    def collapse_to_depth(self, depth: int | None) -> None:
        """Collapse every container nested `depth` levels deep (0: the outermost); None expands all."""
        levels = self._nesting()
        self._collapsed = set() if depth is None else {
            g.node.path for g, lvl in zip(self._groups, levels, strict=True) if lvl == depth}
        self._relayout()
        self.refresh()

    def value(self, subject: Subject, metric: str | None = None) -> float:
        """`metric` (default: the colour's) of a row's costs, a container or the whole report."""
        return value_of(self.document, subject, metric or self.metric)

    def metric_title(self, metric: str | None = None) -> str:
        return title_of(self.document, metric or self.metric)

    def format_value(self, value: float, metric: str | None = None) -> str:
        return format_metric(metric or self.metric, value, self.document.convention)

    def visible_units(self) -> list[tuple[int, int]]:
        """(row, group index or -1) of each visible box, in order."""
        return [(u.row, u.group) for u in self._units]

    def unit_rect(self, row: int) -> QRectF:
        """Scene rect of the box showing `row` (its block, or the collapsed container that hides it)."""
        item = self._visible_item_for(row)
        if isinstance(item, GroupFrameItem):
            return item.block_rect()
        return item.mapRectToScene(item.block_rect())

    # ---- text ----------------------------------------------------------------------------------------------
    def block_lines(self, item: LayerBlockItem) -> list[tuple[str, QFont]]:
        f = self.fonts
        cost = item.cost
        if cost is None:
            return [(item.fallback or "…", f.title), ("not costed yet", f.small)]
        room = BLOCK_W * item.width_fraction - 8
        args = key_args(cost.type, cost.args) or cost.category
        if cost.type.endswith(OWN_OPS):  # a container's own ops (residual add, reshape): the type goes below
            title = f"{cost.name}{OWN_OPS}"
            args = f"{cost.type[: -len(OWN_OPS)]} · {args}"
        else:
            title = fit_title(cost.name, cost.type, f.title, room)
            if cost.type not in cost.name and QFontMetricsF(f.title).horizontalAdvance(title) > room:
                title = fit_title(cost.name, "", f.title, room)  # no room for both: the type joins the args line
                args = f"{cost.type} · {args}"
        value = self.value(cost)
        total = self.value(self.document.report)
        share = value / total if total else 0.0
        return [(title, f.title), (args, f.small), ("→ " + shape(cost.output_shape), f.small),
                (f"{self.format_value(value)} · {share_text(share)}", f.value)]

    def group_lines(self, item: GroupFrameItem) -> list[tuple[str, QFont]]:
        f = self.fonts
        node = item.node
        value = self.value(node)
        total = self.value(self.document.report)
        share = value / total if total else 0.0  # a ratio of two report figures, for display
        name = node.path.rsplit(".", 1)[-1] if item.collapsed else node.path
        count = node.last - node.first + 1
        if item.collapsed:
            return [(f"{node.path}  ▸", f.title), (f"{node.type} · {count} layers", f.small),
                    (f"{self.format_value(value)} · {share_text(share)}", f.value)]
        return [(f"{name}  {node.type}", f.header), (f"{self.format_value(value)} · {share_text(share)}", f.header)]

    # ---- building ------------------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Drop every item and build from the document (a new model was loaded)."""
        for item in self._blocks.values():
            self.removeItem(item)
        for g in self._groups:
            self.removeItem(g)
        self._blocks.clear()
        self._groups = []
        self._selected = set()
        self._ids = self.document.layer_ids()
        for row, lid in enumerate(self._ids):
            self._blocks[lid] = self._new_block(lid, row)
        report = self.document.report
        n = self.document.row_count()
        nodes = [h for h in report.hierarchy if h.path and not (h.first <= 0 and h.last >= n - 1 and h.depth <= 0)
                 and 0 <= h.first <= h.last < n]
        nodes.sort(key=lambda h: (h.first, -h.last, h.depth))
        for i, node in enumerate(nodes):
            g = GroupFrameItem(i, node)
            self._groups.append(g)
            self.addItem(g)
        levels = self._nesting()
        for g, lvl in zip(self._groups, levels, strict=True):
            g.setZValue(-5 + lvl * 0.01)
        # Long traced models open with their repeated blocks folded (ResNet stages show their bottlenecks).
        self._collapsed = set()
        if n > 80 and self._groups:
            deepest = max(levels)
            self._collapsed = {g.node.path for g, lvl in zip(self._groups, levels, strict=True)
                               if lvl == min(1, deepest)}
        self._relayout()
        self.refresh()
        self._on_selection_changed(self.document.selection.rows, None)

    def _new_block(self, lid: int, row: int) -> LayerBlockItem:
        item = LayerBlockItem(lid, row)
        item.fallback = self.document.spec(row).display_name(row)
        self.addItem(item)
        return item

    def _nesting(self) -> list[int]:
        """Nesting level of each group among the groups (ranges contain each other; sorted outer first)."""
        levels: list[int] = []
        stack: list[HierarchyNode] = []
        for g in self._groups:
            while stack and not (stack[-1].first <= g.node.first and g.node.last <= stack[-1].last):
                stack.pop()
            levels.append(len(stack))
            stack.append(g.node)
        return levels

    # ---- layout --------------------------------------------------------------------------------------------
    def _sequence(self) -> list[tuple[str, int]]:
        """('open'|'close', group) and ('unit', index into units) in drawing order; fills `self._units`."""
        seq: list[tuple[str, int]] = []
        units: list[_Unit] = []
        starts: dict[int, list[int]] = {}
        for i, g in enumerate(self._groups):
            starts.setdefault(g.node.first, []).append(i)  # already outer first
        n = len(self._ids)
        open_stack: list[int] = []
        row = 0
        while row < n:
            for gi in starts.get(row, []):
                g = self._groups[gi]
                if g.node.path in self._collapsed:
                    units.append(_Unit(row, gi))
                    seq.append(("unit", len(units) - 1))
                    row = g.node.last + 1
                    break
                open_stack.append(gi)
                seq.append(("open", gi))
            else:
                units.append(_Unit(row))
                seq.append(("unit", len(units) - 1))
                row += 1
            while open_stack and self._groups[open_stack[-1]].node.last < row:
                seq.append(("close", open_stack.pop()))
        while open_stack:
            seq.append(("close", open_stack.pop()))
        self._units = units
        return seq

    def _relayout(self) -> None:
        """Place every visible item, route the arrows and fix the scene rect (structure or collapse changed)."""
        seq = self._sequence()
        max_depth = 0
        depth = 0
        for kind, _ in seq:
            depth += kind == "open"
            max_depth = max(max_depth, depth)
            depth -= kind == "close"
        col_w = BLOCK_W + 2 * PAD * (max_depth + 1)
        heights = {"open": HEADER_H, "close": PAD, "unit": BLOCK_H + VGAP}
        total = sum(heights[k] for k, _ in seq)
        cols = max(1, round(math.sqrt(self.aspect * total / (col_w + COL_GAP))))
        least = BLOCK_H + VGAP + HEADER_H * max_depth
        if self.column_height:
            limit = max(self.column_height, least)
        else:
            limit = self._balanced_limit(seq, cols, max(total / cols, least), total + least)

        hidden_groups = {gi for gi, g in enumerate(self._groups) if g.node.path in self._collapsed}
        visible_rows: set[int] = set()
        unit_pos: list[QPointF] = []
        col_of_unit: list[int] = []
        segments: dict[int, list[QRectF]] = {}
        seg_start: dict[int, tuple[int, float]] = {}  # group -> (column, top y) of its current segment
        stack: list[int] = []
        col, y = 0, MARGIN
        pending: list[int] = []  # opens waiting for their first unit (a header never ends a column)

        def col_x(c: int) -> float:
            return MARGIN + c * (col_w + COL_GAP)

        def close_segment(gi: int, bottom: float) -> None:
            c, top = seg_start[gi]
            level = stack.index(gi)
            x = MARGIN + c * (col_w + COL_GAP) + PAD * level
            segments.setdefault(gi, []).append(QRectF(x, top, col_w - 2 * PAD * level, bottom - top))

        for kind, ref in seq:
            if kind == "open":
                pending.append(ref)
                continue
            if kind == "close":
                close_segment(ref, y + PAD)
                seg_start.pop(ref)
                stack.remove(ref)
                y += PAD
                continue
            need = len(pending) * HEADER_H + BLOCK_H
            column_start = False
            if y + need > MARGIN + limit and y > self._column_top(len(stack)) + 1:
                for level, gi in enumerate(stack):  # continue open frames in the next column
                    close_segment(gi, y - VGAP + PAD + 4 * (len(stack) - 1 - level))
                col += 1
                y = MARGIN
                for level, gi in enumerate(stack):  # each under a small "(cont.)" header band
                    seg_start[gi] = (col, y + level * CONT_H)
                y += CONT_H * len(stack)
                column_start = True
            for gi in pending:
                seg_start[gi] = (col, y)
                stack.append(gi)
                y += HEADER_H
            pending.clear()
            if column_start:
                y += ENTRY_GAP  # the arrow from the previous column turns in here, below every header
            unit = self._units[ref]
            x = col_x(col) + (col_w - BLOCK_W) / 2
            unit_pos.append(QPointF(x, y))
            col_of_unit.append(col)
            if unit.group >= 0:
                segments[unit.group] = [QRectF(x, y, BLOCK_W, BLOCK_H)]
            else:
                visible_rows.add(unit.row)
            y += BLOCK_H + VGAP

        # items
        for row, lid in enumerate(self._ids):
            b = self._blocks[lid]
            b.row = row
            b.setVisible(row in visible_rows)
        for u, pos in zip(self._units, unit_pos, strict=True):
            if u.group < 0:
                self._blocks[self._ids[u.row]].setPos(pos)
        levels = self._nesting()
        for gi, g in enumerate(self._groups):
            g.collapsed = gi in hidden_groups
            g.depth = levels[gi]
            g.setVisible(gi in segments)  # groups inside a collapsed one have none
            g.setZValue(1 if g.collapsed else -5 + levels[gi] * 0.01)
            if gi in segments:
                g.set_segments(segments[gi])
        # arrows between consecutive visible boxes
        links: list[tuple[QPointF, QPointF, float]] = []
        for i in range(1, len(unit_pos)):
            a, b = unit_pos[i - 1], unit_pos[i]
            start = QPointF(a.x() + BLOCK_W / 2, a.y() + BLOCK_H)
            end = QPointF(b.x() + BLOCK_W / 2, b.y())
            gutter = col_x(col_of_unit[i]) - COL_GAP / 2
            links.append((start, end, gutter))
        self._arrows.set_connections(links, self.theme.muted, self._skips(unit_pos, col_of_unit, segments))
        width = col_x(col) + col_w + MARGIN
        height = max((p.y() for p in unit_pos), default=0) + BLOCK_H
        for segs in segments.values():
            height = max(height, *(s.bottom() for s in segs))
        self.setSceneRect(QRectF(0, 0, width, height + MARGIN))

    @staticmethod
    def _column_top(open_frames: int) -> float:
        """Where a column's first block would go with `open_frames` continued frames (their headers) above it."""
        return MARGIN + CONT_H * open_frames + ENTRY_GAP

    @staticmethod
    def _columns_needed(seq: list[tuple[str, int]], limit: float) -> int:
        """Columns the layout below fills with columns `limit` high (the same breaking rule, positions only)."""
        col, y, depth, pending = 0, MARGIN, 0, 0
        for kind, _ in seq:
            if kind == "open":
                pending += 1
            elif kind == "close":
                depth -= 1
                y += PAD
            else:
                start = False
                if y + pending * HEADER_H + BLOCK_H > MARGIN + limit and y > DiagramScene._column_top(depth) + 1:
                    col += 1
                    y = MARGIN + CONT_H * depth
                    start = True
                y += pending * HEADER_H + BLOCK_H + VGAP + (ENTRY_GAP if start else 0.0)
                depth += pending
                pending = 0
        return col + 1

    def _balanced_limit(self, seq: list[tuple[str, int]], cols: int, low: float, high: float) -> float:
        """The least column height that still fits in `cols` columns: the columns come out evenly filled (no lone
        `fc` in a last column). Long models skip the search: there the last column's share is negligible."""
        if len(seq) > 3000:
            return low * 1.03
        if self._columns_needed(seq, low) <= cols:
            return low
        for _ in range(30):
            if high - low < 1.0:
                break
            mid = (low + high) / 2
            if self._columns_needed(seq, mid) <= cols:
                high = mid
            else:
                low = mid
        return high

    def _skips(self, unit_pos: list[QPointF], col_of_unit: list[int], segments: dict[int, list[QRectF]]
               ) -> list[tuple[QPointF, QPointF, float]]:
        """Residual joins of the graph: the last node of a container that also reads a value from before the
        container (ResNet's `out + identity`) gets an arrow from the container's input. Only within one column
        (a bypass across columns would cross everything)."""
        graph = self.document.graph
        unit_of_row = {u.row: k for k, u in enumerate(self._units) if u.group < 0}
        skips = []
        for gi, g in enumerate(self._groups):
            node = g.node
            if gi not in segments or g.collapsed or node.last >= len(graph.nodes) or node.first == node.last:
                continue
            join = graph.nodes[node.last]
            before = {graph.nodes[r].id for r in range(node.first)} | set(graph.input_names)
            if len(join.inputs) < 2 or not any(r.node in before for r in join.inputs):
                continue
            a, b = unit_of_row.get(node.first), unit_of_row.get(node.last)
            if a is None or b is None or col_of_unit[a] != col_of_unit[b]:
                continue
            seg = segments[gi][0]
            x = seg.right() - PAD * 0.8
            skips.append((QPointF(unit_pos[a].x() + BLOCK_W / 2, unit_pos[a].y() - VGAP / 2),
                          QPointF(unit_pos[b].x() + BLOCK_W, unit_pos[b].y() + BLOCK_H / 2), x))
        return skips

    # ---- colours -------------------------------------------------------------------------------------------
    def _unit_subjects(self) -> Iterable[Subject]:
        doc = self.document
        for u in self._units:
            if u.group >= 0:
                yield self._groups[u.group].node
            else:
                cost = doc.row_cost(u.row)
                if cost is not None:
                    yield cost

    def refresh(self) -> None:
        """Recolour and relabel every item in place from the document's current report (O(rows), no new items)."""
        doc = self.document
        wmetric = self.width_metric
        value = getter(doc, self.metric)
        wvalue = getter(doc, wmetric) if wmetric else value
        subjects = list(self._unit_subjects())
        scale = CostScale.from_values((value(s) for s in subjects), self.log_scale)
        wmax = max((wvalue(s) for s in subjects), default=0) if wmetric else 0
        changed = (scale.vmin, scale.vmax, scale.log, wmax) != (self.scale.vmin, self.scale.vmax, self.scale.log,
                                                                self.width_max)
        self.scale, self.width_max = scale, wmax
        error_row = doc.error_row()
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

        gray = QColor(150, 150, 150)
        for row, lid in enumerate(self._ids):
            item = self._blocks[lid]
            cost = doc.row_cost(row)
            if cost is None:
                item.set_state(None, gray, 1.0, error_row is not None)
                continue
            item.set_state(cost, color_of(value(cost)), width_of(cost),
                           error_row is not None and row >= error_row)
            item.update()  # shares of the total change with any edit: repaint lazily (only exposed items paint)
        for g in self._groups:
            g.set_state(color_of(value(g.node)), width_of(g.node))
            g.update()
        self.settingsChanged.emit() if changed else None

    def _width_fraction(self, subject: Subject) -> float:
        if not self.width_metric or self.width_max <= 0:
            return 1.0
        return MIN_WIDTH_FRACTION + (1 - MIN_WIDTH_FRACTION) * self.value(subject, self.width_metric) / self.width_max

    # ---- selection -----------------------------------------------------------------------------------------
    def _visible_item_for(self, row: int) -> LayerBlockItem | GroupFrameItem:
        block = self._blocks[self._ids[row]]
        if block.isVisible():
            return block
        for u in self._units:
            if u.group >= 0:
                node = self._groups[u.group].node
                if node.first <= row <= node.last:
                    return self._groups[u.group]
        return block

    def _on_selection_changed(self, rows: list[int], source: object) -> None:
        ids = {self._ids[r] for r in rows if 0 <= r < len(self._ids)}
        for lid in self._selected - ids:
            if lid in self._blocks:
                self._blocks[lid].set_selected(False)
        for lid in ids:
            self._blocks[lid].set_selected(True)
        self._selected = ids
        for u in self._units:
            if u.group >= 0:
                node = self._groups[u.group].node
                self._groups[u.group].set_selected(any(node.first <= r <= node.last for r in rows))

    # ---- document signals ----------------------------------------------------------------------------------
    def _on_document_reset(self) -> None:
        self.rebuild()

    def _on_document_structure(self, *args: int) -> None:
        """Insert/remove/move: add or drop only the items whose ids appeared or vanished, then relayout."""
        ids = self.document.layer_ids()
        new = set(ids)
        for lid in [i for i in self._blocks if i not in new]:
            self.removeItem(self._blocks.pop(lid))
            self._selected.discard(lid)
        self._ids = ids
        for row, lid in enumerate(ids):
            if lid not in self._blocks:
                self._blocks[lid] = self._new_block(lid, row)
        self._relayout()
        self.refresh()

    def _on_document_report(self, *args: object) -> None:
        self.refresh()

    def _on_document_layer(self, row: int, field: str) -> None:
        if field in ("name", "type"):
            self.block(row).fallback = self.document.spec(row).display_name(row)

    # ---- tooltip -------------------------------------------------------------------------------------------
    def tooltip_html(self, item: LayerBlockItem | GroupFrameItem) -> str:
        """The full record of a block or container: every metric, % of totals, and the conventions' names."""
        report = self.document.report
        conv = self.document.convention
        if isinstance(item, GroupFrameItem):
            node = item.node
            head = (f"<b>{escape(node.path)}</b> &nbsp;{escape(node.type)}<br>"
                    f"layers {node.first}–{node.last} ({node.last - node.first + 1} rows)")
            totals = node.totals
        else:
            cost = item.cost
            if cost is None:
                return f"<b>{escape(item.fallback)}</b><br>not costed yet"
            head = (f"<b>{escape(cost.name)}</b> &nbsp;{escape(cost.type)} &nbsp;<i>{cost.category}</i><br>"
                    f"{escape(key_args(cost.type, cost.args))}<br>"
                    f"{shape(cost.input_shape)} → {shape(cost.output_shape)}")
            if cost.path and cost.path != cost.name:
                head += f"<br><span>{escape(cost.path)}</span>"
            totals = cost.totals
        t = report.totals

        def pct(field: str) -> str:
            total = getattr(t, field)
            return percent(getattr(totals, field) / total) if total else "–"

        rows = [
            ("Params", f"{grouped(totals.params)}", pct("params")),
            ("&nbsp;&nbsp;trainable / frozen", f"{grouped(totals.trainable_params)} / {grouped(totals.frozen_params)}",
             ""),
            ("Buffers", grouped(totals.buffers), ""),
            ("MACs", si(totals.macs), pct("macs")),
            ("FLOPs (NetCost)", si(totals.flops), pct("flops")),
            ("&nbsp;&nbsp;bias adds / element-wise", f"{si(totals.bias_adds)} / {si(totals.elementwise_flops)}", ""),
            ("Param bytes", nbytes(totals.param_bytes), pct("param_bytes")),
            ("Activations", nbytes(totals.activation_bytes), pct("activation_bytes")),
            ("Memory access", nbytes(totals.memory_access_bytes), pct("memory_access_bytes")),
            ("FLOPs / byte", f"{totals.flops / totals.memory_access_bytes:.1f}" if totals.memory_access_bytes else "–",
             ""),
        ]
        for key in PEERS:
            c = CONVENTIONS[key]
            rows.append((f"{escape(c.label)} <i>({c.unit})</i>", si(getattr(totals, key)), pct(key)))
        body = "".join(f"<tr><td>{a}</td><td align=right>&nbsp;{b}</td><td align=right>&nbsp;{c}</td></tr>"
                       for a, b, c in rows)
        note = (f"Coloured by {escape(self.metric_title())}; FLOPs figures use the {escape(convention_label(conv))}"
                " convention")
        return f"{head}<table cellspacing=0>{body}</table><small>{note}</small>"


def scene_for(document: CostDocument, dark: bool = False, metric: str = "flops", width_metric: str | None = "params",
              log_scale: bool = True) -> DiagramScene:
    """A ready-to-render scene for exports (no view, no window): `scene.render(painter, target, scene.sceneRect())`."""
    scene = DiagramScene(document, dark=dark)
    scene.width_metric = width_metric
    scene.log_scale = log_scale
    scene.metric = metric
    scene.refresh()
    return scene
