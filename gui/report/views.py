"""The app's own diagram and charts, built offscreen from the document and rendered into report blocks.

Nothing here draws a diagram or a chart: it builds issue 5's `DiagramScene` (`scene_for`), its `ColorBarWidget`
and the chart widgets, sizes them, and calls their `render`. A module that is missing (a partial build) is simply
left out of the report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass

from PySide6.QtCore import QEventLoop, QPoint, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QPainter, QRegion
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsScene, QGraphicsView, QWidget

from netcost.gui.diagram.color_bar import ColorBarWidget
from netcost.gui.diagram.layout import Orientation
from netcost.gui.diagram.scene import scene_for
from netcost.gui.diagram.state import DiagramState
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report.blocks import GridBlock, ViewBlock
from netcost.gui.report.options import ReportOptions
from netcost.gui.report.page_layout import Block
from netcost.gui.report.theme import ReportTheme, theme

CHARTS: dict[str, str] = {
    "layer_share": "share per layer",
    "category_share": "share per category",
    "scatter": "params vs FLOPs",
    "cumulative": "cumulative share",
}

# The diagram is drawn at 75-100 % of its on-screen size: 11 px labels stay >= 8 px (6 pt on paper), which is
# also where the blocks' level of detail keeps every line.
MIN_SCALE = 0.75
PREFERRED_SCALE = 0.88
CHART_ZOOM = 0.82  # charts are laid out at 1/0.82 of their cell: on-screen room, paper-sized text


def render_widget(painter: QPainter, widget: QWidget, rect: QRectF, zoom: float = 1.0) -> None:
    """Lay `widget` out at `rect`'s size / `zoom` and paint it into `rect` (vector on SVG and PDF). A zoom below 1
    gives a chart the room it has on screen while its text shrinks to the report's sizes."""
    w, h = max(1, math.floor(rect.width() / zoom)), max(1, math.floor(rect.height() / zoom))
    prepare_widget(widget, w, h)
    painter.save()
    painter.translate(rect.left() + (rect.width() - w * zoom) / 2, rect.top() + (rect.height() - h * zoom) / 2)
    painter.scale(zoom, zoom)
    if isinstance(widget, QGraphicsView):  # a plot: render its scene through the view's transform (vector)
        # Items that ignore transformations (pyqtgraph's legend) would keep their on-screen size at 2x or on
        # paper: let them scale with the rest while exporting.
        fixed = [i for i in widget.items() if i.flags() & QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations]
        for item in fixed:
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, False)
        # pyqtgraph's export mode: markers drawn as paths (not a pixmap atlas) and sized for the device's scale.
        t = painter.transform()
        opts = {"antialias": True, "painter": painter, "background": widget.backgroundBrush().color(),
                "resolutionScale": math.sqrt(abs(t.m11() * t.m22() - t.m12() * t.m21())) or 1.0}
        exporting = [i for i in widget.items() if hasattr(i, "setExportMode")]
        for item in exporting:
            item.setExportMode(True, opts)
        try:
            widget.render(painter, QRectF(0, 0, w, h), widget.viewport().rect(),
                          Qt.AspectRatioMode.IgnoreAspectRatio)
        finally:
            for item in exporting:
                item.setExportMode(False)
            for item in fixed:
                item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
    else:
        widget.render(painter, QPoint(0, 0), QRegion(0, 0, w, h),
                      QWidget.RenderFlag.DrawChildren | QWidget.RenderFlag.DrawWindowBackground)
    painter.restore()


def prepare_widget(widget: QWidget, w: int, h: int) -> None:
    """Give a never-shown widget its size and a real layout (a hidden widget defers its resize events)."""
    if not widget.isVisible():
        widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)  # laid out and painted, never on screen
        widget.resize(w, h)
        widget.show()
    elif widget.width() != w or widget.height() != h:
        widget.resize(w, h)
    # Layout requests and pyqtgraph's deferred range and axis updates (user input is left queued).
    QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)


def _without_item_cache(scene: QGraphicsScene) -> None:
    """An export scene paints items directly: cached pixmaps would turn vector output into blurry images."""
    for item in scene.items():
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)


