"""`ColorBarWidget`: the diagram's legend — the colour map's gradient with tick values in the metric's units, the
'none' swatch, and what block width encodes; painted on screen and, as vectors, into exports and report pages."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize
from PySide6.QtGui import QFont, QFontMetricsF, QLinearGradient, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QWidget

from netcost.gui.common.cost_colors import METRICS, SCALES, ZERO_COLOR, CostScale, Theme, gradient_stops
from netcost.gui.diagram.scene import DiagramScene


class ColorBarWidget(QWidget):
    """The colour bar of the shared map: gradient, tick values with units, the 'none' swatch, and what block width
    encodes. Renderable on its own (exports call `render`)."""

    def __init__(self, scene: DiagramScene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.setMinimumHeight(58)
        # each of these can change the captions' length: the height is fitted again (a pinned baseline adds
        # "badges: change vs the baseline", a second line at 1280 px whose tick labels were cut otherwise)
        scene.settingsChanged.connect(self._refit)
        scene.document.baselineChanged.connect(self._refit)
        scene.document.scaleChanged.connect(self._refit)
        scene.document.conventionChanged.connect(self._refit)

    def sizeHint(self) -> QSize:
        return QSize(640, 58)

    def title(self) -> str:
        s = self.scene
        if s.scale.mode == "share":
            return f"Colour: {s.metric_title()}, cumulative share held by the layers at or below each colour"
        doc = s.document
        if doc.baseline_report is None:
            return f"Colour: {s.metric_title()} per layer ({SCALES[s.scale.mode]})"
        fixed = ", fixed to the baseline" if doc.scale_fixed else ""
        return f"Colour: {s.metric_title()} per layer ({SCALES[s.scale.mode]}{fixed}); badges: change vs the baseline"

    def width_note(self) -> str:
        s = self.scene
        if not s.width_metric or s.width_max <= 0:
            return "Block width: uniform"
        return (f"Block width: {METRICS[s.width_metric].name.lower()} "
                f"(half width = 0, full = {s.format_value(s.width_max, s.width_metric)})")

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        self.paint_to(painter, QRectF(self.rect()), self.scene.theme)
        painter.end()

    def paint_to(self, painter: QPainter, rect: QRectF, theme: Theme) -> None:
        """Draw the legend into any painter (the widget, or an export page). The caller's painter stays active and
        its state (pen, font, hints, transform) is as it was: this never ends or reconfigures someone else's
        painter."""
        painter.save()
        try:
            self._paint_legend(painter, rect, theme)
        finally:
            painter.restore()

    @staticmethod
    def _font(base: QFont) -> QFont:
        font = QFont(base)
        font.setPixelSize(12)
        return font

    def caption_rects(self, rect: QRectF) -> list[tuple[str, QRectF]]:
        """Where the captions go: the title left and the width note right on one line when both fit, else the
        note on a line of its own and the title wrapped between words. They never overlap."""
        fm = QFontMetricsF(self._font(self.font()))
        left, top, width = rect.left() + 10, rect.top() + 4, max(rect.width() - 20, 1.0)
        title, note = self.title(), self.width_note()
        line_h = fm.height()
        tw, nw = fm.horizontalAdvance(title), fm.horizontalAdvance(note)
        if tw + 24 + nw <= width:
            return [(title, QRectF(left, top, tw, line_h)), (note, QRectF(left + width - nw, top, nw, line_h))]
        out: list[tuple[str, QRectF]] = []
        for line in [*_wrap_words(title, fm, width), *_wrap_words(note, fm, width)]:
            out.append((line, QRectF(left, top, min(fm.horizontalAdvance(line), width), line_h)))
            top += line_h
        return out

    def legend_height(self, width: float) -> float:
        """The height the legend needs at `width`: 58 px, one caption line more per extra row of captions."""
        fm = QFontMetricsF(self._font(self.font()))
        rows = len({round(r.top()) for _, r in self.caption_rects(QRectF(0, 0, width, 58))})
        return 58.0 + (rows - 1) * fm.height()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._refit()

    def _refit(self, *_: object) -> None:
        self.setMinimumHeight(round(self.legend_height(self.width())))
        self.update()

    def _paint_legend(self, painter: QPainter, rect: QRectF, theme: Theme) -> None:
        scale: CostScale = self.scene.scale
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(rect, theme.background)
        font = self._font(self.font())
        painter.setFont(font)
        fm = QFontMetricsF(font)
        painter.setPen(theme.foreground)
        captions = self.caption_rects(rect)
        for text, r in captions:
            painter.drawText(QPointF(r.left(), r.top() + fm.ascent()), text)
        left, top = rect.left() + 10, max(r.bottom() for _, r in captions) - fm.height()
        bar_top = top + fm.height() + 4
        # "none" swatch: layers without the metric are grey, not the cheapest colour
        sw = QRectF(left, bar_top, 16, 14)
        painter.fillRect(sw, ZERO_COLOR)
        painter.drawText(QPointF(sw.right() + 4, bar_top + 11), "0")
        bar = QRectF(sw.right() + 24, bar_top, rect.width() - (sw.right() + 24 - rect.left()) - 40, 14)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for t, c in gradient_stops():
            grad.setColorAt(t, c)
        painter.fillRect(bar, grad)
        painter.setPen(QPen(theme.muted, 1))
        painter.drawRect(bar)
        painter.setPen(theme.foreground)
        last_right = -1e9
        for t, text in scale.labelled_ticks(self.scene.format_value):
            x = bar.left() + t * bar.width()
            w = fm.horizontalAdvance(text)
            tx = min(max(x - w / 2, bar.left() - 6), bar.right() + 30 - w)
            if tx < last_right + 8:
                continue  # labels never overlap
            painter.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 4))
            painter.drawText(QPointF(tx, bar.bottom() + 4 + fm.ascent()), text)
            last_right = tx + w


def _wrap_words(text: str, fm: QFontMetricsF, width: float) -> list[str]:
    """`text` in lines of at most `width`, broken between words (a word longer than a line keeps its own line)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and fm.horizontalAdvance(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current] if current else lines
