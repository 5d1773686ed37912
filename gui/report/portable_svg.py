"""An SVG paint device whose output renders the same in Qt, librsvg and browsers.

`QSvgGenerator` alone writes SVG that only Qt drew as intended, and not even Qt always:
- it clips with `<clipPath>`, which Qt's own `QSvgRenderer` ignores (a chart's guide lines ran across the page
  over the tables), and after `QPainter.restore()` it keeps the clip of the last nested `setClipRect` instead of
  the restored one, so librsvg and Chromium clipped a chart's markers to its legend label and dropped them;
- cosmetic pens under a plot's data transform (x100 scales) rely on `vector-effect="non-scaling-stroke"`, which
  librsvg ignores: a 1 px line became a 100 px band (the scatter's solid grey box, the cumulative chart's slabs);
- fonts are named by Qt's alias ("Sans Serif") with no CSS generic family, so browsers fell back to a serif face.

`PortableSvgDevice` sits in front of the generator: QPainter talks to its engine, which hands each primitive to a
painter on the generator with its geometry mapped to page coordinates (no stroke is scaled by a data transform)
and already clipped (shapes cut to the effective clip, strokes that cross it turned into cut outlines, text and
images outside it left out), so the file has no clip paths at all; fonts are named by the family Qt actually
resolved, to which `with_generic_families` adds the CSS generic family.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import (
    QBrush,
    QFont,
    QFontInfo,
    QFontMetricsF,
    QImage,
    QPaintDevice,
    QPaintEngine,
    QPaintEngineState,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPixmap,
    QPolygonF,
    QTextItem,
    QTransform,
)
from PySide6.QtSvg import QSvgGenerator

_M = QPaintDevice.PaintDeviceMetric
_Dirty = QPaintEngine.DirtyFlag
_CLIP_FLAGS = _Dirty.DirtyClipPath | _Dirty.DirtyClipRegion | _Dirty.DirtyClipEnabled
_PLAIN = (Qt.BrushStyle.SolidPattern, Qt.BrushStyle.NoBrush)


class _ForwardingEngine(QPaintEngine):
    """Receives QPainter's primitives and state; draws them on `target` (a painter on a QSvgGenerator)."""

    def __init__(self, target: QPainter) -> None:
        super().__init__(QPaintEngine.PaintEngineFeature.AllFeatures)
        self.target = target
        self.pen, self.brush, self.font = QPen(), QBrush(), QFont()
        self.transform = QTransform()
        self.opacity = 1.0
        self.clip: QPainterPath | None = None  # in page coordinates; None: no clip
        self._families: dict[str, str] = {}

    # ---- QPaintEngine -----------------------------------------------------------------------------------------
    def begin(self, device: QPaintDevice) -> bool:  # noqa: N802 (Qt's name)
        return True

    def end(self) -> bool:
        return True

    def type(self) -> QPaintEngine.Type:
        return QPaintEngine.Type.User

    def updateState(self, state: QPaintEngineState) -> None:  # noqa: N802
        flags = state.state()
        if flags & _Dirty.DirtyPen:
            self.pen = QPen(state.pen())
        if flags & _Dirty.DirtyBrush:
            self.brush = QBrush(state.brush())
        if flags & _Dirty.DirtyFont:
            self.font = QFont(state.font())
        if flags & _Dirty.DirtyTransform:
            self.transform = QTransform(state.transform())
        if flags & _Dirty.DirtyOpacity:
            self.opacity = state.opacity()
        if flags & _CLIP_FLAGS:
            self.clip = self._effective_clip()

    def _effective_clip(self) -> QPainterPath | None:
        """The clip QPainter holds now, all nested clips intersected, in page coordinates."""
        painter = self.painter()
        if painter is None or not painter.hasClipping():
            return None
        t = painter.transform()
        if not t.isInvertible():  # clipPath() is given in the current (singular) coordinates: keep the last one
            return self.clip
        return t.map(painter.clipPath())

    def drawPath(self, path: QPainterPath) -> None:  # noqa: N802
        self._draw_path(path, self.pen, self.brush)

    def drawPolygon(self, points: list[QPointF], mode: QPaintEngine.PolygonDrawMode) -> None:  # noqa: N802
        path = QPainterPath()
        path.addPolygon(QPolygonF(points))
        if mode == QPaintEngine.PolygonDrawMode.PolylineMode:
            self._draw_path(path, self.pen, QBrush())
            return
        path.closeSubpath()
        if mode == QPaintEngine.PolygonDrawMode.WindingMode:
            path.setFillRule(Qt.FillRule.WindingFill)
        self._draw_path(path, self.pen, self.brush)

    def drawRects(self, rects: list[QRectF]) -> None:  # noqa: N802
        path = QPainterPath()
        for r in rects:
            path.addRect(QRectF(r))
        self._draw_path(path, self.pen, self.brush)

    def drawLines(self, lines: list[QLineF]) -> None:  # noqa: N802
        path = QPainterPath()
        for line in lines:
            path.moveTo(line.p1())
            path.lineTo(line.p2())
        self._draw_path(path, self.pen, QBrush())

    def drawEllipse(self, rect: QRectF) -> None:  # noqa: N802
        path = QPainterPath()
        path.addEllipse(QRectF(rect))
        self._draw_path(path, self.pen, self.brush)

    def drawPoints(self, points: list[QPointF]) -> None:  # noqa: N802
        # A point is a pen-sized square in the pen's colour (a zero-length line is dropped by some renderers).
        width = self.pen.widthF() or 1.0
        cosmetic = self.pen.isCosmetic()
        path = QPainterPath()
        for p in points:
            c = self.transform.map(QPointF(p)) if cosmetic else QPointF(p)
            path.addRect(QRectF(c.x() - width / 2, c.y() - width / 2, width, width))
        if not cosmetic:
            path = self.transform.map(path)
        self._fill(path, self.pen.brush())

    def drawTextItem(self, p: QPointF, item: QTextItem) -> None:  # noqa: N802
        font = QFont(item.font())
        font.setFamily(self._family(font))
        text = item.text()
        if self.clip is not None:  # text cannot be cut: leave out what lies wholly outside the clip
            box = QFontMetricsF(font).boundingRect(text).translated(QPointF(p))
            if not self.transform.mapRect(box).intersects(self.clip.boundingRect()):
                return
        self._apply(self.transform)
        self.target.setFont(font)
        self.target.setPen(self.pen)
        self.target.drawText(QPointF(p), text)

    def drawPixmap(self, r: QRectF, pixmap: QPixmap, sr: QRectF) -> None:  # noqa: N802
        if self._outside(self.transform.mapRect(QRectF(r))):
            return
        self._apply(self.transform)
        self.target.drawPixmap(QRectF(r), pixmap, QRectF(sr))

    def drawImage(self, r: QRectF, image: QImage, sr: QRectF,  # noqa: N802
                  flags: Qt.ImageConversionFlag = Qt.ImageConversionFlag.AutoColor) -> None:
        if self._outside(self.transform.mapRect(QRectF(r))):
            return
        self._apply(self.transform)
        self.target.drawImage(QRectF(r), image, QRectF(sr), flags)

    def drawTiledPixmap(self, r: QRectF, pixmap: QPixmap, s: QPointF) -> None:  # noqa: N802
        if self._outside(self.transform.mapRect(QRectF(r))):
            return
        self._apply(self.transform)
        self.target.drawTiledPixmap(QRectF(r), pixmap, QPointF(s))

    # ---- forwarding -------------------------------------------------------------------------------------------
    def _apply(self, transform: QTransform) -> None:
        self.target.setOpacity(self.opacity)
        self.target.setTransform(transform)

    def _outside(self, page_rect: QRectF) -> bool:
        return self.clip is not None and not page_rect.intersects(self.clip.boundingRect())

    def _inside(self, page_rect: QRectF) -> bool:
        clip = self.clip
        return clip is None or clip.contains(page_rect)

    def _draw_path(self, path: QPainterPath, pen: QPen, brush: QBrush) -> None:
        if brush.style() not in _PLAIN:
            # Gradients and textures are given in the item's coordinates: fill in those, stroke on the page.
            self._fill_in_item_space(path, brush)
            brush = QBrush()
        # Map the geometry to the page: a cosmetic pen stays its width in page pixels, a scaled pen scales.
        page = self.transform.map(path)
        if brush.style() != Qt.BrushStyle.NoBrush:
            self._fill(page, brush)
        if pen.style() != Qt.PenStyle.NoPen:
            self._stroke(page, _page_pen(pen, self.transform))

    def _fill(self, page: QPainterPath, brush: QBrush) -> None:
        if self._outside(page.controlPointRect()):
            return
        if not self._inside(page.controlPointRect()):
            assert self.clip is not None
            page = page.intersected(self.clip)
            if page.isEmpty():
                return
        self._apply(QTransform())
        self.target.setPen(Qt.PenStyle.NoPen)
        self.target.setBrush(brush)
        self.target.drawPath(page)

    def _stroke(self, page: QPainterPath, pen: QPen) -> None:
        reach = max(pen.widthF(), 1.0) * max(pen.miterLimit(), 2.0)
        bounds = page.controlPointRect().adjusted(-reach, -reach, reach, reach)
        if self._outside(bounds):
            return
        if self._inside(bounds):
            self._apply(QTransform())
            self.target.setPen(pen)
            self.target.setBrush(Qt.BrushStyle.NoBrush)
            self.target.drawPath(page)
            return
        # A stroke that crosses the clip: its outline, cut to the clip, filled in the pen's colour.
        stroker = QPainterPathStroker(pen)
        stroker.setWidth(pen.widthF() or 1.0)
        self._fill(stroker.createStroke(page).simplified(), pen.brush())

    def _fill_in_item_space(self, path: QPainterPath, brush: QBrush) -> None:
        page = self.transform.map(path)
        if self._outside(page.controlPointRect()):
            return
        if not self._inside(page.controlPointRect()) and self.transform.isInvertible():
            assert self.clip is not None
            path = path.intersected(self.transform.inverted()[0].map(self.clip))
        self._apply(self.transform)
        self.target.setPen(Qt.PenStyle.NoPen)
        self.target.setBrush(brush)
        self.target.drawPath(path)

    def _family(self, font: QFont) -> str:
        """The family Qt really draws with (not an alias such as "Sans Serif"), so every renderer uses that face."""
        key = font.key()
        family = self._families.get(key)
        if family is None:
            family = self._families[key] = QFontInfo(font).family() or font.family()
        return family