class SingleView:
    """One view ready to export alone: its natural size in logical pixels, a background and a paint function."""

    def __init__(self, size: QSizeF, background: QColor, paint: Callable[[QPainter, QRectF], None],
                 close: Callable[[], None] = lambda: None) -> None:
        self.size, self.background, self._paint, self._close = size, background, paint, close

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        self._paint(painter, rect)

    def close(self) -> None:
        self._close()

    def __enter__(self) -> SingleView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- the diagram ----------------------------------------------------------------------------------------------
class DiagramParts:
    """An offscreen `DiagramScene` and its colour bar, laid out for a given width (and page height for PDF)."""

    def __init__(self, document: CostDocument, dark: bool, metric: str, width_metric: str | None = "params",
                 log_scale: bool | None = None, collapsed: Collection[str] | None = None,
                 scale_mode: str | None = None, include_selection: bool = False,
                 orientation: Orientation = Orientation.TOP_DOWN, state: DiagramState | None = None) -> None:
        """`state`: a view's `DiagramState` (metric, scale, width, flow, open scopes), shown as it is; else from
        the other options."""
        self.scene = scene_for(document, dark=dark, metric=metric, width_metric=width_metric, log_scale=log_scale,
                               scale_mode=scale_mode, include_selection=include_selection, orientation=orientation,
                               state=state)
        if collapsed is not None and state is None:  # a live view's folding, copied (else the scene's default)
            self.scene.set_expanded_scopes([g.node.path for g in self.scene.groups() if g.node.path not in collapsed])
        self.color_bar = ColorBarWidget(self.scene)
        _without_item_cache(self.scene)

    def close(self) -> None:
        self.color_bar.deleteLater()
        self.scene.deleteLater()

    def columns(self) -> list[tuple[float, float]]:
        """x extents of the layout's newspaper columns. The scene's own: side-by-side branches (an Inception
        block's four) are one column and stay in one piece, never split as if they were columns."""
        layout = self.scene.layout
        if layout is not None and layout.columns:
            return self.scene.columns()
        rects = [r for item in self.scene.items()
                 if item.isVisible() and item.parentItem() is None and not _is_arrows(item)
                 for r in _scene_rects(item) if r.width() > 0]
        return [(min(r.left() for r in rects), max(r.right() for r in rects))] if rects else []

    def content_rect(self, x0: float, x1: float) -> QRectF:
        """The scene area of the columns between x0 and x1 (with their arrows), cropped to what is drawn."""
        rect = QRectF()
        for item in self.scene.items():
            if not item.isVisible() or item.parentItem() is not None or _is_arrows(item):
                continue
            for r in _scene_rects(item):
                if x0 - 1 <= r.center().x() <= x1 + 1:  # in this column (a badge may overhang it)
                    rect = rect.united(r)
        # room above for the arrow coming in from the previous column, below for the elbow leaving to the next;
        # across, what is drawn (a column's extent may be wider than its boxes) with room for edges beside them
        left, right = max(x0 - 6, rect.left() - 24), min(x1 + 6, rect.right() + 24)
        return QRectF(left, rect.top() - 18, right - left, rect.height() + 40)

    def plan(self, width: float, page_height: float | None) -> DiagramPlan:
        """Choose a column height and scale so the labels stay legible, and cut the columns into chunks that
        each fit `width` (and `page_height` on paper): the fewest chunks, then the largest scale."""
        scene = self.scene
        scene.set_column_height(None)
        natural = self._span(self.columns())
        s = min(1.0, width / natural.width(), *self._height_limit(natural, page_height, width))
        whole = DiagramPlan(s, [natural], collapsed=self._collapsed())
        if s >= PREFERRED_SCALE:  # the slide-like default layout is already legible
            return whole
        if scene.orientation.horizontal:
            return self._rows(natural, width, page_height)
        scene.set_column_height(1e9)  # one column: measure its width and the total height
        one = self._span(self.columns())
        col_pitch = one.width() + 52  # a column plus the gap before the next (the scene's COL_GAP less crops)
        # On paper, the whole diagram on one page where it is legible there beats any cut (the fewest pieces win):
        # a cut would put an Inception block's branches on different pages.
        best: DiagramPlan | None = whole if page_height is not None and s >= MIN_SCALE else None
        for target in (1.0, 0.94, PREFERRED_SCALE, 0.82, MIN_SCALE):
            across = max(1, math.floor((width / target + 52) / col_pitch))
            if page_height is None:
                height = one.height() / across * 1.03
                limit = math.inf
            else:
                limit = (page_height - self.legend_height(width) - 6) / target - 60
                needed = math.ceil(one.height() / limit)
                if needed > across:  # several pieces: fill each piece's columns evenly (no lone block left over)
                    needed = math.ceil(needed / across) * across
                height = min(limit, one.height() / needed * 1.03)
            # On paper, shorter columns too: they move the page breaks, and one may fall between scopes.
            for factor in ((1.0,) if page_height is None else (1.0, 0.85, 0.72)):
                plan = self._layout(width, page_height, height * factor, limit, across)
                if best is None or _rank(plan) < _rank(best):
                    best = plan
            if page_height is None:
                break  # an image grows downwards: the first (largest) legible scale is the one
        assert best is not None
        scene.set_column_height(best.column_height)  # the chosen plan's layout again (None: not wrapped)
        return best

    def _rows(self, natural: QRectF, width: float, page_height: float | None) -> DiagramPlan:
        """A left-to-right flow too long for the page: pieces one under the other, each as wide as the page at
        a legible scale, cut between blocks where one can be (it was drawn at half size and cut at the page's
        right edge)."""
        s = min([PREFERRED_SCALE, *self._height_limit(natural, page_height, width)])
        room = width / max(s, 1e-3)
        shown = [item for item in self.scene.items()
                 if item.isVisible() and item.parentItem() is None and not _is_arrows(item)]
        is_frame = [bool(getattr(i, "segments", None)) and not getattr(i, "collapsed", False) for i in shown]
        boxes = sorted((i.sceneBoundingRect().left(), i.sceneBoundingRect().right())
                       for i, frame in zip(shown, is_frame, strict=True) if not frame)
        frames = [i.sceneBoundingRect().left() - 6 for i, frame in zip(shown, is_frame, strict=True) if frame]

        def free(cut: float) -> bool:  # no block is cut there
            return not any(a < cut < b for a, b in boxes)

        pieces, x = [], natural.left()
        while x < natural.right() - 1:
            end = min(x + room, natural.right())
            if end < natural.right():  # before a frame (its header starts the next row), else the last gap
                starts = [f for f in frames if x + room / 3 < f <= end and free(f)]
                gaps = [b + 2 for _, b in boxes if x + room / 3 < b + 2 <= end and free(b + 2)]
                end = max(starts or gaps or [end])
            pieces.append(QRectF(x, natural.top(), end - x, natural.height()))
            x = end
        return DiagramPlan(s, pieces, self._collapsed())

    def _layout(self, width: float, page_height: float | None, height: float, limit: float,
                across: int) -> DiagramPlan:
        """Lay the scene out in columns of `height` (grown up to `limit` to absorb a straggler column)."""
        scene = self.scene
        scene.set_column_height(height)
        cols = self.columns()
        while len(cols) > across and len(cols) % across == 1 and height * 1.04 <= limit:
            height *= 1.04  # one column left over for a chunk of its own: make the others a little taller
            scene.set_column_height(height)
            cols = self.columns()
        chunks = [self.content_rect(cols[i][0], cols[min(i + across, len(cols)) - 1][1])
                  for i in range(0, len(cols), across)]
        widest = max(c.width() for c in chunks)
        tallest = max(c.height() for c in chunks)
        s = min(1.0, width / widest, *self._height_limit(QRectF(0, 0, widest, tallest), page_height, width))
        return DiagramPlan(max(s, 0.5), chunks, self._collapsed(), column_height=height,
                           cut_scopes=self._scopes_cut(cols, across))

    def _scopes_cut(self, cols: list[tuple[float, float]], across: int) -> int:
        """How many scope frames continue from one piece (page) to the next."""
        layout = self.scene.layout
        if layout is None or len(cols) <= across:
            return 0

        def piece(seg_x: float) -> int:
            return next((i for i, (a, b) in enumerate(cols) if a - 1 <= seg_x <= b + 1), 0) // across

        return sum(1 for segs in layout.frames.values() if len({piece(g.x + g.w / 2) for g in segs}) > 1)

    def _height_limit(self, rect: QRectF, page_height: float | None, width: float) -> list[float]:
        return [] if page_height is None else [(page_height - self.legend_height(width) - 6) / rect.height()]

    def _span(self, cols: list[tuple[float, float]]) -> QRectF:
        return self.content_rect(cols[0][0], cols[-1][1]) if cols else QRectF(0, 0, 1, 1)

    def _collapsed(self) -> int:
        return sum(1 for g in self.scene.groups() if g.collapsed and g.isVisible())

    def render(self, painter: QPainter, target: QRectF, source: QRectF) -> None:
        self.scene.render(painter, target, source, Qt.AspectRatioMode.IgnoreAspectRatio)

    def legend_height(self, width: float) -> float:
        return self.color_bar.legend_height(width)

    def render_legend(self, painter: QPainter, rect: QRectF) -> None:
        self.color_bar.paint_to(painter, rect, self.scene.theme)  # drawn directly: vector, no widget layout


