"""`RooflineChart`: arithmetic intensity vs attained FLOP/s (log–log), one point per layer, under the chosen
device's roof (memory-bound slope up to the ridge point, then the compute peak). Filled points are the roofline
estimate (on the roof by construction, under the no-fusion convention); hollow points, when the model was
measured, are what each layer reached for real — the gap shows where the roofline is wrong (small kernels,
launch overhead). Linked to the shared selection like the other charts.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from netcost.costing import CostReport
from netcost.costing import formatting as fmt
from netcost.costing.latency import CONVENTION, LatencyEstimate
from netcost.gui.charts.chart_base import ChartBase
from netcost.gui.charts.params_flops_scatter import LogAxis
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.latency_state import LatencyState

POINT_SIZE = 9.0


class RooflineChart(ChartBase):
    title = "Roofline"

    def __init__(self, document: CostDocument, parent: QWidget | None = None, dark: bool | None = None,
                 state: LatencyState | None = None, show_selection: bool = True) -> None:
        self.state = state or LatencyState.of(document)
        super().__init__(document, parent, dark, show_selection)
        self.state.changed.connect(self._on_document_changed)

    def _axis_items(self) -> dict[str, pg.AxisItem]:
        return {"left": LogAxis("left"), "bottom": LogAxis("bottom")}

    def _build(self) -> None:
        self.plot_item.showGrid(x=True, y=True, alpha=0.15)
        self.roof = pg.PlotDataItem()
        self.ridge = pg.InfiniteLine(angle=90, movable=False)
        self.ridge_label = pg.TextItem(anchor=(0.0, 1.0))
        for item in (self.roof, self.ridge, self.ridge_label):
            self.plot_item.addItem(item)
        self._ridge_words: tuple[str, str] | None = None  # the note's two parts, set on one or two lines to fit
        self.plot_item.vb.sigResized.connect(self._place_ridge_label)
        self.plot_item.vb.sigXRangeChanged.connect(self._place_ridge_label)
        self.measured_points = pg.ScatterPlotItem(size=POINT_SIZE, symbol="o")
        self.points = pg.ScatterPlotItem(size=POINT_SIZE)
        self._highlight = pg.ScatterPlotItem(size=POINT_SIZE + 10, symbol="o")
        self._highlight.setZValue(5)
        for item in (self.measured_points, self.points, self._highlight):
            self.plot_item.addItem(item)
        self.indices = np.zeros(0, dtype=int)
        self.x = self.y = self.my = np.zeros(0)
        self._names: list[str] = []
        self._read: list[str] = []
        self._legend_key = ""

    def _update(self, report: CostReport) -> None:
        est = self.state.estimate()
        layers = report.layers
        measured = self.state.measured_rows()
        if est is None:
            shown: list[int] = []
        else:
            shown = [i for i, r in enumerate(est.rows) if r.flops > 0 and r.bytes > 0]
        self.indices = np.array(shown, dtype=int)
        rows = [est.rows[i] for i in shown] if est else []
        self.x = np.array([math.log10(r.intensity) for r in rows], dtype=float)
        self.y = np.array([math.log10(r.attained_flops) for r in rows], dtype=float)
        m = [measured[i] if measured else None for i in shown]
        self.my = np.array([math.log10(r.flops / s) if s else np.nan for r, s in zip(rows, m, strict=True)],
                           dtype=float)
        self._names = [layers[i].name for i in shown]
        self._read = [f"{r.bound}-bound, {fmt.si(r.intensity)} FLOPs/B, estimate {fmt.duration(r.seconds)} "
                      f"({fmt.si(r.attained_flops, 'FLOP/s')})"
                      + (f", measured {fmt.duration(s)} ({fmt.si(r.flops / s, 'FLOP/s')})" if s else "")
                      for r, s in zip(rows, m, strict=True)]
        cats = [layers[i].category for i in shown]
        self.points.setData(x=self.x, y=self.y, brush=[self.styles.solid[c] for c in cats],
                            pen=[self.styles.edge[c] for c in cats], data=self.indices)
        has_m = ~np.isnan(self.my) if len(self.my) else np.zeros(0, dtype=bool)
        self.measured_points.setData(x=self.x[has_m], y=self.my[has_m], brush=None,
                                     pen=[self.styles.light_edge[c] for c, k in zip(cats, has_m, strict=True) if k])
        self._draw_roof(est, has_m)
        self._update_legend(est, bool(has_m.any()))

    def _draw_roof(self, est: LatencyEstimate | None, has_m: np.ndarray) -> None:
        t = self.theme
        if est is None:
            self.roof.setData([], [])
            self._ridge_words = None
            self.ridge_label.setText("")
            self.ridge.setVisible(False)
            self.plot_item.setXRange(-1, 3, padding=0)
            self.plot_item.setYRange(9, 13, padding=0)
            self.set_title("Roofline — choose a device above")
            return
        ridge = math.log10(est.ridge_point)
        peak = math.log10(est.peak_flops)
        xs = [*self.x.tolist(), ridge]
        ys = [*self.y.tolist(), *self.my[has_m].tolist(), peak]
        x0, x1 = math.floor(min(xs) - 0.3), math.ceil(max(xs) + 0.3)
        y0, y1 = math.floor(min(ys) - 0.3), max(ys) + 0.3
        bw = math.log10(est.bandwidth)
        self.roof.setData([x0, ridge, x1], [x0 + bw, peak, peak], pen=pg.mkPen(t.foreground, width=2))
        self.ridge.setVisible(True)
        self.ridge.setPos(ridge)
        self.ridge.setPen(pg.mkPen(QColor(t.muted), width=1, style=Qt.PenStyle.DashLine))
        self._ridge_words = ("ridge", f"{est.ridge_point:.1f} FLOPs/B")
        self.ridge_label.setColor(QColor(t.muted))
        self.ridge_label.setPos(ridge, y0)
        self.plot_item.setXRange(x0, x1, padding=0)
        self.plot_item.setYRange(y0, y1, padding=0)
        self._place_ridge_label()
        self.set_axis_label("bottom", "arithmetic intensity (FLOPs per byte moved, log)")
        self.set_axis_label("left", "attained FLOP/s (log)")
        self.set_title(f"Roofline on {est.device.name} · {CONVENTION}",
                        f"{est.peak_key} peak {fmt.si(est.peak_flops, 'FLOP/s')} · bandwidth "
                        f"{fmt.si(est.bandwidth, 'B/s')}")

    def _place_ridge_label(self, *args: object) -> None:
        """The ridge note whole inside the plot, however narrow the pane: right of the dashed line where it fits,
        else left of it, else on two lines on the roomier side (at a 200 px minimum it ran off the plot)."""
        if self._ridge_words is None:
            return
        vb = self.plot_item.vb
        area = vb.sceneBoundingRect()
        x = vb.mapViewToScene(QPointF(self.ridge.value(), 0)).x()
        right, left = area.right() - x, x - area.left()
        for joint in (" ", "\n"):
            self.ridge_label.setText(joint.join(self._ridge_words))
            width = self.ridge_label.textItem.boundingRect().width()  # pixels: the note keeps its size on zoom
            if width <= right or width <= left:
                break
        self.ridge_label.setAnchor((0.0, 1.0) if width <= right or right >= left else (1.0, 1.0))

    def _update_legend(self, est: LatencyEstimate | None, measured: bool) -> None:
        present = sorted({self.document.report.layers[i].category for i in self.indices.tolist()},
                         key=list(self.styles.solid).index)
        key = f"{est is None}|{present}|{measured}|{self.theme.dark}"
        if key == self._legend_key:
            return
        self._legend_key = key
        self.legend.clear()
        if est is None:
            return
        fg = self.theme.foreground
        for c in present:  # filled: the estimate, in the category colours of the other charts
            self.legend.addItem(pg.ScatterPlotItem(size=9, brush=self.styles.solid[c], pen=self.styles.edge[c]), c)
        if measured:
            self.legend.addItem(pg.ScatterPlotItem(size=9, brush=None, pen=pg.mkPen(fg, width=1.5)),
                                "measured (hollow)")

    def _show_selection(self, indices: list[int]) -> None:
        chosen = set(indices)
        mask = np.array([i in chosen for i in self.indices], dtype=bool)
        if not mask.any():
            self._highlight.setData(x=[], y=[])
            return
        self._highlight.setData(x=self.x[mask], y=self.y[mask], brush=None, pen=pg.mkPen(self.theme.selection, width=3))

    def _nearest(self, p: QPointF) -> int | None:
        if not len(self.x):
            return None
        px, py = self.plot_item.getViewBox().viewPixelSize()
        px, py = px or 0.01, py or 0.01
        d = ((self.x - p.x()) / px) ** 2 + ((self.y - p.y()) / py) ** 2
        k = int(np.argmin(d))
        return k if d[k] <= 64.0 else None

    def _hover(self, p: QPointF) -> str:
        k = self._nearest(p)
        return "" if k is None else f"{self._names[k]}: {self._read[k]}"

    def _indices_at(self, p: QPointF) -> list[int] | None:
        k = self._nearest(p)
        return None if k is None else [int(self.indices[k])]