def _page_pen(pen: QPen, transform: QTransform) -> QPen:
    if pen.style() == Qt.PenStyle.NoPen or pen.isCosmetic() or pen.widthF() == 0:
        return pen
    scale = math.sqrt(abs(transform.determinant()))
    if abs(scale - 1.0) < 1e-9:
        return pen
    mapped = QPen(pen)
    mapped.setWidthF(pen.widthF() * scale)
    return mapped


class PortableSvgDevice(QPaintDevice):
    """Paint on this (in logical pixels, 1/96 in) instead of on a QSvgGenerator; `finish()` after `QPainter.end()`."""

    def __init__(self, generator: QSvgGenerator, size: QSizeF) -> None:
        super().__init__()
        self.size = QSize(math.ceil(size.width()), math.ceil(size.height()))
        self._target = QPainter()
        if not self._target.begin(generator):
            raise OSError("the SVG generator could not start")
        self._engine = _ForwardingEngine(self._target)

    def paintEngine(self) -> QPaintEngine:  # noqa: N802
        return self._engine

    def metric(self, m: QPaintDevice.PaintDeviceMetric) -> int:
        if m == _M.PdmWidth:
            return self.size.width()
        if m == _M.PdmHeight:
            return self.size.height()
        if m in (_M.PdmWidthMM,):
            return round(self.size.width() * 25.4 / 96)
        if m in (_M.PdmHeightMM,):
            return round(self.size.height() * 25.4 / 96)
        if m in (_M.PdmDpiX, _M.PdmDpiY, _M.PdmPhysicalDpiX, _M.PdmPhysicalDpiY):
            return 96
        if m == _M.PdmDepth:
            return 32
        if m == _M.PdmNumColors:
            return 0x7FFFFFFF
        if m == _M.PdmDevicePixelRatio:
            return 1
        if m == _M.PdmDevicePixelRatioScaled:
            return round(QPaintDevice.devicePixelRatioFScale())
        return 0

    def finish(self) -> None:
        self._target.end()


_FONT_FAMILY = re.compile(r'font-family="([^"]*)"')


def with_generic_families(svg: str) -> str:
    """Each `font-family` followed by a CSS generic family: a renderer without that face still draws sans text."""

    def add(m: re.Match[str]) -> str:
        names = [n.strip().strip("'") for n in m.group(1).split(",") if n.strip()]
        names = [n for n in names if n.lower() not in ("sans serif", "sans-serif", "monospace", "serif")]
        mono = any("mono" in n.lower() or "courier" in n.lower() or "consol" in n.lower() for n in names)
        quoted = [f"'{n}'" if " " in n else n for n in names]
        return f'font-family="{", ".join([*quoted, "monospace" if mono else "sans-serif"])}"'

    return _FONT_FAMILY.sub(add, svg)