def _rank(plan: DiagramPlan) -> tuple[bool, int, int, float]:
    """Legible first, then the fewest scopes cut by a page break, the fewest pieces, the largest scale."""
    return (plan.scale < MIN_SCALE - 1e-6, plan.cut_scopes, len(plan.chunks), -plan.scale)


def _scene_rects(item: QGraphicsItem) -> list[QRectF]:
    """Where an item draws: a frame continued over several columns counts per column piece (its bounding rect
    would span the gaps and merge those columns into one)."""
    segments = getattr(item, "segments", None)
    if segments and not getattr(item, "collapsed", False):
        return [item.mapRectToScene(seg).adjusted(-4, -4, 4, 4) for seg in segments]
    return [item.sceneBoundingRect()]


def _is_arrows(item: QGraphicsItem) -> bool:
    return type(item).__name__ in ("ArrowsItem", "EdgesItem")


@dataclass
class DiagramPlan:
    scale: float
    chunks: list[QRectF]  # scene rects, each drawn as one piece (a page at most)
    collapsed: int = 0
    column_height: float | None = None  # the scene's layout this plan was cut from
    cut_scopes: int = 0  # scope frames that continue from one piece (page) to the next


class DiagramChunkBlock(Block):
    """One piece of the diagram (a few columns); the first piece carries the colour bar above it."""

    space_after = 10.0

    def __init__(self, parts: DiagramParts, source: QRectF, scale: float, legend: bool) -> None:
        self.parts, self.source, self.scale, self.legend = parts, source, scale, legend

    def height(self, width: float) -> float:
        return self.source.height() * self.scale + (self.parts.legend_height(width) + 6 if self.legend else 0.0)

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        y = rect.top()
        if self.legend:
            legend_h = self.parts.legend_height(rect.width())
            self.parts.render_legend(painter, QRectF(rect.left(), y, rect.width(), legend_h))
            y += legend_h + 6
        w, h = self.source.width() * self.scale, self.source.height() * self.scale
        target = QRectF(rect.left() + max(0.0, (rect.width() - w) / 2), y, w, h)
        painter.save()
        painter.setClipRect(target)
        self.parts.render(painter, target, self.source)
        painter.restore()


