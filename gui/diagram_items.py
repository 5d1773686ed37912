"""Graphics items of the block diagram: one `LayerBlockItem` per drawn node, one `GroupFrameItem` per module
scope (a frame when expanded, one block when collapsed), an `InputItem` per graph input, and `EdgesItem`s that
draw every edge of the data flow as a few paths (one per line width) rather than thousands of items.

Items hold no costs of their own: the scene hands each block its `LayerCost` (or a container its `Totals`) and a
colour; `paint` formats the text lazily (only exposed items are painted, so an edit is O(rows) attribute sets).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPaintEngine,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QStaticText,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QStyleOptionGraphicsItem, QWidget

from netcost.costing import HierarchyNode, LayerCost

from .cost_colors import Theme, text_color_on
from .diagram_layout import Point, Route
from .palette import LIGHT

if TYPE_CHECKING:
    from .diagram_scene import DiagramScene

BLOCK_W = 240.0
BLOCK_H = 72.0
INPUT_W, INPUT_H = 170.0, 30.0
MIN_WIDTH_FRACTION = 0.5  # narrowest block when width encodes a metric: text must still fit
HEADER_H = 30.0  # tall enough for a header that stays legible zoomed out (see GroupFrameItem.paint)
CONT_H = 18.0  # the small "name (cont.)" header of a frame continued at the top of the next column
PAD = 12.0
ENTRY_GAP = 20.0  # above the first block of a continued column: the arrow from the previous column turns in
ENTRY_RUN = 12.0  # ... this far above the block (below every header of the column)
LESS, MORE = "less", "more"  # a change against the pinned baseline (NEW: costing.comparison.NEW)
_NO_PEN = QPen(Qt.PenStyle.NoPen)
BADGE_COLORS = {LESS: LIGHT.less, MORE: LIGHT.more, "new": LIGHT.added}


class _Fonts:
    """Scene-unit pixel fonts (independent of screen DPI so that exports and the view agree)."""

    def __init__(self) -> None:
        self.title = QFont()
        self.title.setPixelSize(13)
        self.title.setBold(True)
        self.small = QFont()
        self.small.setPixelSize(11)
        self.value = QFont()
        self.value.setPixelSize(12)
        self.value.setBold(True)
        self.big = QFont()
        self.big.setPixelSize(22)
        self.big.setBold(True)
        self.huge = QFont()
        self.huge.setPixelSize(34)
        self.huge.setBold(True)
        self.header = QFont()
        self.header.setPixelSize(12)
        self.header.setBold(True)
        self.cont = QFont()
        self.cont.setPixelSize(10)
        self.cont.setItalic(True)


def _lod(painter: QPainter, option: QStyleOptionGraphicsItem | None = None) -> float:
    """Scene-to-device scale (views and exports scale and translate the scene, never rotate it)."""
    return abs(painter.worldTransform().m11())


FAST_PX = 11.0  # a block drawn smaller than this on screen is a plain filled rect: corners and text would not show


_Plan = list[tuple[QPointF, QStaticText, QFont, QColor]]


def _line_plan(rect: QRectF, lines: list[tuple[str, QFont, QColor]], min_px: float = 0.0) -> _Plan:
    """Where each centred line goes, each shrunk (down to `min_px` scene pixels) and then elided to fit the rect's
    width, laid out as static text."""
    room = rect.width() - 8
    fitted = [(*_fit(text, font, room, min_px), color) for text, font, color in lines]
    y = rect.center().y() - sum(h for _, _, h, _ in fitted) / 2
    left = rect.left() + 4
    plan = []
    for text, font, h, color in fitted:
        static, w = _static(text, font)
        plan.append((QPointF(left + (room - w) / 2, y), static, font, color))
        y += h
    return plan


def _draw_plan(painter: QPainter, plan: _Plan) -> None:
    for at, static, font, color in plan:
        painter.setFont(font)
        painter.setPen(color)
        painter.drawStaticText(at, static)


def _draw_lines(painter: QPainter, rect: QRectF, lines: list[tuple[str, QFont, QColor]], min_px: float = 0.0
                ) -> None:
    _draw_plan(painter, _line_plan(rect, lines, min_px))


_BODIES: dict[tuple, QPixmap] = {}
_RASTER, _SOLID = QPaintEngine.Type.Raster, Qt.PenStyle.SolidLine  # (looked up once: enum access is slow)


def _draw_body(painter: QPainter, rect: QRectF, color: QColor, pen: QPen, scale: float, radius: float = 7.0) -> None:
    """A rounded, outlined block. On a raster device it is copied from a pixmap made once per colour, pen and
    device size (antialiasing a rounded rect costs ~10x a copy, and repeated layers share colours); vector devices
    (SVG, PDF) get the shape itself."""
    engine = painter.paintEngine()
    if engine is None or engine.type() != _RASTER or scale > 4:
        painter.setPen(pen)
        painter.setBrush(QBrush(color))
        painter.drawRoundedRect(rect, radius, radius)
        return
    dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
    pad = math.ceil(pen.widthF() / 2 + 1)
    w, h = round(rect.width() * scale), round(rect.height() * scale)
    key = (color.rgba(), pen.color().rgba(), pen.widthF(), pen.style() == _SOLID, w, h, dpr, radius)
    pix = _BODIES.get(key)
    if pix is None:
        pix = QPixmap(round((w + 2 * pad) * dpr), round((h + 2 * pad) * dpr))
        pix.setDevicePixelRatio(dpr)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(pen)
        p.setBrush(QBrush(color))
        p.drawRoundedRect(QRectF(pad, pad, w, h), radius * scale, radius * scale)
        p.end()
        if len(_BODIES) > 3000:
            _BODIES.clear()
        _BODIES[key] = pix
    t = painter.worldTransform()
    at = t.map(rect.topLeft())
    painter.resetTransform()
    painter.drawPixmap(QPointF(round(at.x()) - pad, round(at.y()) - pad), pix)
    painter.setWorldTransform(t)


_STATIC: dict[tuple[str, int, bool, bool], tuple[QStaticText, float]] = {}


def _static(text: str, font: QFont) -> tuple[QStaticText, float]:
    """`text` laid out once (QStaticText keeps its glyph positions): labels repaint on every recolour, and laying
    text out is most of what drawText costs."""
    key = (text, font.pixelSize(), font.bold(), font.italic())
    hit = _STATIC.get(key)
    if hit is None:
        static = QStaticText(text)
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.setPerformanceHint(QStaticText.PerformanceHint.AggressiveCaching)
        static.prepare(font=font)
        if len(_STATIC) > 20000:
            _STATIC.clear()
        hit = _STATIC[key] = (static, static.size().width())
    return hit


_FITTED: dict[tuple[str, int, bool, float, float], tuple[str, QFont, float]] = {}


def _fit(text: str, font: QFont, room: float, min_px: float) -> tuple[str, QFont, float]:
    """`text` fitted to `room` (trailing ' · ' parts dropped, then shrunk to `min_px`, then elided), its font and
    line height. Remembered: most labels repaint unchanged (measuring text is most of a block's paint)."""
    key = (text, font.pixelSize(), font.bold(), round(room, 1), round(min_px, 1))
    hit = _FITTED.get(key)
    if hit is not None:
        return hit
    fm = QFontMetricsF(font)
    while " · " in text and fm.horizontalAdvance(text) > room:
        text = text.rsplit(" · ", 1)[0]  # drop trailing parts (the share) before shrinking or eliding
    width = fm.horizontalAdvance(text)
    if min_px and width > room and font.pixelSize() > min_px:
        font = QFont(font)
        font.setPixelSize(max(int(min_px), int(font.pixelSize() * room / width)))
        fm = QFontMetricsF(font)
    if len(_FITTED) > 20000:
        _FITTED.clear()
    hit = _FITTED[key] = (fm.elidedText(text, Qt.TextElideMode.ElideRight, room), font, fm.height())
    return hit


def short_name(name: str, font: QFont, room: float) -> str:
    """`name` without as many leading path components as it takes to fit `room` ('layer1.0.conv1' -> 'conv1'):
    zoomed out, the frame around the block names the container, and the tail is what tells blocks apart."""
    fm = QFontMetricsF(font)
    while fm.horizontalAdvance(name) > room and "." in name.strip("."):
        tail = name.split(".", 1)[1]
        if not any(ch.isalpha() for ch in tail):
            break  # 'layer1.0' -> '0' says nothing: keep it (it is shrunk or elided to fit)
        name = tail
    return name


def dropped(name: str, shown: str) -> int:
    """How many leading path components `shown` (a tail of `name`) left out."""
    return name.count(".") - shown.count(".") if name.endswith(shown) else 0


def without_leading(name: str, k: int) -> str:
    """`name` less its first `k` path components, keeping a tail that names something ('layer1.0' keeps '0' only
    with its prefix, as `short_name` does)."""
    parts = name.split(".")
    k = min(k, len(parts) - 1)
    while k > 0 and not any(ch.isalpha() for ch in ".".join(parts[k:])):
        k -= 1
    return ".".join(parts[k:])


def relative_name(name: str, scope: str) -> str:
    """`name` relative to the scope whose frame encloses it, so every block is labelled by one rule: the leading
    path components it shares with that scope go ('layer1.0.conv1' in 'layer1.0' -> 'conv1'; 'model.cumsum' in
    'model.mask' -> 'cumsum'); a name with nothing after them keeps its last component."""
    if not scope:
        return name
    parts, outer = name.split("."), scope.split(".")
    k = 0
    while k < len(parts) - 1 and k < len(outer) and parts[k] == outer[k]:
        k += 1
    return ".".join(parts[k:])


def fit_title(name: str, kind: str, font: QFont, room: float) -> str:
    """A block's title line, 'name  Type', fitted to `room`: the name loses leading path components first
    ('layer1.0.downsample.1  BatchNorm2d' -> 'downsample.1  BatchNorm2d'; the frame around the block names the
    container), so the distinguishing tail and the type stay readable instead of being elided."""
    if not kind or kind in name:
        return short_name(name, font, room)
    fm = QFontMetricsF(font)
    full = f"{name}  {kind}"
    if fm.horizontalAdvance(full) <= room:
        return full
    return f"{short_name(name, font, room - fm.horizontalAdvance('  ' + kind))}  {kind}"


def frame_fill(theme_background: QColor, foreground: QColor, depth: int) -> QColor:
    """The opaque colour a frame of nesting `depth` shows (its translucent fill over its ancestors' fills)."""
    r, g, b = theme_background.redF(), theme_background.greenF(), theme_background.blueF()
    for level in range(depth + 1):
        a = (10 + 6 * (level % 2)) / 255
        r, g, b = (r + (foreground.redF() - r) * a, g + (foreground.greenF() - g) * a,
                   b + (foreground.blueF() - b) * a)
    return QColor.fromRgbF(r, g, b)


_BADGE_FONT = QFont()
_BADGE_FONT.setPixelSize(11)
_BADGE_FONT.setBold(True)


def _draw_badge(painter: QPainter, rect: QRectF, text: str, kind_: str, lod: float) -> None:
    """A pill across the block's top-right corner: its change against the baseline ('−72 %', 'new'), green when
    it costs less, red when more; enlarged zoomed out as the labels are."""
    font = _BADGE_FONT
    if lod < 0.75:
        font = QFont(_BADGE_FONT)
        font.setPixelSize(min(22, int(11 * 0.75 / max(lod, 1e-3))))
    static, w = _static(text, font)
    h = QFontMetricsF(font).height()
    pill = QRectF(rect.right() - w - 14, rect.top() - h / 2 - 1, w + 10, h + 2)
    painter.setPen(QPen(QColor(255, 255, 255), 1.2))
    painter.setBrush(QBrush(BADGE_COLORS.get(kind_, QColor(90, 90, 90))))
    painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
    painter.setFont(font)
    painter.setPen(QColor(255, 255, 255))
    painter.drawStaticText(QPointF(pill.left() + 5, pill.top() + 1), static)


def _lod_lines(lod: float, full: list[tuple[str, QFont]], fonts: _Fonts, name: str, value: str,
               room: float = 1e9, name_for: Callable[[QFont], str] | None = None) -> list[tuple[str, QFont]]:
    """Level of detail: drop lines before they would render below ~8 px on screen, enlarging what stays (the
    name shortened to its tail to fit `room`, or as `name_for` shortens it in that font)."""
    def fitted(font: QFont) -> str:
        return name_for(font) if name_for is not None else short_name(name, font, room)

    if lod * 11 >= 8:
        return full
    if lod * 22 >= 8:
        return [(fitted(fonts.big), fonts.big), (value, fonts.big)]
    if lod * 34 >= 7:  # (LayerBlockItem.paint skips the labels below this threshold)
        return [(fitted(fonts.huge), fonts.huge)]
    return []


class _CostItem(QGraphicsRectItem):
    """What a layer block and a container frame share: colour, width encoding, selection and label read-out.
    The bounds are the rect item's rect (its C++ boundingRect: Qt asks for it several times per item and paint,
    and a Python override costs a call into Python each time: thousands of blocks per paint); it draws itself."""

    def __init__(self, bounds: QRectF) -> None:
        super().__init__(bounds)
        self.setPen(_NO_PEN)  # (the rect item's bounds grow by half its pen's width otherwise)
        self.color = QColor(150, 150, 150)
        self.width_fraction = 1.0
        self.selected = False
        # no item cache: a recolour repaints the item anyway (a cached pixmap would be redrawn and then copied),
        # and thousands of small pixmaps cost more than they save zoomed out

    def set_selected(self, selected: bool) -> None:
        if selected != self.selected:
            self.selected = selected
            self.update()

    def label_lines(self, scene: DiagramScene) -> list[tuple[str, QFont]]:
        raise NotImplementedError

    def text_lines(self) -> list[str]:
        """The label lines at full detail (also what tests and exports read)."""
        scene = self.scene()
        return [t for t, _ in self.label_lines(scene)] if scene is not None else []


class LayerBlockItem(_CostItem):
    """One layer: a rounded block coloured by the scene's metric; width may encode a second metric."""

    def __init__(self, layer_id: int, row: int) -> None:
        super().__init__(self._BOUNDS)
        self.layer_id = layer_id
        self.row = row
        self.cost: LayerCost | None = None
        self.fallback = ""  # "Type" shown before the first valid costs exist
        self.stale = False  # the row's latest edit is invalid: the block shows its last valid costs
        self.share = ""  # the share of the total the label shows (a repaint only when this or the rest changes)
        self.badge: tuple[str, str] = ("", "")  # (text, kind): '−72 %' less, '+3.1 M' more, 'new'
        self._plan_key: tuple = ()
        self.gen = -1  # the scene's refresh this block shows
        self._plan: _Plan = []
        self.setAcceptHoverEvents(False)  # tooltips come from the view (lazily built, never stale)

    # geometry: the slot is fixed; the painted block is centred in it
    _BOUNDS = QRectF(-3, -10, BLOCK_W + 6, BLOCK_H + 13)  # (the delta badge sits across the top edge)

    def block_rect(self) -> QRectF:
        w = BLOCK_W * self.width_fraction
        return QRectF((BLOCK_W - w) / 2, 0, w, BLOCK_H)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.block_rect())
        return path

    def set_state(self, cost: LayerCost | None, color: QColor, width_fraction: float, stale: bool,
                  share: str = "", quiet: bool = False, badge: tuple[str, str] = ("", "")) -> bool:
        """Recolour/relabel in place (the scene calls this on every report; identity is kept). Repaints only when
        something it shows changed (not when `quiet`: it is being painted); True then. `badge`: (text, kind) of
        its change against a pinned baseline."""
        if (cost is self.cost and color == self.color and width_fraction == self.width_fraction
                and stale == self.stale and share == self.share and badge == self.badge):
            return False
        self.cost, self.color, self.width_fraction, self.stale, self.share = cost, color, width_fraction, stale, share
        self.badge = badge
        if not quiet:
            self.update()
        return True

    def label_lines(self, scene: DiagramScene) -> list[tuple[str, QFont]]:
        return scene.block_lines(self)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scene: DiagramScene = self.scene()  # type: ignore[assignment]
        if self.gen != scene.gen:  # off screen at the last edit: catch up now
            scene.sync_block(self, quiet=True)
        rect = self.block_rect()
        theme = scene.theme
        lod = _lod(painter)
        if lod * BLOCK_H < FAST_PX:  # zoomed out: the colour is all that shows (no antialiasing, no text)
            painter.fillRect(rect, theme.selection if self.selected else self.color)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.selected:
            pen = QPen(theme.selection, 5)
        elif self.stale:
            pen = QPen(theme.selection, 2, Qt.PenStyle.DashLine)
        else:
            pen = QPen(self.color.darker(135), 1)
        _draw_body(painter, rect, self.color, pen, lod)
        if lod * 34 < 7:  # zoomed out past any legible text: the colour is all (skip building the labels)
            return
        # the laid-out labels are kept until what they show or the zoom changes (a recolour keeps them)
        key = (id(self.cost), self.share, self.fallback, text_color_on(self.color).rgba(), rect.width(),
               round(lod, 4), scene.label_key(), scene.name_drops(self))
        if key != self._plan_key:
            self._plan_key, self._plan = key, self._label_plan(scene, rect, lod)
        _draw_plan(painter, self._plan)
        if self.badge[0]:
            _draw_badge(painter, rect, *self.badge, lod)

    def _label_plan(self, scene: DiagramScene, rect: QRectF, lod: float) -> _Plan:
        lines = scene.block_lines(self)
        if not lines:
            return []
        ink = text_color_on(self.color)
        muted = QColor(ink)
        muted.setAlpha(200)
        if self.cost is not None:
            chosen = _lod_lines(lod, lines, scene.fonts, "", lines[-1][0],
                                name_for=lambda font: scene.shown_name(self, font))
        else:
            chosen = _lod_lines(lod, lines, scene.fonts, lines[0][0], lines[-1][0], rect.width() - 8)
        return _line_plan(rect, [(t, f, ink if f is not scene.fonts.small else muted) for t, f in chosen],
                          min_px=7.5 / max(lod, 1e-3))


