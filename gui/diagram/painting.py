"""Drawing helpers the diagram's items share: level of detail, text fitted and laid out once (static text), block
bodies copied from cached pixmaps, the baseline badge, and a frame's opaque fill."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPaintEngine, QPainter, QPen, QPixmap, QStaticText
from PySide6.QtWidgets import QGraphicsView, QStyleOptionGraphicsItem

from netcost.gui.common.on_screen import out_of_sight
from netcost.gui.diagram.names import short_name
from netcost.gui.diagram.style import BADGE_COLORS, DiagramFonts


def lod_of(painter: QPainter, option: QStyleOptionGraphicsItem | None = None) -> float:
    """Scene-to-device scale (views and exports scale and translate the scene, never rotate it)."""
    return abs(painter.worldTransform().m11())


def render_scale(painter: QPainter, target: QRectF, source: QRectF, mode: Qt.AspectRatioMode) -> float:
    """The scene-to-device scale QGraphicsScene.render draws `source` (not null) at into `target` (null: the
    painter's device), as `lod_of` reads it while painting; 0 for an empty source."""
    if source.width() <= 0 or source.height() <= 0:
        return 0.0
    device = painter.device()
    tgt = QRectF(target) if not target.isNull() else QRectF(0, 0, device.width(), device.height()) \
        if device is not None else source
    sx, sy = tgt.width() / source.width(), tgt.height() / source.height()
    s = sx if mode == Qt.AspectRatioMode.IgnoreAspectRatio else \
        max(sx, sy) if mode == Qt.AspectRatioMode.KeepAspectRatioByExpanding else min(sx, sy)
    return abs(painter.worldTransform().m11()) * s


def viewed_rect(views: list[QGraphicsView]) -> QRectF | None:
    """The scene area `views` show (None without a view: exports and tests read every item)."""
    if not views:
        return None
    seen = QRectF()
    for v in views:
        if not out_of_sight(v):
            seen = seen.united(v.mapToScene(v.viewport().rect()).boundingRect().adjusted(-20, -20, 20, 20))
    return seen


FAST_PX = 11.0  # a block drawn smaller than this on screen is a plain filled rect: corners and text would not show


Plan = list[tuple[QPointF, QStaticText, QFont, QColor]]


def line_plan(rect: QRectF, lines: list[tuple[str, QFont, QColor]], min_px: float = 0.0) -> Plan:
    """Where each centred line goes, each shrunk (down to `min_px` scene pixels) and then elided to fit the rect's
    width, laid out as static text."""
    room = rect.width() - 8
    fitted = [(*_fit(text, font, room, min_px), color) for text, font, color in lines]
    y = rect.center().y() - sum(h for _, _, h, _ in fitted) / 2
    left = rect.left() + 4
    plan = []
    for text, font, h, color in fitted:
        static, w = static_text(text, font)
        plan.append((QPointF(left + (room - w) / 2, y), static, font, color))
        y += h
    return plan


def draw_plan(painter: QPainter, plan: Plan) -> None:
    for at, static, font, color in plan:
        painter.setFont(font)
        painter.setPen(color)
        painter.drawStaticText(at, static)


def draw_lines(painter: QPainter, rect: QRectF, lines: list[tuple[str, QFont, QColor]], min_px: float = 0.0
                ) -> None:
    draw_plan(painter, line_plan(rect, lines, min_px))


_BODIES: dict[tuple, QPixmap] = {}
_RASTER, _SOLID = QPaintEngine.Type.Raster, Qt.PenStyle.SolidLine  # (looked up once: enum access is slow)


def draw_body(painter: QPainter, rect: QRectF, color: QColor, pen: QPen, scale: float, radius: float = 7.0) -> None:
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


def static_text(text: str, font: QFont) -> tuple[QStaticText, float]:
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


_FIGURE = re.compile(r"[−-]?\d[\d.,]*(?: [^\s·]+)*")  # '29.0 MFLOPs', '61.3 M params', '233.7 MiB' (not '0  Conv2d')
_PREFIXES = "kKMGTPE"


def figure_forms(text: str) -> list[str]:
    """Shorter whole forms of a figure, longest first ('29.0 MFLOPs' -> '29.0 M', '29 M': the colour bar names
    the unit); [] for text that is not a figure. A figure that fits none of them is left out, never cut."""
    if not _FIGURE.fullmatch(text):
        return []
    number, _, unit = text.partition(" ")
    if len(unit) > 3:  # 'MFLOPs', 'M params' -> 'M'; a short unit ('MiB', 'µs') is kept whole
        unit = unit[0] if unit[0] in _PREFIXES and unit[1:2] != "i" else ""
    whole = number.split(".")[0] if "." in number else number
    rounded = str(round(float(number.replace(",", "").replace("−", "-")))) if "." in number else whole
    forms = [f"{n} {unit}".rstrip() for n in (number, rounded)]
    return [f for i, f in enumerate(forms) if f != text and f not in forms[:i]]


def _fit(text: str, font: QFont, room: float, min_px: float) -> tuple[str, QFont, float]:
    """`text` fitted to `room` (trailing ' · ' parts dropped, then shrunk to `min_px`, then elided; a figure takes
    a shorter whole form or is left out instead: a cut number reads as another number), its font and line height.
    Remembered: most labels repaint unchanged (measuring text is most of a block's paint)."""
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
    if fm.horizontalAdvance(text) > room and _FIGURE.fullmatch(text):
        text = next((f for f in figure_forms(text) if fm.horizontalAdvance(f) <= room), "")
    if len(_FITTED) > 20000:
        _FITTED.clear()
    hit = _FITTED[key] = (fm.elidedText(text, Qt.TextElideMode.ElideRight, room), font, fm.height())
    return hit


def fit_header(name: str, figure: str, font: QFont, room: float) -> str:
    """An open frame's header line '▾ name  ·  figure' in `room`: the name loses its leading path parts (the
    enclosing frame names them), then is elided; the figure loses its share, then takes a shorter whole form,
    and is left out rather than cut."""
    fm = QFontMetricsF(font)
    figures = [figure, *([figure.rsplit(" · ", 1)[0]] if " · " in figure else [])]
    figures += figure_forms(figures[-1])
    for fig in figures:  # the longest figure that leaves the name a few letters
        tail = f"  ·  {fig}"
        name_room = room - fm.horizontalAdvance("▾ " + tail)
        if name_room >= fm.horizontalAdvance("mmm…"):
            break
    else:
        tail, name_room = "", room - fm.horizontalAdvance("▾ ")
    shown = fm.elidedText(short_name(name, font, name_room), Qt.TextElideMode.ElideRight, max(name_room, 0.0))
    return f"▾ {shown}{tail}"


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


def draw_badge(painter: QPainter, rect: QRectF, text: str, kind_: str, lod: float) -> None:
    """A pill across the block's top-right corner: its change against the baseline ('−72 %', 'new'), green when
    it costs less, red when more; enlarged zoomed out as the labels are."""
    font = _BADGE_FONT
    if lod < 0.75:
        font = QFont(_BADGE_FONT)
        font.setPixelSize(min(22, int(11 * 0.75 / max(lod, 1e-3))))
    static, w = static_text(text, font)
    h = QFontMetricsF(font).height()
    pill = QRectF(rect.right() - w - 14, rect.top() - h / 2 - 1, w + 10, h + 2)
    painter.setPen(QPen(QColor(255, 255, 255), 1.2))
    painter.setBrush(QBrush(BADGE_COLORS.get(kind_, QColor(90, 90, 90))))
    painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
    painter.setFont(font)
    painter.setPen(QColor(255, 255, 255))
    painter.drawStaticText(QPointF(pill.left() + 5, pill.top() + 1), static)


def lod_lines(lod: float, full: list[tuple[str, QFont]], fonts: DiagramFonts, name: str, value: str,
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

