"""`DiagramScene`: the dataflow diagram of a `CostDocument`, coloured by cost, one `LayerBlockItem` per node id.

The layout is the graph's true data flow in one column of flow, top to bottom or (`orientation`) left to right
(`layout`: layered, compound by module scope); only an export that must fit a page cuts it into columns
(`column_height`, `columns.wrap`). Module scopes are frames that collapse into one block showing their subtotal;
long models open with their repeated blocks folded. How it is viewed is a `DiagramState` (metric, scale, width
encoding, orientation, open scopes); the scene composes its colouring (`colouring`), labels (`text`), tooltips
(`tooltips`) and navigation (`navigation`), and hands its items what they draw.

Updates in place: `reportChanged`/`layerChanged` recolour and relabel existing items (edges only change width when
they encode activation bytes); insert/remove/move add or drop only the items whose ids appeared or vanished and
lay out again; `documentReset` rebuilds. The scene can be built and rendered without any view (exports), and then
shows no interactive selection unless asked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGraphicsScene

from netcost.gui.common.cost_colors import METRICS, SCALES, Theme, format_metric, palette_is_dark
from netcost.gui.common.gc_pause import retire, without_gc
from netcost.gui.diagram.blocks import TEXT_LOD, GroupFrameItem, InputItem, LayerBlockItem, key_of
from netcost.gui.diagram.colouring import DiagramColouring
from netcost.gui.diagram.columns import wrap
from netcost.gui.diagram.edges import LABEL_LOD, edge_at
from netcost.gui.diagram.keys import BoxKey, InputKey, ScopeKey
from netcost.gui.diagram.layout import DiagramLayout, DiagramLayouter, Orientation, Route
from netcost.gui.diagram.navigation import DiagramNavigation
from netcost.gui.diagram.painting import lod_of, render_scale, viewed_rect
from netcost.gui.diagram.placement import DiagramItems
from netcost.gui.diagram.prepared import prepared_for
from netcost.gui.diagram.state import DiagramState
from netcost.gui.diagram.structure import DiagramStructure, rewired
from netcost.gui.diagram.style import BLOCK_H, SIZES, DiagramFonts, DiagramStyle
from netcost.gui.diagram.text import DiagramText
from netcost.gui.diagram.tooltips import DiagramTooltips
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.latency_state import LatencyState
from netcost.gui.document.metric_values import Subject, title_of, value_of

Item = LayerBlockItem | GroupFrameItem | InputItem


class DiagramScene(QGraphicsScene):
    """See the module docstring. The view state is `state`; changing it is not an edit of the document."""

    settingsChanged = Signal()  # metric, scale, width encoding or the colour range changed (colour bar follows)
    layoutChanged = Signal()  # items moved (expand/collapse, structure, columns): views refit or recentre

    def __init__(self, document: CostDocument, parent: QObject | None = None, dark: bool | None = None,
                 show_selection: bool = True, expanded: Collection[str] | None = None, in_view: bool = False,
                 orientation: Orientation = Orientation.TOP_DOWN, state: DiagramState | None = None) -> None:
        """`state`: how to show it (default: FLOPs, linear, widths by params, with `orientation` and `expanded`:
        the scopes to show open from the start, laid out once; None: the default for the model's size). `in_view`:
        a view's scene, whose large layouts get items as they are painted (an export's has every item)."""
        super().__init__(parent)
        self.document = document
        self._state = state or DiagramState(orientation=orientation).with_expanded(expanded)
        self.show_selection = show_selection
        self.column_height: float | None = None  # an export's page: cut a tall top-down layout into columns
        self.fonts = DiagramFonts()
        self.style = DiagramStyle(Theme.of(palette_is_dark() if dark is None else dark), self.fonts)
        self.layout: DiagramLayout | None = None
        self._base: DiagramLayout | None = None
        self.dx = 0.0  # scene x of the layout's origin
        self._weighted_edges = False
        self.gen = 0  # refreshes so far: a block painted or read with an older one catches up (sync_block)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)  # items move on every relayout
        self.setBackgroundBrush(self.theme.background)
        self._latency_watched = False
        self.placement = DiagramItems(self, document, self.style, in_view)
        self._blocks, self._groups, self._inputs = (self.placement.blocks, self.placement.groups,
                                                    self.placement.inputs)
        self._structure: DiagramStructure | None = None
        self.layouter: DiagramLayouter | None = None
        self.text = DiagramText(self, self._blocks)
        self.tooltips = DiagramTooltips(self, self.text)
        self.colouring = DiagramColouring(self, self._groups, self.placement)
        self.navigation = DiagramNavigation(self)
        d = document
        d.documentReset.connect(self.rebuild)
        for signal in (d.layersInserted, d.layersRemoved, d.layersMoved):
            signal.connect(self._on_document_structure)
        d.layerChanged.connect(self._on_document_layer)
        for signal in (d.reportChanged, d.errorChanged, d.conventionChanged, d.scaleChanged):
            signal.connect(self._on_document_report)  # (scale: fixed to the baseline or freed)
        # deltas appear or go (a new model says so too: the colours it was just given stay, ~15 ms at 100k nodes)
        d.baselineChanged.connect(lambda: self.colouring.shows_baseline() or self.refresh())
        d.selection.rowsChanged.connect(self._on_selection_changed)
        self.rebuild(self._state.expanded)

    # ---- view state ----------------------------------------------------------------------------------------
    @property
    def state(self) -> DiagramState:
        return self._state

    metric = property(lambda self: self._state.metric)
    scale_mode = property(lambda self: self._state.scale_mode)
    width_metric = property(lambda self: self._state.width_metric)
    orientation = property(lambda self: self._state.orientation)
    log_scale = property(lambda self: self._state.log_scale)
    theme = property(lambda self: self.style.theme)
    scale = property(lambda self: self.colouring.scale)
    width_max = property(lambda self: self.colouring.width_max)
    drawn = property(lambda self: self.placement.drawn)

    @property
    def structure(self) -> DiagramStructure:
        assert self._structure is not None
        return self._structure

    @without_gc
    def set_state(self, state: DiagramState) -> None:
        """Show the diagram as `state` says (a view's, shared with an export): lay out again when the flow or the
        open scopes changed (scopes the graph lacks are dropped), recolour when anything did."""
        for metric in (state.metric, state.width_metric):
            if metric is not None and metric not in METRICS:
                raise KeyError(metric)
        if state.scale_mode not in SCALES:
            raise KeyError(state.scale_mode)
        state = state.with_expanded(p for p in state.expanded or () if p in self.placement.scopes)
        old, self._state = self._state, state
        if state == old:
            return
        if METRICS[state.metric].derived and not self._latency_watched:  # another device recolours
            LatencyState.of(self.document).changed.connect(self._on_document_report)
            self._latency_watched = True
        if self.layouter is not None and state.orientation is not old.orientation:
            self.layouter.set_orientation(state.orientation)
        if self.layouter is not None and (state.orientation, state.expanded) != (old.orientation, old.expanded):
            self._relayout()
        self.refresh()

    def set_metric(self, metric: str) -> None:
        self.set_state(self._state.changed(metric=metric))

    def set_scale_mode(self, mode: str) -> None:
        self.set_state(self._state.changed(scale_mode=mode))

    def set_width_metric(self, metric: str | None) -> None:
        """None: uniform width; otherwise block width encodes this metric (labelled in the colour bar)."""
        self.set_state(self._state.changed(width_metric=metric))

    def set_orientation(self, orientation: Orientation) -> None:
        """Read the flow top to bottom or left to right (every level is laid out again)."""
        self.set_state(self._state.changed(orientation=orientation))

    def set_expanded_scopes(self, paths: Iterable[str]) -> None:
        self.set_state(self._state.with_expanded(paths))

    def set_dark(self, dark: bool) -> None:
        if dark != self.theme.dark:
            self.style = DiagramStyle(Theme.of(dark), self.fonts)
            self.placement.set_style(self.style)
            self.setBackgroundBrush(self.theme.background)
            self._draw_edges()  # (invalidates the cached background)
            self._draw_highlight()
            for item in self.items():
                item.update()

    def set_column_height(self, height: float | None) -> None:
        """Cut a top-down layout into columns of at most `height` scene units, for a page (None: one column)."""
        if height != self.column_height:
            self.column_height = height
            self._place()

    def is_expanded(self, path: str) -> bool:
        return path in self._expanded

    def expanded(self) -> set[str]:
        return set(self._expanded)

    @property
    def _expanded(self) -> frozenset[str]:
        return self._state.expanded or frozenset()

    def set_collapsed(self, path: str, collapsed: bool) -> None:
        self.set_expanded_scopes(self._expanded - {path} if collapsed else self._expanded | {path})

    def toggle_collapsed(self, path: str) -> None:
        self.set_collapsed(path, path in self._expanded)

    def collapse_to_depth(self, depth: int | None) -> None:
        """Collapse every scope nested `depth` levels deep (0: the outermost) and show those above it open;
        None expands all."""
        level, scopes = self.structure.level, self.placement.scopes
        self.set_expanded_scopes(scopes if depth is None else [p for p in scopes if level(p) < depth])

    def reveal(self, row: int) -> bool:
        """Expand the scopes around `row`'s node so its own block shows. True if anything was expanded."""
        need = self.navigation.scopes_to_reveal(row)
        if need:
            self.set_expanded_scopes(self._expanded | need)
        return bool(need)

    def value(self, subject: Subject, metric: str | None = None) -> float:
        """`metric` (default: the colour's) of a row's costs, a container or the whole report."""
        return value_of(self.document, subject, metric or self.metric)

    def metric_title(self, metric: str | None = None) -> str:
        return title_of(self.document, metric or self.metric)

    def format_value(self, value: float, metric: str | None = None) -> str:
        return format_metric(metric or self.metric, value, self.document.convention)

    # ---- items ---------------------------------------------------------------------------------------------
    def block(self, row: int) -> LayerBlockItem:
        return self._ready(self.placement.item(self.placement.ids[row]))

    def block_for(self, node_id: str) -> LayerBlockItem:
        return self._ready(self.placement.item(node_id))

    def blocks(self) -> list[LayerBlockItem]:
        """The drawn nodes' blocks in row order (hidden view/constant nodes have none)."""
        items, drawn = self.placement, self.placement.drawn
        return [self._ready(items.item(i)) for i in items.ids if i in drawn]

    def groups(self) -> list[GroupFrameItem]:
        return [self._ready_group(g) for g in self.placement.all_groups()]  # (made here if not yet)

    def group(self, path: str) -> GroupFrameItem:
        return self._ready_group(self.placement.group(path))

    def routes(self) -> list[Route]:
        return list(self.layout.routes) if self.layout else []

    def edge_widths(self) -> set[float]:
        return {w for item in self.placement.edge_chunks for w in item.line_widths()}

    def item_for_key(self, key: BoxKey) -> Item:
        if isinstance(key, ScopeKey):
            return self.group(key.path)
        if isinstance(key, InputKey):
            return self._inputs[key.name]
        return self.block_for(key)

    def edge_items(self) -> list[tuple[Item, Item]]:
        """(source item, target item) of every drawn edge."""
        return [(self.item_for_key(r.src), self.item_for_key(r.dst)) for r in self.routes()]

    key_of_item = staticmethod(key_of)

    def sync_block(self, item: LayerBlockItem, quiet: bool = False) -> LayerBlockItem:
        """Bring a block up to the latest refresh (colour, width, cost, share); `quiet` when about to paint it."""
        return self.colouring.sync_block(item, quiet)

    def _ready(self, item: LayerBlockItem) -> LayerBlockItem:
        """A block as it reads now: synced, with its label text (read out by tests and exports)."""
        self.sync_block(item)
        item.text = self.text.block_text(item)
        return item

    def _ready_group(self, group: GroupFrameItem) -> GroupFrameItem:
        self.colouring.sync_groups([group], self.text.relabel_groups, quiet=True)
        group.text = self.text.group_text(group)
        return group

    # ---- navigation and tooltips (`navigation`, `text` and `tooltips` hold the rest) ---------------------------
    def unit_rect(self, row: int) -> QRectF:
        """Scene rect of the box showing `row` (its block, or the collapsed scope that hides it; a hidden view
        node shows as the block it feeds)."""
        item = self._visible_item_for(row)
        return QRectF() if item is None else item.mapRectToScene(item.block_rect())

    def _visible_item_for(self, row: int) -> LayerBlockItem | GroupFrameItem | None:
        key = self.navigation.key_for_row(row)
        item = None if key is None else self.item_for_key(key)
        return item if not isinstance(item, InputItem) else None

    def tooltip_html(self, item: Item) -> str:
        """The full record of a block or container: every metric, % of totals, and the conventions' names."""
        if isinstance(item, LayerBlockItem):
            self.sync_block(item)
        return self.tooltips.tooltip_html(item)

    def edge_at(self, pos: QPointF, tolerance: float) -> Route | None:
        """The edge passing within `tolerance` scene units of `pos` (the nearest end wins), or None."""
        return edge_at(self.routes(), QPointF(pos.x() - self.dx, pos.y()), tolerance, self.orientation.horizontal)

    # ---- building ------------------------------------------------------------------------------------------
    @without_gc
    def rebuild(self, expanded: Collection[str] | None = None) -> None:
        """Drop every item and build from the document (a new model was loaded), with `expanded` open (default:
        as many levels as fit)."""
        self.placement.clear()
        retire(self._structure, self.layouter, self._base, self.layout)  # (a 100k-node chain's: ~50 ms to free)
        self._sync_structure(expanded)

    @without_gc
    def _sync_structure(self, expanded: Collection[str] | None) -> None:
        """Items for the current graph's drawn nodes, scopes and inputs, keeping those whose ids remain, laid out
        with `expanded` open (None: the default for the model's size)."""
        ahead = prepared_for(self.document.graph, self.orientation)  # (by the thread that loaded it, if it did)
        st = self._structure = ahead.structure
        self.text.names_changed()
        self.layouter = ahead.layouter
        self.placement.sync_structure(st)
        open_ = set(ahead.expanded if expanded is None else expanded)
        self._state = self._state.with_expanded(open_ & self.placement.scopes.keys())
        self._relayout()
        self.refresh()
        self._on_selection_changed(self.document.selection.rows, None)

    # ---- layout --------------------------------------------------------------------------------------------
    @without_gc
    def _relayout(self) -> None:
        """Lay out for the current expansion (cached per scope), then place the items."""
        assert self.layouter is not None
        self._base = self.layouter.layout(self._expanded)
        self._place()

    @without_gc
    def _place(self) -> None:
        st = self.structure
        layout = self._base
        assert layout is not None
        if self.column_height is not None and not self.orientation.horizontal:
            layout = wrap(layout, self.column_height, SIZES, st.level)
        self.layout = layout
        # one column: keep the root's first column at x = 0, so expanding a scope leaves the chain where it was
        self.dx = 0.0 if layout.columns else -layout.anchor_x
        self.placement.place(layout, self._expanded, self.dx, st)
        self.setSceneRect(QRectF(self.dx, 0, layout.width, layout.height))
        self._draw_edges()
        self._draw_highlight()
        self._place_removed()
        self.layoutChanged.emit()

    def columns(self) -> list[tuple[float, float]]:
        """x extents of the layout's newspaper columns (one column when it is not cut)."""
        return self.layout.column_extents(SIZES.margin, self.dx) if self.layout is not None else []

    def _draw_edges(self) -> None:
        routes = self.layout.routes if self.layout else []
        widths = self.colouring.edge_widths(routes, self.text.edge_bytes)
        self._weighted_edges = widths is not None
        self.placement.set_edges(self.layout, widths, self.theme.muted, self.orientation.horizontal)
        self.invalidate(self.sceneRect(), QGraphicsScene.SceneLayer.BackgroundLayer)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        """The background colour and every edge: views cache this layer (CacheBackground), so blocks recoloured
        above it repaint without stroking the edges again; only a relayout or new edge widths redraw it."""
        super().drawBackground(painter, rect)
        labelled = lod_of(painter) >= LABEL_LOD
        self.placement.draw_background(painter, rect, self.dx, self.text.edge_labels if labelled else None)

    def _draw_highlight(self) -> None:
        self.placement.set_highlight(self.routes(), self.theme.selection, self.orientation.horizontal)

    # ---- colours -------------------------------------------------------------------------------------------
    @without_gc
    def refresh(self) -> None:
        """Recolour and relabel in place from the document's current report (no new items): the scale from every
        visible box, the blocks on screen now, the others when next painted or read (`prepare`, `_ready`)."""
        self.gen += 1
        changed = self.colouring.recolour()
        # shown blocks in a view now; the others (scrolled away, in a background tab, folded in a scope) when they
        # are next painted or read: a 5,000-node graph's edit then costs what is on screen, not every block
        seen = viewed_rect(self.views())
        for item in self._blocks_in(seen):
            self.sync_block(item)
        # the containers likewise (all 6,667 folded layers of a 100k-node graph: ~100 ms an edit)
        self.colouring.sync_groups(self.placement.groups_in(self.layout, self.dx, seen), self.text.relabel_groups)
        self._show_removed()
        stale = self.text.stale_labels_rect(self.placement.edge_chunks)
        if not stale.isEmpty():
            self.invalidate(stale.translated(self.dx, 0), QGraphicsScene.SceneLayer.BackgroundLayer)
        if self.metric == "memory" or self._weighted_edges:  # widths follow activation bytes, or stop doing so
            self._draw_edges()
        if changed:
            self.settingsChanged.emit()

    def _blocks_in(self, seen: QRectF | None) -> list[LayerBlockItem]:
        return self.placement.blocks_in(self.layout, self.dx, seen)

    def prepare(self, rect: QRectF, lod: float) -> None:
        """Before a paint of `rect` at scale `lod`: bring the blocks there up to the latest refresh, and give them
        their label text where it is legible (items draw what they were given; they never ask the scene)."""
        text = lod >= TEXT_LOD and lod * BLOCK_H >= 11
        near = rect.adjusted(-12, -12, 12, 12)
        self.placement.realize(near)  # (a large layout's items are made where they are first painted)
        for item in self._blocks_in(near):
            if item.gen != self.gen:
                self.sync_block(item, quiet=True)
            if text:
                item.text = self.text.block_text(item)
        self.colouring.sync_groups(self.placement.groups_in(self.layout, self.dx, near), self.text.relabel_groups, True)

    def render(self, painter: QPainter, target: QRectF = QRectF(), source: QRectF = QRectF(),  # noqa: B008
               mode: Qt.AspectRatioMode = Qt.AspectRatioMode.KeepAspectRatio) -> None:
        """As QGraphicsScene's, with the items in `source` prepared for the scale they are drawn at."""
        src = QRectF(source) if not source.isNull() else self.sceneRect()
        scale = render_scale(painter, target, src, mode)
        if scale:
            self.prepare(src, scale)
        super().render(painter, target, source, mode)

    def covers(self, rect: QRectF) -> bool:
        """Whether a drawn box or edge lies in `rect` (scene coordinates)."""
        return self.layout is not None and self.layout.covers(rect.left() - self.dx, rect.top(),
                                                              rect.right() - self.dx, rect.bottom())

    def overview(self, cell: tuple[float, float] | None = None) -> tuple[list[QRectF], list[tuple[QRectF, QColor]]]:
        """What an overview (the minimap) draws, in scene coordinates: see `DiagramItems.overview`."""
        return self.placement.overview(self.layout, self.dx, cell, lambda b: self.sync_block(b, quiet=True),
                                       lambda path: self.colouring.scope_color(self.placement.node_of(path)))

    def _show_removed(self) -> None:
        """The baseline's rows the current graph no longer has, as ghost blocks beside the layout."""
        if self.placement.show_removed(self.colouring.removed_rows()):
            self._place_removed()

    def _place_removed(self) -> None:
        if self.layout is not None:
            rect = self.placement.removed_rect(self.layout, self.dx, SIZES.margin)
            if rect != self.sceneRect():
                self.setSceneRect(rect)

    # ---- selection and the document's signals --------------------------------------------------------------
    def _on_selection_changed(self, rows: list[int], source: object) -> None:
        if not self.show_selection:
            rows = []
        keys = (self.navigation.key_for_row(r) for r in rows)
        self.placement.select(rows, {k for k in keys if k is not None})
        self._draw_highlight()

    def _on_document_structure(self, *args: int) -> None:
        """Insert/remove/move: add or drop only the items whose ids appeared or vanished, then relayout."""
        self._sync_structure(self._expanded)

    def _on_document_report(self, *args: object) -> None:
        self.refresh()

    def _on_document_layer(self, row: int, field: str) -> None:
        if rewired(self._structure, self.document.graph, row):
            # an edit that inserts nodes signals the insertion first, with the readers after it still wired as
            # before (the document's rows in between); their new inputs arrive only as a changed row
            self._on_document_structure()
            return
        if field == "name":
            self.text.names_changed()
        if field in ("name", "type") and self.placement.ids[row] in self._blocks:
            self.block(row).fallback = self.document.spec(row).display_name(row)


def scene_for(document: CostDocument, dark: bool = False, metric: str = "flops", width_metric: str | None = "params",
              log_scale: bool | None = None, scale_mode: str | None = None,
              include_selection: bool = False, expanded: Collection[str] | None = None,
              orientation: Orientation = Orientation.TOP_DOWN, state: DiagramState | None = None) -> DiagramScene:
    """A ready-to-render scene for exports (no view, no window): `scene.render(painter, target, scene.sceneRect())`.
    It shows no selection unless `include_selection` (an export is a document, not a screenshot of the session).
    `state`: how to show it, as a view shows it (else from `metric`, `width_metric`, `scale_mode` or `log_scale`,
    `orientation`, and `expanded`: the scopes shown open, default as the window opens a model)."""
    state = state or DiagramState.of(metric, width_metric, log_scale, scale_mode, orientation, expanded)
    return DiagramScene(document, dark=dark, show_selection=include_selection, state=state)
