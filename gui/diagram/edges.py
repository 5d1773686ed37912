"""`EdgesItem`: many edges of the data flow drawn as a few paths (one per line width, with arrowheads) rather than
thousands of items; shape labels, given by the scene, when zoomed in."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from netcost.gui.diagram.layout import Point, Route
from netcost.gui.diagram.painting import lod_of, static_text
from netcost.gui.diagram.style import DiagramStyle

Label = tuple[float, float, str]  # (x, y, text) of an edge's shape label, in item coordinates
LABEL_LOD = 0.9  # labels show from this zoom on

def route_path(points: list[Point], horizontal: bool = False) -> QPainterPath:
    """Straight where x stays, a vertical-tangent curve where it changes (as dataflow tools draw edges); flowing
    left to right (`horizontal`), straight where y stays and horizontal tangents."""
    path = QPainterPath()
    _add_route(path, points, horizontal=horizontal)
    return path


def _add_route(path: QPainterPath, points: list[Point], curves: bool = True, horizontal: bool = False) -> None:
    if not points:
        return
    x0, y0 = points[0]
    path.moveTo(x0, y0)
    if not curves:
        for x1, y1 in points[1:]:
            path.lineTo(x1, y1)
        return
    for x1, y1 in points[1:]:
        if abs(x0 - x1) < 0.5 or abs(y0 - y1) < 0.5:
            path.lineTo(x1, y1)
        elif horizontal:
            mx = (x0 + x1) / 2
            path.cubicTo(mx, y0, mx, y1, x1, y1)
        else:
            my = (y0 + y1) / 2
            path.cubicTo(x0, my, x1, my, x1, y1)
        x0, y0 = x1, y1


def _head(path: QPainterPath, tip: Point, size: float, horizontal: bool = False) -> None:
    x, y = tip
    if horizontal:  # pointing right
        path.moveTo(x - size * 1.3, y - size * 0.6)
        path.lineTo(x - size * 1.3, y + size * 0.6)
        path.lineTo(x, y)
        path.closeSubpath()
        return
    path.moveTo(x - size * 0.6, y - size * 1.3)
    path.lineTo(x + size * 0.6, y - size * 1.3)
    path.lineTo(x, y)
    path.closeSubpath()


class EdgesItem(QGraphicsItem):
    """Many edges drawn as one path per line width, with arrowheads; shape labels when zoomed in."""

    def __init__(self, z: float = -10) -> None:
        super().__init__()
        self.setZValue(z)
        self.widths: list[float] | None = None
        self._built: dict[bool, tuple[list[tuple[QPainterPath, float]], QPainterPath]] = {}
        self._bounds = QRectF()
        self.color = QColor(120, 120, 120)
        self.routes: list[Route] = []
        self.labels = False  # draw each edge's tensor shape when zoomed in
        self.horizontal = False  # the flow runs left to right: arrowheads point right, curves leave sideways
        # the labels as the scene last read them (`DiagramText.edge_labels`), and the consumers' records they were
        # read from; None until first drawn
        self.label_cache: list[Label] | None = None
        self.label_costs: list[object] = []

    def set_routes(self, routes: list[Route], color: QColor, widths: list[float] | None = None,
                   bounds: tuple[float, float, float, float] | None = None) -> None:
        """Routes to draw; their paths are built when first painted (a view shows a few of many pieces), the
        bounds now from the points (a curve between two points stays inside their box), or as given: (left, top,
        right, bottom) of the points."""
        self.prepareGeometryChange()
        self.routes = routes
        self.widths = widths
        self.label_cache = None
        self._built = {}
        self.color = color
        if bounds is None:
            xs = [x for r in routes for x, _ in r.points]
            ys = [y for r in routes for _, y in r.points]
            bounds = (min(xs), min(ys), max(xs), max(ys)) if xs else (0.0, 0.0, -1.0, -1.0)
        x0, y0, x1, y1 = bounds
        pad = 3.5 + max(widths or (1.4,)) * 1.5 + 2
        self._bounds = QRectF(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad) if x1 >= x0 else QRectF()
        self.update()

    def line_widths(self) -> set[float]:
        return set(self.widths) if self.widths else ({1.4} if self.routes else set())

    def _paths_for(self, curves: bool) -> tuple[list[tuple[QPainterPath, float]], QPainterPath]:
        """(one path per line width, the arrowheads): with curves, or as straight segments (zoomed out, where no
        arrowheads are drawn: the lines run to their ends and the heads stay empty)."""
        hit = self._built.get(curves)
        if hit is None:
            groups: dict[float, QPainterPath] = {}
            heads = QPainterPath()
            widths = self.widths
            for k, r in enumerate(self.routes):
                if not r.points:
                    continue
                w = widths[k] if widths else 1.4
                path = groups.get(w)
                if path is None:
                    path = groups[w] = QPainterPath()
                if curves:
                    h = self.horizontal
                    _add_route(path, r.points[:-1] + [_short(r.points, h)], horizontal=h)
                    _head(heads, r.points[-1], 3.5 + w, h)
                else:
                    _add_route(path, r.points, False)
            hit = self._built[curves] = (sorted(((p, w) for w, p in groups.items()), key=lambda t: t[1]), heads)
        return hit

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        self.draw(painter, option.exposedRect)

    def draw(self, painter: QPainter, exposed: QRectF, style: DiagramStyle | None = None,
             labels: list[Label] | None = None) -> None:
        """Paint the edges (and, given `labels` and `style`, zoomed in, their labels) in item coordinates: as an
        item, or from the scene's background (where the view caches them: a recolour of the blocks above does not
        stroke them again)."""
        lod = lod_of(painter)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if lod < 0.25:  # zoomed out: straight hairlines without antialiasing (stroking curves is the cost)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            for path, w in self._paths_for(False)[0]:
                painter.setPen(QPen(self.color, max(1.0, w * lod * 1.5) if w > 1.4 else 0))
                painter.drawPath(path)
            return
        paths, heads = self._paths_for(True)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for path, w in paths:
            painter.setPen(QPen(self.color, w, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
            painter.drawPath(path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(self.color))
        painter.drawPath(heads)
        if labels is not None and style is not None and lod >= LABEL_LOD:
            inverse, ok = painter.worldTransform().inverted()
            device = painter.device()
            seen = inverse.mapRect(QRectF(0, 0, device.width(), device.height())) if ok and device else self._bounds
            self._paint_labels(painter, exposed.intersected(seen), labels, style)

    def _paint_labels(self, painter: QPainter, exposed: QRectF, labels: list[Label], style: DiagramStyle) -> None:
        font = style.fonts.cont
        painter.setFont(font)
        painter.setPen(style.theme.muted)
        h = QFontMetricsF(font).height()
        left, right, top, bottom = exposed.left(), exposed.right(), exposed.top(), exposed.bottom()
        for x, y, text in labels:
            if not (left <= x <= right and top <= y + 8 <= bottom):
                continue
            static, w = static_text(text, font)
            painter.fillRect(QRectF(x + 5, y + 3, w + 6, h), style.theme.background)
            painter.drawStaticText(QPointF(x + 8, y + 3), static)


def _short(points: list[Point], horizontal: bool = False) -> Point:
    """The last point, pulled back under the arrowhead (a line end would poke through its tip)."""
    x, y = points[-1]
    if horizontal:
        return (x - 4, y) if len(points) > 1 and abs(points[-2][1] - y) < 0.5 else (x, y)
    return (x, y - 4) if len(points) > 1 and abs(points[-2][0] - x) < 0.5 else (x, y)


def edge_at(routes: list[Route], pos: QPointF, tolerance: float, horizontal: bool) -> Route | None:
    """The route passing within `tolerance` of `pos` (layout coordinates; the nearest end wins), or None."""
    best: tuple[float, Route] | None = None
    stroker = QPainterPathStroker()
    stroker.setWidth(2 * tolerance)
    probe = QRectF(pos.x() - tolerance, pos.y() - tolerance, 2 * tolerance, 2 * tolerance)
    for r in routes:
        xs = [p[0] for p in r.points]
        ys = [p[1] for p in r.points]
        if not xs or not probe.intersects(QRectF(min(xs) - 1, min(ys) - 1, max(xs) - min(xs) + 2,
                                                 max(ys) - min(ys) + 2)):
            continue
        if stroker.createStroke(route_path(r.points, horizontal)).contains(pos):
            d = math.dist((pos.x(), pos.y()), r.points[-1])
            if best is None or d < best[0]:
                best = (d, r)
    return best[1] if best else None
