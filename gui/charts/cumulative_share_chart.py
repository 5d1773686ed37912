"""`CumulativeShareChart`: layers sorted by cost, the cumulative % of FLOPs and of params, with the 80 % line and
how many layers it takes to reach it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

from netcost.costing import CostReport
from netcost.costing.formatting import percent
from netcost.gui.charts.chart_base import ChartBase

FLOPS_COLOR = QColor("#5B3C9E")  # not category colours: these curves span every category
PARAMS_COLOR = QColor("#2E9E6A")
TARGET = 80.0
MAX_MARKERS = 80  # layers up to which each point of the curves gets a marker


class CumulativeShareChart(ChartBase):
    title = "How few layers hold most of the cost"
    of_total = True

    def _build(self) -> None:
        self.flops_curve = pg.PlotDataItem(stepMode=None)
        self.params_curve = pg.PlotDataItem()
        self.plot_item.addItem(self.flops_curve)
        self.plot_item.addItem(self.params_curve)
        # its label at the right end, where the curves have long risen past the line (at the left they cross it)
        self.target_line = pg.InfiniteLine(pos=TARGET, angle=0, movable=False,
                                           label="80 %", labelOpts={"position": 0.94})
        self.flops_marker = pg.InfiniteLine(angle=90, movable=False, label=" ", labelOpts={"position": 0.55})
        self.params_marker = pg.InfiniteLine(angle=90, movable=False, label=" ", labelOpts={"position": 0.45})
        for item in (self.target_line, self.flops_marker, self.params_marker):
            self.plot_item.addItem(item)
        self._highlight = pg.ScatterPlotItem(size=14)
        self._highlight.setZValue(5)
        self.plot_item.addItem(self._highlight)
        self.flops_order = np.zeros(0, dtype=int)  # report layer indices, most expensive first
        self.params_order = np.zeros(0, dtype=int)
        self.flops_cum = np.zeros(0)
        self.params_cum = np.zeros(0)
        self.flops_count = 0  # layers needed to reach 80 %
        self.params_count = 0
        self._legend_key = ""
        self._style_key: tuple = ()
        self.plot_item.getViewBox().sigResized.connect(self._place_labels)  # label sizes are in pixels

    def _update(self, report: CostReport) -> None:
        f = self.flops_field
        layers = report.layers
        flops = np.array([report.share(c, f) * 100 for c in layers], dtype=float)
        params = np.array([report.share(c, "params") * 100 for c in layers], dtype=float)
        self.flops_order = np.argsort(-flops, kind="stable")
        self.params_order = np.argsort(-params, kind="stable")
        self.flops_cum = np.cumsum(flops[self.flops_order])
        self.params_cum = np.cumsum(params[self.params_order])
        self._names = [c.name for c in layers]
        n = len(layers)
        x = np.arange(0, n + 1, dtype=float)  # x = number of layers taken, starting from none
        fy, py = np.concatenate([[0.0], self.flops_cum]), np.concatenate([[0.0], self.params_cum])
        style_key = (n <= MAX_MARKERS, self.flops_label)
        if style_key != self._style_key:  # styles only change with the convention or a much longer model
            self._style_key = style_key
            marks = n <= MAX_MARKERS  # a dot per layer helps on AlexNet, turns a long model's curve into a smear
            self.flops_curve.setData(x, fy, pen=pg.mkPen(FLOPS_COLOR, width=2.5), symbol="o" if marks else None,
                                     symbolSize=4, symbolBrush=FLOPS_COLOR, symbolPen=None,
                                     name=f"cumulative % {self.flops_label}")
            self.params_curve.setData(x, py, pen=pg.mkPen(PARAMS_COLOR, width=2.5, style=Qt.PenStyle.DashLine),
                                      symbol="s" if marks else None, symbolSize=4, symbolBrush=PARAMS_COLOR,
                                      symbolPen=None, name="cumulative % params")
        else:
            self.flops_curve.setData(x, fy)
            self.params_curve.setData(x, py)
        self.flops_count = self._reach(self.flops_cum)
        self.params_count = self._reach(self.params_cum)
        ink = self.theme.foreground
        for line, count, color, what in ((self.flops_marker, self.flops_count, FLOPS_COLOR, self.flops_label),
                                         (self.params_marker, self.params_count, PARAMS_COLOR, "params")):
            # visibility first: pyqtgraph's InfLineLabel ignores setFormat while hidden (it kept "0 of 0 layers")
            line.setVisible(count > 0)
            line.setPos(count)
            line.setPen(pg.mkPen(color, width=1.2, style=Qt.PenStyle.DotLine))
            line.label.setFormat(f"{count} of {n} layers: 80 % of {what}")
            line.label.setColor(color if not self.theme.dark else color.lighter(150))
        self.target_line.setPen(pg.mkPen(self.theme.muted, width=1, style=Qt.PenStyle.DashLine))
        self.target_line.label.setColor(ink)
        self.plot_item.setXRange(0, max(n, 1), padding=0.02)
        self.plot_item.setYRange(0, 102, padding=0)
        self.set_axis_label("bottom", "number of layers, most expensive first")
        self.set_axis_label("left", "cumulative % of model total")
        key = f"{self.flops_label}|{self.theme.dark}"
        if key != self._legend_key:  # curves carry their names; re-add only when the convention changes
            self._legend_key = key
            self.legend.clear()
            self.legend.addItem(self.flops_curve, f"cumulative % {self.flops_label}")
            self.legend.addItem(self.params_curve, "cumulative % params")
        self._place_labels()

    # ---- the "N of M layers" labels: beside their marker, clear of both curves, the legend and each other ----
    def label_boxes(self) -> list[tuple[float, float, float, float]]:
        """Data-space boxes (x0, x1, y0, y1) of the visible marker labels (tests check they overlap nothing)."""
        boxes = []
        for line in (self.flops_marker, self.params_marker):
            if line.isVisible():
                boxes.append(self._label_box(line, line.label.orthoPos))
        return boxes

    def _label_box(self, line: pg.InfiniteLine, position: float) -> tuple[float, float, float, float]:
        vb = self.plot_item.getViewBox()
        (x_lo, x_hi), (y_lo, y_hi) = vb.viewRange()
        w_px, h_px = max(vb.width(), 120.0), max(vb.height(), 90.0)
        text = line.label.boundingRect()
        px, py = (x_hi - x_lo) / w_px, (y_hi - y_lo) / h_px  # data units per pixel
        wd, hd = text.width() * px, text.height() * py
        x, yc = line.value(), y_lo + position * (y_hi - y_lo)
        right = x < (x_lo + x_hi) / 2  # InfLineLabel puts the text on the roomier side of its line
        x0, x1 = (x, x + wd) if right else (x - wd, x)
        return x0 - 6 * px, x1 + 6 * px, yc - hd / 2 - 4 * py, yc + hd / 2 + 4 * py  # a little air around it

    def _hits_curves(self, box: tuple[float, float, float, float]) -> bool:
        x0, x1, y0, y1 = box
        for cum in (self.flops_cum, self.params_cum):
            ys = np.concatenate([[0.0], cum])
            xs = np.arange(len(ys), dtype=float)
            lo, hi = np.interp([max(x0, 0.0), min(x1, xs[-1])], xs, ys)  # cumulative curves only rise
            if not (hi < y0 or lo > y1):
                return True
        return False

    def _legend_box(self) -> tuple[float, float, float, float] | None:
        if not self.legend.isVisible():
            return None
        vb = self.plot_item.getViewBox()
        r = vb.mapSceneToView(self.legend.sceneBoundingRect()).boundingRect()
        return r.left(), r.right(), min(r.top(), r.bottom()), max(r.top(), r.bottom())

    def _place_labels(self, *args: object) -> None:
        placed: list[tuple[float, float, float, float]] = []
        legend = self._legend_box()
        if legend is not None:
            placed.append(legend)
        placed.append((-1e9, 1e9, TARGET - 1.0, TARGET + 1.0))  # the 80 % line and its label
        candidates = (0.55, 0.45, 0.35, 0.65, 0.25, 0.72, 0.15, 0.5, 0.4, 0.3, 0.2, 0.6, 0.1)
        for line, default in ((self.flops_marker, 0.55), (self.params_marker, 0.45)):
            if not line.isVisible():
                continue
            best = default
            others = [(m.value() - 0.01, m.value() + 0.01, -1e9, 1e9) for m in (self.flops_marker, self.params_marker)
                      if m is not line and m.isVisible()]  # the other marker's line
            for avoid in (placed + others, placed):  # clear of the other marker's line too, if there is room
                fits = [p for p in candidates if not self._hits_curves(self._label_box(line, p))
                        and not any(_overlap(self._label_box(line, p), o) for o in avoid)]
                if fits:
                    best = fits[0]
                    break
            line.label.setPosition(best)
            placed.append(self._label_box(line, best))

    @staticmethod
    def _reach(cum: np.ndarray) -> int:
        hit = np.nonzero(cum >= TARGET - 1e-9)[0]
        return int(hit[0]) + 1 if len(hit) else 0

    def _show_selection(self, indices: list[int]) -> None:
        xs, ys, brushes = [], [], []
        for i in indices:
            for order, cum, color in ((self.flops_order, self.flops_cum, FLOPS_COLOR),
                                      (self.params_order, self.params_cum, PARAMS_COLOR)):
                hit = np.nonzero(order == i)[0]
                if len(hit):
                    rank = int(hit[0])
                    xs.append(rank + 1.0)
                    ys.append(float(cum[rank]))
                    brushes.append(color)
        self._highlight.setData(x=xs, y=ys, brush=brushes, pen=pg.mkPen(self.theme.selection, width=3))

    def _rank_at(self, p: QPointF) -> int | None:
        k = round(p.x())
        return k if 1 <= k <= len(self.flops_order) else None

    def _hover(self, p: QPointF) -> str:
        k = self._rank_at(p)
        if k is None:
            return ""
        f = self._names[int(self.flops_order[k - 1])]
        q = self._names[int(self.params_order[k - 1])]
        return (f"top {k}: {percent(self.flops_cum[k - 1] / 100)} of {self.flops_label} (#{k}: {f}), "
                f"{percent(self.params_cum[k - 1] / 100)} of params (#{k}: {q})")

    def _indices_at(self, p: QPointF) -> list[int] | None:
        """A click at rank k selects the layer ranked k-th by FLOPs."""
        k = self._rank_at(p)
        return None if k is None else [int(self.flops_order[k - 1])]


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]
