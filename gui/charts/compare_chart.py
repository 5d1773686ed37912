"""`CompareChart`: before (the pinned baseline, light) against after (now, solid) per scope — a ResNet's stages,
MobileNetV2's blocks, or each layer of a flat list — with the change written beside each pair.

The groups and their totals come from the document's `Comparison` (costing.comparison): a rewrite's new rows are
counted in the group of the row they replace, so `conv2` before stands beside its two 3×3 convs after. Green: the
group got cheaper, red: dearer, grey: untouched.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QFont

from netcost.costing import CostReport, Totals, convention_value
from netcost.costing import formatting as fmt
from netcost.costing.comparison import GroupDelta
from netcost.costing.records import NOT_COSTED
from netcost.gui.charts.chart_base import ChartBase, per_bar
from netcost.gui.charts.si_axis import SIAxis
from netcost.gui.common.cost_colors import convention_label
from netcost.gui.common.palette import CHART_LESS, CHART_MORE, CHART_SAME

BAR_H = 0.38
SMALL = 0.01  # untouched groups below this fraction of the largest are left out
MAX_GROUPS = 16  # more would squeeze the names; the biggest groups (and every changed one first) are shown
LESS, MORE, SAME_COLOR = CHART_LESS, CHART_MORE, CHART_SAME
METRIC_NAMES = {"params": "params", "macs": "MACs", "activations": "activation memory"}


def metric_value(totals: Totals, metric: str, convention: str) -> int:
    """`metric` of a Totals: params, macs, activations (bytes), or "flops" (the document's convention)."""
    if metric == "params":
        return totals.params
    if metric == "macs":
        return totals.macs
    if metric == "activations":
        return totals.activation_bytes
    return convention_value(totals, convention)


class CompareChart(ChartBase):
    title = "Before vs after"

    def __init__(self, document: object, parent: object = None, dark: bool | None = None,
                 metric: str = "flops") -> None:
        self._metric = metric
        super().__init__(document, parent, dark)  # type: ignore[arg-type]
        self.document.baselineChanged.connect(self._on_document_changed)

    def _axis_items(self) -> dict[str, pg.AxisItem]:
        return {"bottom": SIAxis("bottom", is_bytes=self._metric == "activations")}

    @property
    def compare_metric(self) -> str:  # not `metric`: that is QPaintDevice.metric(), which Qt calls
        return self._metric

    def set_metric(self, metric: str) -> None:
        if metric != self._metric:
            self._metric = metric
            axis = self.plot_item.getAxis("bottom")
            if isinstance(axis, SIAxis):
                axis.is_bytes = metric == "activations"
            self.apply_theme()
            self.refresh()

    def metric_label(self) -> str:
        return METRIC_NAMES.get(self._metric) or convention_label(self.document.convention)

    def _build(self) -> None:
        self._highlight = pg.BarGraphItem(x0=[], y=[], height=[], width=[])
        self._highlight.setZValue(-5)
        self.before_bars = pg.BarGraphItem(x0=[], y=[], height=[], width=[])
        self.after_bars = pg.BarGraphItem(x0=[], y=[], height=[], width=[])
        for item in (self._highlight, self.before_bars, self.after_bars):
            self.plot_item.addItem(item)
        self.plot_item.invertY(True)  # the first group at the top, as in the table
        self.plot_item.showGrid(x=True, y=False, alpha=0.18)
        self.message = pg.TextItem(anchor=(0.5, 0.5))
        self.plot_item.addItem(self.message)
        self._font = QFont()
        self._font.setPixelSize(11)
        self._font.setBold(True)
        self.labels: list[pg.TextItem] = []  # kept and re-texted; grown only when more groups are shown
        self.groups: list[GroupDelta] = []
        self.before = np.zeros(0)
        self.after = np.zeros(0)
        self.hidden_groups = 0

    def apply_theme(self) -> None:
        self.title = f"Before vs after: {self.metric_label()}"
        super().apply_theme()
        # the colour key in the legend band (chart_base): between the title and the bars, never over them
        muted = QColor(self.theme.muted)
        muted.setAlpha(70)
        self.legend.clear()
        for brush, pen, text in ((muted, self.theme.muted, "baseline"), (LESS, LESS.darker(130), "less"),
                                 (MORE, MORE.darker(130), "more")):
            self.legend.addItem(pg.BarGraphItem(x=[0], height=[1], width=1, brush=brush, pen=pg.mkPen(pen)), text)
        self.place_legend()

    # ---- data ----------------------------------------------------------------------------------------------
    def _update(self, report: CostReport) -> None:
        cmp = self.document.comparison()
        conv = self.document.convention
        groups: list[GroupDelta] = []
        if cmp is not None:
            groups = [g for g in cmp.groups(cmp.auto_depth()) if not g.complete
                      or metric_value(g.before, self._metric, conv) or metric_value(g.after, self._metric, conv)]
        shown = self._choose(groups, conv)
        self.hidden_groups = len(groups) - len(shown)
        self.groups = shown
        self.before = np.array([metric_value(g.before, self._metric, conv) for g in shown], dtype=float)
        # a group with nodes not costed has a partial sum: no bar, no change, "not costed" (`GroupDelta.complete`)
        self.after = np.array([metric_value(g.after, self._metric, conv) if g.complete else 0 for g in shown],
                              dtype=float)
        n = len(shown)
        y = np.arange(n, dtype=float)
        t = self.theme
        muted = QColor(t.muted)
        muted.setAlpha(70)
        self.before_bars.setOpts(x0=np.zeros(n), y=y - BAR_H / 2, width=self.before, height=BAR_H,
                                 brush=muted, pen=pg.mkPen(t.muted))
        colors = [SAME_COLOR if not g.complete else LESS if a < b else MORE if a > b else SAME_COLOR
                  for g, a, b in zip(shown, self.after, self.before, strict=True)]
        self.after_bars.setOpts(x0=np.zeros(n), y=y + BAR_H / 2, width=self.after, height=BAR_H,
                                brushes=per_bar([pg.mkBrush(c) for c in colors]),
                                pens=per_bar([pg.mkPen(c.darker(130)) for c in colors]))
        top = float(max(self.before.max(initial=0), self.after.max(initial=0), 1.0))
        while len(self.labels) < n:
            label = pg.TextItem(anchor=(0.0, 0.5))
            label.setFont(self._font)
            self.plot_item.addItem(label)
            self.labels.append(label)
        for i, label in enumerate(self.labels):
            label.setVisible(i < n)
            if i < n:
                text, color = (_change_text(self.before[i], self.after[i], colors[i], t.foreground)
                               if shown[i].complete else (NOT_COSTED, QColor(t.muted)))
                label.setText(text, color=color)
                label.setPos(max(self.before[i], self.after[i]) + top * 0.015, y[i])
        self.plot_item.setXRange(0, top * 1.22, padding=0)
        self.plot_item.setYRange(-0.6, max(n - 0.4, 0.6), padding=0)
        self.plot_item.getAxis("left").setTicks([[(i, g.label) for i, g in enumerate(shown)]])
        self.set_axis_label("bottom", self.metric_label())
        self.set_axis_label("left", "scope" if any(g.key.startswith("scope:") for g in shown) else "layer")
        if cmp is None:
            self.message.setText("Pin a baseline (Ctrl+B), then edit or apply a rewrite:\n"
                                 "each scope's cost before and after shows here", color=t.muted)
            self.message.setPos(top * 0.61, 0)
        self.message.setVisible(cmp is None)
        self.legend.setVisible(False)  # the key is in the title (apply_theme)

    def _choose(self, groups: list[GroupDelta], conv: str) -> list[GroupDelta]:
        """Every changed group (the largest first, up to MAX_GROUPS), then the largest untouched ones; an
        untouched group below 1 % of the largest (a ReLU beside AlexNet's convs) only adds noise."""
        def size(g: GroupDelta) -> int:
            return max(metric_value(g.before, self._metric, conv), metric_value(g.after, self._metric, conv))
        changed = [g for g in groups if metric_value(g.before, self._metric, conv)
                   != metric_value(g.after, self._metric, conv)]
        big = max((size(g) for g in groups), default=0)
        rest = [g for g in groups if g not in changed and size(g) >= big * SMALL]
        keep = sorted(changed, key=size, reverse=True)[:MAX_GROUPS]
        keep += sorted(rest, key=size, reverse=True)[:MAX_GROUPS - len(keep)]
        chosen = {g.key for g in keep}
        return [g for g in groups if g.key in chosen]

    # ---- interaction ---------------------------------------------------------------------------------------
    def _group_at(self, p: QPointF) -> int | None:
        i = round(p.y())
        return i if 0 <= i < len(self.groups) else None

    def _hover(self, p: QPointF) -> str:
        i = self._group_at(p)
        if i is None:
            return ""
        g = self.groups[i]
        b, a = self.before[i], self.after[i]
        f = fmt.nbytes if self._metric == "activations" else fmt.grouped
        if not g.complete:
            return f"{g.label}: {g.not_costed} node(s) {NOT_COSTED}: no change can be given"
        return f"{g.label}: {f(int(b))} → {f(int(a))} {self.metric_label()} ({fmt.delta(a, b, f)})"

    def _indices_at(self, p: QPointF) -> list[int] | None:
        i = self._group_at(p)
        if i is None:
            return None
        ids = set(self.groups[i].rows)
        return [k for k, c in enumerate(self.document.report.layers) if c.node_id in ids]

    def _show_selection(self, indices: list[int]) -> None:
        layers = self.document.report.layers
        ids = {layers[i].node_id for i in indices if 0 <= i < len(layers)}
        ys = [float(i) for i, g in enumerate(self.groups) if ids & set(g.rows)]
        sel = QColor(self.theme.selection)
        sel.setAlpha(28)
        right = self.plot_item.getViewBox().viewRange()[0][1]
        self._highlight.setOpts(x0=[0.0] * len(ys), y=ys, height=[1.0] * len(ys), width=[right] * len(ys),
                                brush=sel, pen=pg.mkPen(self.theme.selection))


def _change_text(before: float, after: float, color: QColor, ink: QColor) -> tuple[str, QColor]:
    if before == 0:
        return ("new", color) if after else ("", ink)
    if after == before:
        return ("=", QColor(ink.red(), ink.green(), ink.blue(), 120))
    return (f"{(after - before) / before * 100:+.1f} %".replace("-", "−"), color.darker(115))