class GroupFrameItem(_CostItem):
    """A container of the module hierarchy: a titled frame around its children (possibly split over columns),
    or, collapsed, one block coloured by its subtotal."""

    def __init__(self, index: int, node: HierarchyNode) -> None:
        super().__init__(QRectF())
        self.index = index
        self.node = node
        self.collapsed = False
        self.segments: list[QRectF] = []  # frame pieces in item coordinates (one per column it spans)
        self.depth = 0  # nesting among visible frames (z order and inset)
        self.label: tuple = ()
        self.badge: tuple[str, str] = ("", "")  # collapsed: its subtotal's change against a pinned baseline
        self._plan_key: tuple = ()  # collapsed: what `_plan` (its laid-out label) was made for
        self._plan: _Plan = []

    def set_segments(self, segments: list[QRectF]) -> None:
        self.segments = segments
        bounds = QRectF()
        for s in segments:
            bounds = bounds.united(s)
        self.setRect(bounds.adjusted(-4, -10, 4, 4))
        self.update()

    def block_rect(self) -> QRectF:
        """The collapsed block (a slot like a layer block's, at the first segment's origin)."""
        s = self.segments[0] if self.segments else QRectF(0, 0, BLOCK_W, BLOCK_H)
        w = BLOCK_W * self.width_fraction
        return QRectF(s.left() + (BLOCK_W - w) / 2, s.top(), w, BLOCK_H)

    def header_rect(self) -> QRectF:
        s = self.segments[0] if self.segments else QRectF()
        return QRectF(s.left(), s.top(), s.width(), HEADER_H)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.block_rect() if self.collapsed else self.header_rect())
        return path

    def set_state(self, color: QColor, width_fraction: float, label: tuple = ()) -> bool:
        """Recolour in place; `label` is what its text shows (value, share). Repaints only what changed: a frame's
        header (repainting the whole frame would repaint every block inside it), or the collapsed block."""
        if color == self.color and width_fraction == self.width_fraction and label == self.label:
            return False
        width_changed = width_fraction != self.width_fraction
        self.color, self.width_fraction, self.label = color, width_fraction, label
        if self.collapsed:
            self.update(self.block_rect().adjusted(-4, -12, 10, 10) if not width_changed else self.rect())
        else:
            self.update(self.header_rect().adjusted(-4, -4, 4, 4))
        return True

    def label_lines(self, scene: DiagramScene) -> list[tuple[str, QFont]]:
        return scene.group_lines(self)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scene: DiagramScene = self.scene()  # type: ignore[assignment]
        theme = scene.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        lod = _lod(painter, option)
        if self.collapsed:
            rect = self.block_rect()
            # a stacked look says "several layers inside"
            if lod * BLOCK_H < FAST_PX:
                painter.fillRect(rect.translated(5, 5), self.color.darker(115))
                painter.fillRect(rect, theme.selection if self.selected else self.color)
                return
            _draw_body(painter, rect.translated(5, 5), self.color.darker(115), QPen(self.color.darker(150), 1), lod)
            _draw_body(painter, rect, self.color,
                       QPen(theme.selection, 5) if self.selected else QPen(self.color.darker(135), 1), lod)
            ink = text_color_on(self.color)
            # the laid-out labels are kept until what they show, the place or the zoom changes (as a block's)
            scope = scene.structure.scopes.get(self.node.path)
            key = (self.label, self.node.path, self.node.type, len(scope.members) if scope else 0, ink.rgba(),
                   rect.x(), rect.y(), rect.width(), round(lod, 4), scene.label_key())
            if key != self._plan_key:
                lines = scene.group_lines(self)
                name = scene.group_name(self.node.path) if lod < 0.72 else lines[0][0]
                chosen = _lod_lines(lod, lines, scene.fonts, name, lines[-1][0], rect.width() - 8)
                self._plan_key = key
                self._plan = _line_plan(rect, [(t, f, ink) for t, f in chosen], min_px=7.5 / max(lod, 1e-3))
            _draw_plan(painter, self._plan)
            if self.badge[0] and lod * 34 >= 7:
                _draw_badge(painter, rect, *self.badge, lod)
            return
        lines = scene.group_lines(self)
        if self.selected:  # (the frame itself is drawn with the scene's background: draw_frame)
            painter.setPen(QPen(theme.selection, 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for s in self.segments:
                painter.drawRoundedRect(s, 9, 9)
        if not lines:
            return
        self._paint_continued(painter, lod, scene)
        head = self.header_rect().adjusted(8, 2, -8, 0)
        if lod * 12 < 7:
            # zoomed out: the container's name alone, as large as the header allows (the subtotal is in the
            # tooltip, and in the blocks' colours)
            px = min(HEADER_H - 8, 8 / max(lod, 1e-3))
            if lod * px < 5:
                return
            font = QFont(scene.fonts.header)
            font.setPixelSize(int(px))
            painter.setFont(font)
            painter.setPen(theme.foreground)
            fm = QFontMetricsF(font)
            text = fm.elidedText("▾ " + self.node.path, Qt.TextElideMode.ElideMiddle, head.width())
            self._knock_out(painter, QRectF(head.left(), head.center().y() - 1 - fm.height() / 2,
                                            fm.horizontalAdvance(text), fm.height()), theme)
            painter.setPen(theme.foreground)
            painter.drawText(head.adjusted(0, -2, 0, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             text)
            return
        # the header's subtotal swatch uses the same colour map as the blocks
        sw = QRectF(head.left(), head.top() + (HEADER_H - 4 - 14) / 2, 14, 14)
        fm = QFontMetricsF(scene.fonts.header)
        room = head.width() - 20
        text = "▾ " + "  ·  ".join(t for t, _ in lines)
        if fm.horizontalAdvance(text) > room:  # the module type goes first, the subtotal last
            text = f"▾ {scene.group_name(self.node.path)}  ·  {lines[-1][0]}"
        if fm.horizontalAdvance(text) > room:  # then the path's leading parts (the enclosing frame names them)
            tail = f"  ·  {lines[-1][0]}"
            name = short_name(scene.group_name(self.node.path), scene.fonts.header,
                              room - fm.horizontalAdvance('▾ ' + tail))
            text = f"▾ {name}"
            text += tail
        shown = fm.elidedText(text, Qt.TextElideMode.ElideRight, room)
        # an arrow passing under the header never runs through its text
        self._knock_out(painter, QRectF(sw.left(), sw.center().y() - fm.height() / 2,
                                        sw.width() + 5 + fm.horizontalAdvance(shown), fm.height()), theme)
        painter.setPen(QPen(self.color.darker(140), 1))
        painter.setBrush(QBrush(self.color))
        painter.drawRoundedRect(sw, 3, 3)
        painter.setFont(scene.fonts.header)
        painter.setPen(theme.foreground)
        painter.drawText(QRectF(sw.right() + 5, head.top(), head.width() - 20, HEADER_H - 4),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, shown)


    def draw_frame(self, painter: QPainter, theme: Theme) -> None:
        """The expanded frame's fill and outline, in item coordinates. The scene draws these with its background,
        which views cache: the fills are view-sized and would otherwise be blended again under every recoloured
        block. The large translucent fill goes without antialiasing (a jagged corner is invisible at this alpha)."""
        fill = QColor(theme.foreground)
        fill.setAlpha(10 + 6 * (self.depth % 2))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(fill))
        for s in self.segments:
            painter.drawRoundedRect(s, 9, 9)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.frame, 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for s in self.segments:
            painter.drawRoundedRect(s, 9, 9)

    def _knock_out(self, painter: QPainter, rect: QRectF, theme: Theme) -> None:
        """Fill behind header text with the frame's own (opaque) colour: lines under it stop at the text."""
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(frame_fill(theme.background, theme.foreground, self.depth))
        painter.drawRoundedRect(rect.adjusted(-3, -1, 3, 1), 3, 3)
        painter.restore()

    def continued_header_rects(self) -> list[QRectF]:
        """The small header band of each segment after the first (the frame continued in another column)."""
        return [QRectF(s.left(), s.top(), s.width(), CONT_H) for s in self.segments[1:]]

    def _paint_continued(self, painter: QPainter, lod: float, scene: DiagramScene) -> None:
        """'layer1 (cont.)' atop each continued segment, enlarged zoomed out while the band allows."""
        rects = self.continued_header_rects()
        if not rects:
            return
        font = QFont(scene.fonts.cont)
        px = min(CONT_H - 5, max(10.0, 7 / max(lod, 1e-3)))
        if lod * px < 5:
            return
        font.setPixelSize(int(px))
        fm = QFontMetricsF(font)
        painter.setFont(font)
        painter.setPen(scene.theme.muted)
        for r in rects:
            head = r.adjusted(10, 1, -10, 0)
            suffix = " (cont.)"
            name = short_name(self.node.path, font, head.width() - fm.horizontalAdvance(suffix))
            text = fm.elidedText(name + suffix, Qt.TextElideMode.ElideMiddle, head.width())
            painter.drawText(head, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)


class RemovedRowsItem(QGraphicsItem):
    """The pinned baseline's rows the current graph no longer has, as ghost blocks (dashed, unfilled) in a column
    beside the layout: what a rewrite removed stays visible with what it cost."""

    MAX_ROWS = 12
    TITLE_H = 26.0
    ROW_H = 46.0

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, str, str]] = []  # (name, type, cost it took away)
        self._bounds = QRectF()

    def set_rows(self, rows: list[tuple[str, str, str]]) -> None:
        self.prepareGeometryChange()
        self.rows = rows
        n = min(len(rows), self.MAX_ROWS) + (1 if len(rows) > self.MAX_ROWS else 0)
        self._bounds = QRectF(-4, -4, BLOCK_W + 8, self.TITLE_H + n * self.ROW_H + 8)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def text_lines(self) -> list[str]:
        return [f"{name}  {kind_} {value}" for name, kind_, value in self.rows]

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scene: DiagramScene = self.scene()  # type: ignore[assignment]
        theme = scene.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fonts = scene.fonts
        painter.setFont(fonts.header)
        painter.setPen(theme.foreground)
        painter.drawText(QRectF(0, 0, BLOCK_W, self.TITLE_H - 6), Qt.AlignmentFlag.AlignLeft
                         | Qt.AlignmentFlag.AlignVCenter, f"Removed since the baseline ({len(self.rows)})")
        ghost = QColor(theme.foreground)
        ghost.setAlpha(150)
        y = self.TITLE_H
        for name, kind_, value in self.rows[:self.MAX_ROWS]:
            r = QRectF(0, y, BLOCK_W, self.ROW_H - 8)
            painter.setPen(QPen(ghost, 1.2, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(r, 7, 7)
            _draw_lines(painter, r, [(fit_title(name, kind_, fonts.title, BLOCK_W - 8), fonts.title, ghost),
                                     (value, fonts.small, BADGE_COLORS[LESS])])
            y += self.ROW_H
        if len(self.rows) > self.MAX_ROWS:
            painter.setFont(fonts.small)
            painter.setPen(ghost)
            painter.drawText(QRectF(0, y, BLOCK_W, 20), Qt.AlignmentFlag.AlignLeft,
                             f"… and {len(self.rows) - self.MAX_ROWS} more (Compare dock)")


class InputItem(QGraphicsItem):
    """A graph input: a small pill with its name and shape, where the data flow starts."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.text = name
        self.selected = False

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, INPUT_W + 4, INPUT_H + 4)

    def block_rect(self) -> QRectF:
        return QRectF(0, 0, INPUT_W, INPUT_H)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scene: DiagramScene = self.scene()  # type: ignore[assignment]
        theme = scene.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.frame, 1.2))
        painter.setBrush(QBrush(theme.background))
        painter.drawRoundedRect(self.block_rect(), INPUT_H / 2, INPUT_H / 2)
        if _lod(painter, option) * 11 < 5:
            return
        painter.setFont(scene.fonts.small)
        painter.setPen(theme.foreground)
        fm = QFontMetricsF(scene.fonts.small)
        painter.drawText(self.block_rect(), Qt.AlignmentFlag.AlignCenter,
                         fm.elidedText(self.text, Qt.TextElideMode.ElideRight, INPUT_W - 16))


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
        self._labels: list[tuple[float, float, str]] | None = None
        self._label_costs: list[object] = []  # the consumers' records the labels were read from

    def set_routes(self, routes: list[Route], color: QColor, widths: list[float] | None = None) -> None:
        """Routes to draw; their paths are built when first painted (a view shows a few of many pieces), the
        bounds now from the points (a curve between two points stays inside their box)."""
        self.prepareGeometryChange()
        self.routes = routes
        self.widths = widths
        self._labels = None
        self._built = {}
        self.color = color
        xs = [x for r in routes for x, _ in r.points]
        ys = [y for r in routes for _, y in r.points]
        pad = 3.5 + max(widths or (1.4,)) * 1.5 + 2
        self._bounds = QRectF(min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad,
                              max(ys) - min(ys) + 2 * pad) if xs else QRectF()
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
        self.draw(painter, option.exposedRect, self.scene())  # type: ignore[arg-type]

    def draw(self, painter: QPainter, exposed: QRectF, scene: DiagramScene) -> None:
        """Paint the edges (and, zoomed in, their labels) in item coordinates: as an item, or from the scene's
        background (where the view caches them: a recolour of the blocks above does not stroke them again)."""
        lod = _lod(painter)
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
        if self.labels and lod >= 0.9 and scene is not None:
            inverse, ok = painter.worldTransform().inverted()
            device = painter.device()
            seen = inverse.mapRect(QRectF(0, 0, device.width(), device.height())) if ok and device else self._bounds
            self._paint_labels(painter, exposed.intersected(seen), scene)

    def stale_label_rect(self, scene: DiagramScene) -> QRectF:
        """After a new report: the area (item coordinates) of the labels whose text changed, read again only where
        a consumer's record changed (its input shapes are the labels). Empty when none was drawn yet."""
        if self._labels is None:
            return QRectF()
        by_id = scene.document.report.by_id
        if all(by_id.get(r.dst_node) is c for r, c in zip(self.routes, self._label_costs, strict=True)):
            return QRectF()
        old = set(self._labels)
        self._labels = None
        new = set(self._label_list(scene))
        rect = QRectF()
        for x, y, _ in old ^ new:
            rect = rect.united(QRectF(x, y, 160, 20))
        return rect

    def _label_list(self, scene: DiagramScene) -> list[tuple[float, float, str]]:
        """(x, y, text) of each label: one per value, just below where it leaves its producer."""
        if self._labels is None:
            out, done = [], set()
            by_id = scene.document.report.by_id
            self._label_costs = [by_id.get(r.dst_node) for r in self.routes]
            for r in self.routes:
                if len(r.points) < 2:
                    continue
                text = scene.edge_label(r)
                if text and (r.src, text) not in done:
                    done.add((r.src, text))
                    out.append((r.points[0][0], r.points[0][1], text))
            self._labels = out
        return self._labels

    def _paint_labels(self, painter: QPainter, exposed: QRectF, scene: DiagramScene) -> None:
        font = scene.fonts.cont
        painter.setFont(font)
        painter.setPen(scene.theme.muted)
        h = QFontMetricsF(font).height()
        left, right, top, bottom = exposed.left(), exposed.right(), exposed.top(), exposed.bottom()
        for x, y, text in self._label_list(scene):
            if not (left <= x <= right and top <= y + 8 <= bottom):
                continue
            static, w = _static(text, font)
            painter.fillRect(QRectF(x + 5, y + 3, w + 6, h), scene.theme.background)
            painter.drawStaticText(QPointF(x + 8, y + 3), static)


def _short(points: list[Point], horizontal: bool = False) -> Point:
    """The last point, pulled back under the arrowhead (a line end would poke through its tip)."""
    x, y = points[-1]
    if horizontal:
        return (x - 4, y) if len(points) > 1 and abs(points[-2][1] - y) < 0.5 else (x, y)
    return (x, y - 4) if len(points) > 1 and abs(points[-2][0] - x) < 0.5 else (x, y)
