"""`LayerShareChart`: for each layer, paired bars of its % of total FLOPs (solid) and % of total params (light),
coloured by category — the conv-vs-linear contrast of AlexNet and VGG at a glance."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF

from netcost.costing import CostReport
from netcost.costing.formatting import percent
from netcost.gui.charts.chart_base import ChartBase, lighter, per_bar
from netcost.gui.common.cost_colors import category_color

BAR_W = 0.4
MAX_NAMED_TICKS = 14
MAX_TICK_PX = 170  # longer names are elided in the middle (the hover read-out has them in full)
TICK_GAP_PX = 14  # least room between two names


class LayerShareChart(ChartBase):
    title = "Share of the model, per layer"
    of_total = True

    def _build(self) -> None:
        self._add_paired_bars(BAR_W)
        self.flops_share = np.zeros(0)
        self.params_share = np.zeros(0)
        self._names: list[str] = []
        self._legend_keys: tuple[str, ...] = ()
        self._cats: tuple[str, ...] | None = None
        self.named_ticks: list[int] = []  # layers named under the x axis
        self.plot_item.getViewBox().sigResized.connect(self._on_view_resized)

    def _update(self, report: CostReport) -> None:
        layers = report.layers
        n = len(layers)
        f = self.flops_field
        self.flops_share = np.array([report.share(c, f) * 100 for c in layers], dtype=float)
        self.params_share = np.array([report.share(c, "params") * 100 for c in layers], dtype=float)
        self._names = [c.name for c in layers]
        self._types = [c.type for c in layers]
        cats = tuple(c.category for c in layers)
        x = np.arange(n, dtype=float)
        style: dict = {}
        if cats != self._cats:  # an ordinary edit keeps every layer's category: only the heights change
            self._cats = cats
            st = self.styles
            style = {"brushes": per_bar([st.solid[c] for c in cats]), "pens": per_bar([st.edge[c] for c in cats])}
            self.params_bars.setOpts(x=x + BAR_W / 2, height=self.params_share, width=BAR_W,
                                     brushes=per_bar([st.light[c] for c in cats]),
                                     pens=per_bar([st.light_edge[c] for c in cats]))
        else:
            self.params_bars.setOpts(x=x + BAR_W / 2, height=self.params_share, width=BAR_W)
        self.flops_bars.setOpts(x=x - BAR_W / 2, height=self.flops_share, width=BAR_W, **style)
        top = float(max(self.flops_share.max(initial=0), self.params_share.max(initial=0), 1.0))
        self._top = top * 1.06  # a little air above the tallest bar (the legend has its own band above the plot)
        self.plot_item.setYRange(0, self._top, padding=0)
        self._ticks(n)
        self.set_axis_label("left", "% of model total")  # the legend names FLOPs (convention) and params
        self.set_axis_label("bottom", "layer (execution order)")
        self._legend(report)

    def _plot_width(self) -> float:
        """Width of the plotting area in pixels (estimated from the widget's before the first layout)."""
        w = self.plot_item.getViewBox().width()
        return float(w) if w > 50 else float(max(self.width() - 90, 200))

    def _ticks(self, n: int) -> None:
        """Name the layers that matter, largest share first, so that no two names overlap; the heaviest layer is
        always named. pyqtgraph drops a tick label that would stick out of the axis, so the x range widens until
        the names at either end fit (lm_head, the last and heaviest layer of GPT-2)."""
        self._ticks_width = self._plot_width()
        weight = np.maximum(self.flops_share, self.params_share)
        fm = QFontMetricsF(self.plot_item.getAxis("bottom").style.get("tickFont") or QFont())
        labels = {i: fm.elidedText(self._names[i], Qt.TextElideMode.ElideMiddle, MAX_TICK_PX)
                  for i in np.argsort(-weight, kind="stable")[:MAX_NAMED_TICKS].tolist()}
        widths = {i: fm.horizontalAdvance(t) + TICK_GAP_PX for i, t in labels.items()}
        lo, hi = -0.7, max(n - 0.3, 1.0)
        named: list[int] = []
        for _ in range(3):  # the range depends on the names at the ends and the names on the pixels per layer
            ppl = self._ticks_width / (hi - lo)  # pixels per layer
            named = []
            for i in labels:
                if (weight[i] >= 1.0 or not named) and all(
                        abs(i - j) * ppl >= (widths[i] + widths[j]) / 2 for j in named):
                    named.append(i)
            new_lo = min([-0.7, *(i - widths[i] / 2 / ppl for i in named)])
            new_hi = max([n - 0.3, 1.0, *(i + widths[i] / 2 / ppl for i in named)])
            if abs(new_lo - lo) < 1e-3 and abs(new_hi - hi) < 1e-3:
                break
            lo, hi = new_lo, new_hi
        self.named_ticks = sorted(named)
        self.plot_item.setXRange(lo, hi, padding=0)
        self.plot_item.getAxis("bottom").setTicks([[(i, labels[i]) for i in self.named_ticks],
                                                   [(i, "") for i in range(n)]])

    def _on_view_resized(self) -> None:
        names = self.__dict__.get("_names")
        if names and abs(self._plot_width() - getattr(self, "_ticks_width", 0.0)) > 1:
            self._ticks(len(names))

    def _legend(self, report: CostReport) -> None:
        """Legend: solid vs light meaning, then the categories present (rebuilt only when that set changes)."""
        present = tuple(c for c, t in report.by_category.items() if t.params or getattr(t, self.flops_field))
        key = (*present, self.flops_label, str(self.theme.dark))
        if key == self._legend_keys:
            return
        self._legend_keys = key
        self.legend.clear()
        ink = self.theme.foreground
        self.legend.addItem(pg.BarGraphItem(x=[0], height=[1], width=1, brush=ink), f"{self.flops_label} (solid)")
        self.legend.addItem(pg.BarGraphItem(x=[0], height=[1], width=1, brush=lighter(ink), pen=pg.mkPen(ink)),
                            "params (light)")
        for c in present:
            self.legend.addItem(pg.BarGraphItem(x=[0], height=[1], width=1, brush=category_color(c)), c)

    def _show_selection(self, indices: list[int]) -> None:
        sel = QColor(self.theme.selection)
        sel.setAlpha(60)
        self._highlight.setOpts(x=np.array(indices, dtype=float), height=[getattr(self, "_top", 1.0)] * len(indices),
                                width=1.0, brush=sel, pen=pg.mkPen(self.theme.selection, width=1))

    def _index_at(self, p: QPointF) -> int | None:
        i = round(p.x())
        return i if 0 <= i < len(self._names) else None

    def _hover(self, p: QPointF) -> str:
        i = self._index_at(p)
        if i is None:
            return ""
        return (f"{self._names[i]} ({self._types[i]}): {percent(self.flops_share[i] / 100)} of {self.flops_label}, "
                f"{percent(self.params_share[i] / 100)} of params")

    def _indices_at(self, p: QPointF) -> list[int] | None:
        i = self._index_at(p)
        return None if i is None else [i]