def diagram_view(document: CostDocument, dark: bool = False, metric: str = "flops",
                 width_metric: str | None = "params", log_scale: bool | None = None,
                 collapsed: Collection[str] | None = None, scale_mode: str | None = None,
                 include_selection: bool = False, orientation: Orientation = Orientation.TOP_DOWN,
                 state: DiagramState | None = None) -> SingleView | None:
    """The whole diagram with its colour bar, at 100 %, in one column of flow (`orientation`); `state`: a view's,
    shown as it is (then the view options are not read)."""
    try:
        parts = DiagramParts(document, dark, metric, width_metric, log_scale, collapsed, scale_mode,
                             include_selection, orientation, state)
    except ImportError:
        return None
    plan = parts.plan(1e9, None)
    source = plan.chunks[0]
    margin = 16.0
    width = max(source.width(), 560.0) + 2 * margin
    size = QSizeF(width, parts.legend_height(width - 2 * margin) + 6 + source.height() + 2 * margin)
    block = DiagramChunkBlock(parts, source, 1.0, legend=True)

    def paint(painter: QPainter, rect: QRectF) -> None:
        block.paint(painter, rect.adjusted(margin, margin, -margin, -margin))

    return SingleView(size, parts.scene.theme.background, paint, parts.close)


# ---- charts ---------------------------------------------------------------------------------------------------
_CHART_CLASSES: dict[str, tuple[str, str]] = {
    "layer_share": ("netcost.gui.charts.layer_share_chart", "LayerShareChart"),
    "category_share": ("netcost.gui.charts.category_share_chart", "CategoryShareChart"),
    "scatter": ("netcost.gui.charts.params_flops_scatter", "ParamsFlopsScatter"),
    "cumulative": ("netcost.gui.charts.cumulative_share_chart", "CumulativeShareChart"),
}


