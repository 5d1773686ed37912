"""`CategoryShareChart`: per category (conv, linear, recurrent, attention, norm, activation, pool, embedding,
other), % of total FLOPs (solid) beside % of total params (light), with the numbers on the bars."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QFont

from netcost.costing import CATEGORIES, CostReport
from netcost.costing.formatting import grouped, percent
from netcost.gui.charts.chart_base import ChartBase, lighter, per_bar
from netcost.gui.common.cost_colors import category_color, share_text

BAR_W = 0.38


class CategoryShareChart(ChartBase):
    title = "Share of the model, per layer category"
    of_total = True

    def _build(self) -> None:
        self._add_paired_bars(BAR_W)
        font = QFont()
        font.setPixelSize(11)
        font.setBold(True)
        # one kept label per bar: edits move and re-text them, never recreate them
        self.flops_labels = {c: pg.TextItem(anchor=(0.5, 1.0)) for c in CATEGORIES}
        self.params_labels = {c: pg.TextItem(anchor=(0.5, 1.0)) for c in CATEGORIES}
        for label in (*self.flops_labels.values(), *self.params_labels.values()):
            label.setFont(font)
            self.plot_item.addItem(label)
        self.categories: list[str] = []
        self.flops_share = np.zeros(0)
        self.params_share = np.zeros(0)
        self._legend_key = ""
        self.plot_item.getViewBox().sigResized.connect(self._lift_labels)

    def _update(self, report: CostReport) -> None:
        f = self.flops_field
        # categories with anything to show; an empty one would only shrink the others
        self.categories = [c for c in CATEGORIES
                           if report.category_share(c, f) > 0 or report.category_share(c, "params") > 0]
        cats = self.categories
        self.flops_share = np.array([report.category_share(c, f) * 100 for c in cats], dtype=float)
        self.params_share = np.array([report.category_share(c, "params") * 100 for c in cats], dtype=float)
        colors = [category_color(c) for c in cats]
        x = np.arange(len(cats), dtype=float)
        self.flops_bars.setOpts(x=x - BAR_W / 2, height=self.flops_share, width=BAR_W, brushes=per_bar(colors),
                                pens=per_bar([pg.mkPen(c.darker(130)) for c in colors]))
        self.params_bars.setOpts(x=x + BAR_W / 2, height=self.params_share, width=BAR_W,
                                 brushes=per_bar([lighter(c) for c in colors]),
                                 pens=per_bar([pg.mkPen(c) for c in colors]))
        ink = self.theme.foreground
        for c in CATEGORIES:
            for labels in (self.flops_labels, self.params_labels):
                labels[c].setVisible(c in cats)
        for i, c in enumerate(cats):
            for labels, share, dx in ((self.flops_labels, self.flops_share[i], -BAR_W / 2),
                                      (self.params_labels, self.params_share[i], BAR_W / 2)):
                labels[c].setText(share_text(share / 100, 0 if share >= 9.95 else 1), color=ink)
                labels[c].setPos(i + dx, share)
                labels[c].setVisible(bool(share >= 0.05))  # tiny bars: neighbouring labels would collide; hover tells
        top = float(max(self.flops_share.max(initial=0), self.params_share.max(initial=0), 1.0))
        self._top = top * 1.16  # room for the numbers above the tallest bar
        self._lift_labels()
        self.plot_item.setXRange(-0.6, max(len(cats) - 0.4, 0.6), padding=0)
        self.plot_item.setYRange(0, self._top, padding=0)
        self.plot_item.getAxis("bottom").setTicks([[(i, c) for i, c in enumerate(cats)]])
        self.set_axis_label("left", "% of model total")
        self.set_axis_label("bottom", "layer category")
        key = f"{self.flops_label}|{self.theme.dark}"
        if key != self._legend_key:
            self._legend_key = key
            self.legend.clear()
            self.legend.addItem(pg.BarGraphItem(x=[0], height=[1], width=1, brush=ink), f"{self.flops_label} (solid)")
            self.legend.addItem(pg.BarGraphItem(x=[0], height=[1], width=1, brush=lighter(ink), pen=pg.mkPen(ink)),
                                "params (light)")

    def _lift_labels(self, *args: object) -> None:
        """Two short neighbours (norm: 0.3 % beside 0.2 %) would print their numbers into each other: the params
        number goes above the FLOPs one (pixel sizes: redone when the plot is resized)."""
        vb_h = self.plot_item.getViewBox().height()
        unit = getattr(self, "_top", 1.0) / (vb_h if vb_h > 50 else max(self.height() - 90, 150))  # % per pixel
        for i, c in enumerate(self.categories):
            f_h, p_h = self.flops_share[i], self.params_share[i]
            lift = abs(f_h - p_h) < 16 * unit
            self.params_labels[c].setPos(i + BAR_W / 2, max(f_h, p_h) + 15 * unit if lift else p_h)

    def _show_selection(self, indices: list[int]) -> None:
        """Highlight the categories of the selected layers."""
        layers = self.document.report.layers
        cats = {layers[i].category for i in indices if 0 <= i < len(layers)}
        xs = [float(i) for i, c in enumerate(self.categories) if c in cats]
        sel = QColor(self.theme.selection)
        sel.setAlpha(28)
        self._highlight.setOpts(x=xs, height=[getattr(self, "_top", 1.0)] * len(xs), width=1.0, brush=sel,
                                pen=pg.mkPen(self.theme.selection))

    def _index_at(self, p: QPointF) -> int | None:
        i = round(p.x())
        return i if 0 <= i < len(self.categories) else None

    def _hover(self, p: QPointF) -> str:
        i = self._index_at(p)
        if i is None:
            return ""
        c = self.categories[i]
        t = self.document.report.by_category[c]
        return (f"{c}: {percent(self.flops_share[i] / 100)} of {self.flops_label}, "
                f"{percent(self.params_share[i] / 100)} of params ({grouped(t.params)} params)")

    def _indices_at(self, p: QPointF) -> list[int] | None:
        """A click on a category selects all its layers."""
        i = self._index_at(p)
        if i is None:
            return None
        return [k for k, c in enumerate(self.document.report.layers) if c.category == self.categories[i]]
