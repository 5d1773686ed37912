"""`SweepChart`: MACs (total, attention's QKᵀ/AV, the rest), activation memory and params against the input size,
three plots side by side, on log axes where the sizes double (tokens), with the size at which attention's
quadratic term overtakes everything else marked.

The chart only draws a `costing.sweep` series handed to it (`set_sweep`); items are created once and updated with
`setData`, so a sweep that arrives point by point redraws in place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QWidget

from netcost.costing import formatting as fmt
from netcost.costing.sweep import SweepAxis, SweepPoint
from netcost.gui.charts.si_axis import SIAxis
from netcost.gui.common.cost_colors import CATEGORY_COLORS, Theme
from netcost.gui.common.palette import palette_is_dark

MAX_X_TICKS = 9
TICK_GAP_PX = 10  # between two x tick labels: "128256512" read as one number


def size_text(size: float, axis: SweepAxis | None) -> str:
    """`224`, `1k`, `32k` (token counts are powers of two: 1,024 reads as 1k)."""
    n = int(round(size))
    if axis is not None and axis.unit == "tokens" and n >= 1024 and n % 1024 == 0:
        return f"{n // 1024}k"
    if axis is not None and axis.unit == "tokens" and n >= 1000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n:,}"


def round_2(x: float) -> float:
    """Two significant digits (an interpolated crossover is no more precise than that)."""
    if x <= 0:
        return x
    e = math.floor(math.log10(x)) - 1
    return round(x / 10 ** e) * 10 ** e


class SweepChart(pg.GraphicsLayoutWidget):
    def __init__(self, parent: QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self.theme = Theme.of(palette_is_dark() if dark is None else dark)
        self._follow_palette = dark is None  # on screen it follows the colour scheme; exports fix it
        self.axis: SweepAxis | None = None
        self.points: list[SweepPoint] = []
        self.crossover: float | None = None
        self.setMinimumSize(320, 180)
        self.plots: dict[str, pg.PlotItem] = {}
        self._xs: list[float] = []
        self._log_x = False
        # the MACs key in a row of its own under the plots: inside a 300 px plot it covered the curves
        self.legend = pg.LegendItem(labelTextSize="8pt", colCount=3)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._colors: dict[str, object] = {}  # curve -> its colour (None: the palette's ink)
        attention, rest = CATEGORY_COLORS["attention"], CATEGORY_COLORS["conv"]
        specs = (("macs", "MACs", False, (("total", None, "total"), ("other", rest, "all but attention"),
                                         ("attention", attention, "attention (QKᵀ, AV)"))),
                 ("memory", "Activation memory", True, (("memory", CATEGORY_COLORS["norm"], "forward"),)),
                 ("params", "Params", False, (("params", CATEGORY_COLORS["linear"], "params"),)))
        for col, (key, title, is_bytes, curves) in enumerate(specs):
            plot = self.addPlot(row=0, col=col, axisItems={"left": SIAxis("left", is_bytes=is_bytes)})
            plot.getAxis("left").setWidth(74)  # room for "476.8 MiB": pyqtgraph drops labels that do not fit
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getViewBox().setMouseEnabled(False, False)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setTitle(title)
            self.plots[key] = plot
            for ckey, color, name in curves:
                curve = plot.plot([], [], symbol="o", symbolSize=5)
                if len(curves) > 1:
                    self.legend.addItem(curve, name)
                self._colors[ckey] = color
                self.curves[ckey] = curve
        self.addItem(self.legend, row=1, col=0, colspan=len(specs))
        self.cross_line = pg.InfiniteLine(angle=90, movable=False)
        self.cross_label = pg.TextItem(anchor=(0.0, 0.0))
        self.plots["macs"].addItem(self.cross_line, ignoreBounds=True)
        self.plots["macs"].addItem(self.cross_label, ignoreBounds=True)
        self.apply_theme()
        self._redraw()

    def set_dark(self, dark: bool) -> None:
        """Explicit palette (exports); the chart stops following the application palette."""
        self._follow_palette = False
        self._set_theme(dark)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if getattr(self, "_follow_palette", False) and event.type() in (QEvent.Type.PaletteChange,
                                                                        QEvent.Type.ApplicationPaletteChange):
            self._set_theme(palette_is_dark(self.palette()))
        super().changeEvent(event)

    def _set_theme(self, dark: bool) -> None:
        if dark != self.theme.dark:
            self.theme = Theme.of(dark)
            self.apply_theme()
            self._redraw()

    def apply_theme(self) -> None:
        t = self.theme
        self.setBackground(t.background)
        for plot in self.plots.values():
            plot.setTitle(plot.titleLabel.text, color=t.foreground.name(), size="10pt")
            font = QFont()
            font.setPixelSize(10)
            for name in ("left", "bottom"):
                ax = plot.getAxis(name)
                ax.setPen(pg.mkPen(t.muted))
                ax.setTextPen(pg.mkPen(t.foreground))
                ax.setTickFont(font)
        for ckey, curve in self.curves.items():
            color = self._colors.get(ckey) or t.foreground
            curve.setPen(pg.mkPen(color, width=2))
            curve.setSymbolBrush(pg.mkBrush(color))
            curve.setSymbolPen(pg.mkPen(color))
        self.legend.setBrush(pg.mkBrush(t.background.red(), t.background.green(), t.background.blue(), 215))
        self.legend.setPen(pg.mkPen(t.frame))
        self.legend.setLabelTextColor(t.foreground)
        self.cross_line.setPen(pg.mkPen(CATEGORY_COLORS["attention"], width=1.5, style=Qt.PenStyle.DashLine))

    # ---- data ----------------------------------------------------------------------------------------------
    def set_sweep(self, axis: SweepAxis | None, points: Sequence[SweepPoint], crossover: float | None) -> None:
        self.axis, self.points, self.crossover = axis, list(points), crossover
        self._redraw()

    def log_x(self) -> bool:
        """Log x when the sizes span more than a factor of 4 (doubling token counts); a 224 -> 512 px sweep
        reads better on a linear axis."""
        ok = [p.size for p in self.points if p.ok]
        return len(ok) >= 2 and max(ok) / min(ok) > 4

    def _redraw(self) -> None:
        ok = [p for p in self.points if p.ok]
        xs = [float(p.size) for p in ok]
        log_x = self.log_x()
        series = {"total": [p.macs for p in ok], "other": [p.other_macs for p in ok],
                  "attention": [p.attention_macs for p in ok], "memory": [p.activation_bytes for p in ok],
                  "params": [p.params for p in ok]}
        has_attention = any(series["attention"])
        for key, values in series.items():
            shown = key not in ("other", "attention") or has_attention
            pts = [(x, float(v)) for x, v in zip(xs, values, strict=True) if v > 0]  # a log axis has no zero
            self.curves[key].setData([x for x, _ in pts], [v for _, v in pts])
            self.curves[key].setVisible(shown)
        self.legend.setVisible(has_attention)
        # the legend's row takes no height while it is hidden
        self.ci.layout.setRowMaximumHeight(1, 1e6 if has_attention else 0)
        label = self.axis.label if self.axis is not None else "input size"
        unit = f" ({self.axis.unit})" if self.axis is not None and self.axis.unit else ""
        self._xs, self._log_x = xs, log_x
        spans = {"macs": series["total"] + (series["attention"] if has_attention else []),
                 "memory": series["memory"], "params": series["params"]}
        for key, plot in self.plots.items():
            values = [v for v in spans[key] if v > 0]
            log_y = bool(values) and max(values) > 10 * min(values)  # a flat line reads better on a linear axis
            plot.setLogMode(x=log_x, y=log_y)
            plot.enableAutoRange(x=True)
            # explicit y ranges: a switch to log mode would otherwise read the linear range as exponents
            if values and log_y:
                plot.setYRange(math.log10(min(values)) - 0.15, math.log10(max(values)) + 0.15, padding=0)
            elif values:  # from zero: a constant (params of a CNN) is a flat line, not noise
                plot.setYRange(0, max(values) * 1.12, padding=0)
            plot.setLabel("bottom", label + unit, color=self.theme.foreground.name(), **{"font-size": "9pt"})
        c = self.crossover
        self.cross_line.setVisible(c is not None)
        self.cross_label.setVisible(c is not None)
        if c is not None:
            x = math.log10(c) if log_x else c
            self.cross_line.setValue(x)
            self.cross_label.setText(f" attention > rest \n from ≈ {size_text(round_2(c), self.axis)} ",
                                     color=CATEGORY_COLORS["attention"].darker(110))
        self._fit_to_width()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_to_width()

    def _fit_to_width(self) -> None:
        """What depends on the plots' width in pixels: how many x labels fit, and on which side of the crossover
        line its note has room (at the bottom, below the curves there)."""
        if not hasattr(self, "cross_label") or getattr(self, "closed", False):  # being built, or its scene cleared
            return
        for plot in self.plots.values():
            axis = plot.getAxis("bottom")
            ticks = self._x_ticks(self._xs, self._log_x, axis.geometry().width(), QFontMetrics(axis.style.get(
                "tickFont") or QFont()))
            axis.setTicks([ticks] if ticks else None)
        if self.crossover is None:
            return
        box = self.plots["macs"].getViewBox()
        (x0, x1), (y0, y1) = box.viewRange()
        x = self.cross_line.value()
        px, _ = box.viewPixelSize()
        text_w = self.cross_label.boundingRect().width()  # pixels: the note ignores the axes' scale
        # MACs rise with the size: below the curves right of the line, else above them left of it (both empty)
        if px > 0 and (x1 - x) / px >= text_w:
            self.cross_label.setAnchor((0.0, 1.0))
            self.cross_label.setPos(x, y0)
        else:
            self.cross_label.setAnchor((1.0, 0.0))
            self.cross_label.setPos(x, y1)

    def _x_ticks(self, xs: list[float], log_x: bool, width: float = 0.0,
                 fm: QFontMetrics | None = None) -> list[tuple[float, str]]:
        """At most MAX_X_TICKS sizes, every n-th, with n as small as lets no two labels overlap in `width`
        pixels (the last size always labelled)."""
        if not xs:
            return []
        pos = [math.log10(x) if log_x else x for x in xs]
        labels = [size_text(x, self.axis) for x in xs]
        step = max(1, math.ceil(len(xs) / MAX_X_TICKS))
        if width > 0 and fm is not None and len(xs) > 1 and pos[-1] > pos[0]:
            px = width / (pos[-1] - pos[0]) * 0.9  # the auto range pads the data by a few percent
            while step < len(xs) and not _apart([i for i in _every(len(xs), step)], pos, labels, px, fm):
                step += 1
        return [(pos[i], labels[i]) for i in _every(len(xs), step)]

    def hover_text(self, size: int) -> str:
        """The read-out of the point at `size` (tests and tooltips)."""
        p = next((q for q in self.points if q.size == size), None)
        if p is None:
            return ""
        if not p.ok:
            return f"{size_text(size, self.axis)}: not costed ({p.error})"
        return (f"{size_text(size, self.axis)}: {fmt.si(p.macs)} MACs ({fmt.si(p.attention_macs)} in attention), "
                f"{fmt.nbytes(p.activation_bytes)} activations, {fmt.si(p.params)} params")


def _every(n: int, step: int) -> list[int]:
    """Every `step`-th index from the first, the last always included (it replaces the one before it when the
    two would be closer than a step)."""
    chosen = list(range(0, n, step))
    if chosen[-1] != n - 1:
        if len(chosen) > 1 and n - 1 - chosen[-1] < step:
            chosen[-1] = n - 1
        else:
            chosen.append(n - 1)
    return chosen


def _apart(chosen: list[int], pos: list[float], labels: list[str], px: float, fm: QFontMetrics) -> bool:
    """No two of the chosen labels, centred on their ticks, closer than TICK_GAP_PX."""
    for a, b in zip(chosen, chosen[1:], strict=False):
        half = (fm.horizontalAdvance(labels[a]) + fm.horizontalAdvance(labels[b])) / 2
        if (pos[b] - pos[a]) * px < half + TICK_GAP_PX:
            return False
    return True
