"""`CumulativeShareChart`: layers sorted by cost, the cumulative % of FLOPs and of params, with the 80 % line and
how many layers it takes to reach it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

from costing import CostReport
from costing.formatting import percent

from .chart_base import ChartBase

FLOPS_COLOR = QColor("#5B3C9E")  # not category colours: these curves span every category
PARAMS_COLOR = QColor("#2E9E6A")
TARGET = 80.0
MAX_MARKERS = 80  # layers up to which each point of the curves gets a marker


class CumulativeShareChart(ChartBase):
    title = "How few layers hold most of the cost"

    def _build(self) -> None:
        self.flops_curve = pg.PlotDataItem(stepMode=None)
        self.params_curve = pg.PlotDataItem()
        self.plot_item.addItem(self.flops_curve)
        self.plot_item.addItem(self.params_curve)
        self.target_line = pg.InfiniteLine(pos=TARGET, angle=0, movable=False,
                                           label="80 %", labelOpts={"position": 0.03})
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
            line.setPos(count)
            line.setPen(pg.mkPen(color, width=1.2, style=Qt.PenStyle.DotLine))
            line.label.setFormat(f"{count} of {n} layers: 80 % of {what}")
            line.label.setColor(color if not self.theme.dark else color.lighter(150))
            line.setVisible(count > 0)
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
        self.legend.setOffset((-8, -50))

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