def make_chart(document: CostDocument, chart: str, dark: bool, include_selection: bool = False) -> QWidget | None:
    """A fresh, never-shown chart widget in the given palette (None when the charts are not in this build),
    without the window's selection unless `include_selection`."""
    import importlib

    module, name = _CHART_CLASSES[chart]
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    widget: QWidget = cls(document, None, dark=dark, show_selection=include_selection)
    return widget


def chart_view(document: CostDocument, chart: str, dark: bool = False,
               size: QSizeF | None = None, include_selection: bool = False) -> SingleView | None:
    widget = make_chart(document, chart, dark, include_selection)
    if widget is None:
        return None
    size = size or QSizeF(640, 420)
    return SingleView(size, theme(dark).background, lambda p, r: render_widget(p, widget, r), widget.deleteLater)


# ---- the report's views ---------------------------------------------------------------------------------------
class ReportViews:
    """The diagram and charts of one report; owns the offscreen scene and widgets until `close()`."""

    def __init__(self, document: CostDocument, options: ReportOptions,
                 report_theme: ReportTheme | None = None) -> None:
        self.document, self.options = document, options
        self.theme = report_theme or theme(options.dark)
        self.diagram_note = ""
        self._diagram: DiagramParts | None = None
        self._widgets: list[QWidget] = []

    def diagram_blocks(self, width: float, page_height: float | None) -> list[Block]:
        if self.document.row_count() == 0:
            return []
        try:
            self._diagram = DiagramParts(self.document, self.options.dark, self.options.metric,
                                         collapsed=self._collapsed_at(self.options.depth),
                                         include_selection=self.options.include_selection,
                                         orientation=self.options.orientation)
        except ImportError:
            return []
        plan = self._diagram.plan(width, page_height)
        notes = []
        if plan.collapsed:
            notes.append(f"{plan.collapsed} containers folded to their subtotals")
        if len(plan.chunks) > 1:
            across = "top to bottom" if self.options.orientation.horizontal else "left to right"
            notes.append(f"continued over {len(plan.chunks)} parts, read {across}")
        self.diagram_note = "; ".join(notes)
        return [DiagramChunkBlock(self._diagram, c, plan.scale, legend=i == 0) for i, c in enumerate(plan.chunks)]

    def _collapsed_at(self, depth: int | None) -> set[str] | None:
        """The containers folded at hierarchy `depth` (None: leave the scene's automatic folding)."""
        if depth is None:
            return None
        return {n.path for n in self.document.report.hierarchy if n.depth == depth}

    def chart_grid(self) -> GridBlock | None:
        cells: list[Block] = []
        for key in CHARTS:
            widget = make_chart(self.document, key, self.options.dark, self.options.include_selection)
            if widget is None:
                continue
            self._widgets.append(widget)
            cells.append(ViewBlock(self.theme, "", lambda p, r, w=widget: render_widget(p, w, r, CHART_ZOOM),
                                   aspect=0.68))
        # Two columns on a wide image; one on paper, where half a page width would crowd a chart's labels.
        return GridBlock(cells, columns=2, gap=22.0, min_cell=380.0) if cells else None

    def close(self) -> None:
        for widget in self._widgets:
            widget.deleteLater()
        self._widgets.clear()
        if self._diagram is not None:
            self._diagram.close()
            self._diagram = None
