"""`CompareView`: the current model against the pinned baseline — what kind of change it is (a design change,
or only a settings change), the rows removed since, and before-vs-after charts of params and compute per scope.

It computes nothing: the comparison is the document's (`CostDocument.comparison`, from costing.comparison).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSizeF
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from netcost.costing import formatting as fmt
from netcost.gui.charts.compare_chart import CompareChart
from netcost.gui.common.cost_colors import convention_label
from netcost.gui.common.flow_layout import FlowLayout
from netcost.gui.common.plain_text import plain_label
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report.export_menu import ViewContextMenu, ask_and_export
from netcost.gui.report.exporters import ExportResult, export_view
from netcost.gui.report.views import SingleView, render_widget

MAX_REMOVED_NAMED = 6


class CompareView(QWidget):
    def __init__(self, document: CostDocument, parent: QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self.document = document
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 2)
        outer.setSpacing(4)
        bar = FlowLayout()  # wraps in a narrow dock (a 1280 px screen)
        self.summary = plain_label(self, "compareSummary")
        self.pin_button = QPushButton("Pin baseline", self)
        self.pin_button.setToolTip("Freeze the current costs and compare every change with them (Ctrl+B)")
        self.pin_button.clicked.connect(document.pin_baseline)
        self.fixed_scale = QCheckBox("Colours fixed to the baseline", self)
        self.fixed_scale.setToolTip("Keep the colour scale of the diagram on the baseline's range, so an untouched "
                                    "layer keeps its colour")
        self.fixed_scale.toggled.connect(document.set_scale_fixed)
        self.metric_combo = QComboBox(self)
        self.metric_combo.setToolTip("What the right-hand chart compares")
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Both charts side by side as PNG, SVG or PDF")
        self.export_button.clicked.connect(lambda: self.export())
        for w in (self.pin_button, self.fixed_scale, self.metric_combo, self.export_button):
            bar.addWidget(w)
        outer.addWidget(self.summary)
        outer.addLayout(bar)
        self.removed = plain_label(self, "compareRemoved")
        outer.addWidget(self.removed)
        charts = QHBoxLayout()
        charts.setSpacing(4)
        self.params_chart = CompareChart(document, self, dark, metric="params")
        self.cost_chart = CompareChart(document, self, dark, metric="flops")
        charts.addWidget(self.params_chart)
        charts.addWidget(self.cost_chart)
        outer.addLayout(charts, 1)
        self._menus = [ViewContextMenu(c, c.viewport(), "Export comparison…", lambda: self.export())
                       for c in (self.params_chart, self.cost_chart)]
        self.metric_combo.currentIndexChanged.connect(self._on_metric_index_changed)
        document.baselineChanged.connect(self.refresh)
        document.reportChanged.connect(lambda _first: self.refresh())
        document.documentReset.connect(self.refresh)
        document.conventionChanged.connect(lambda _c: self._fill_metrics())
        document.scaleChanged.connect(self._on_document_scale_changed)
        self._fill_metrics()
        self.refresh()

    def _fill_metrics(self) -> None:
        current = self.cost_chart.compare_metric
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        for key, text in (("flops", convention_label(self.document.convention)), ("macs", "MACs"),
                          ("activations", "activation memory")):
            self.metric_combo.addItem(text, key)
        self.metric_combo.setCurrentIndex(max(0, self.metric_combo.findData(current)))
        self.metric_combo.blockSignals(False)

    def _on_metric_index_changed(self, _index: int) -> None:
        self.cost_chart.set_metric(str(self.metric_combo.currentData()))

    def _on_document_scale_changed(self) -> None:
        if self.fixed_scale.isChecked() != self.document.scale_fixed:
            self.fixed_scale.setChecked(self.document.scale_fixed)

    def refresh(self) -> None:
        doc = self.document
        cmp = doc.comparison()
        self.pin_button.setVisible(cmp is None)
        self.fixed_scale.setEnabled(cmp is not None)
        if cmp is None:
            self.summary.setText("No baseline pinned: pin one (Ctrl+B) or apply a rewrite to see what a change "
                                 "saves, per scope.")
            self.removed.hide()
            return
        d = cmp.delta
        b = cmp.baseline.totals
        conv = doc.convention
        if d is None:  # an incomplete report on either side: its sums are partial, so no change is given
            self.summary.setText(f"Against the baseline: {cmp.describe()}.   Changes withheld: {cmp.withheld}.")
        else:
            self.summary.setText(
                f"Against the baseline: {cmp.describe()}.   Params {fmt.delta(d.params + b.params, b.params)}"
                f"   ·   {convention_label(conv)} {fmt.delta(getattr(d, conv) + getattr(b, conv), getattr(b, conv))}")
        gone = cmp.removed
        if gone:
            names = ", ".join(r.name for r in gone[:MAX_REMOVED_NAMED])
            more = f" and {len(gone) - MAX_REMOVED_NAMED} more" if len(gone) > MAX_REMOVED_NAMED else ""
            params = sum(r.params for r in gone)
            self.removed.setText(f"Removed since the baseline: {names}{more} ({fmt.si(params)} params)")
        self.removed.setVisible(bool(gone))

    # ---- export --------------------------------------------------------------------------------------------
    def single_view(self, size: QSizeF | None = None, dark: bool | None = None) -> SingleView:
        """Both charts side by side, as the exporters take a view: fresh offscreen copies (in the palette and
        metric shown), so the window's own charts are never resized by an export."""
        if size is None:
            shown = self.params_chart.isVisible() and self.params_chart.width() >= 200
            size = QSizeF(self.params_chart.width() * 2 + 4, self.params_chart.height()) if shown \
                else QSizeF(1200, 460)
        dark = self.params_chart.theme.dark if dark is None else dark
        charts = (CompareChart(self.document, None, dark, metric="params"),
                  CompareChart(self.document, None, dark, metric=self.cost_chart.compare_metric))

        def paint(p, rect) -> None:  # noqa: ANN001
            w = rect.width() / 2
            for i, chart in enumerate(charts):
                render_widget(p, chart, rect.adjusted(i * w, 0, (i - 1) * w, 0))

        def close() -> None:
            for chart in charts:
                chart.deleteLater()

        return SingleView(size, charts[0].theme.background, paint, close)

    def export_to(self, path: str | Path, size: QSizeF | None = None, dark: bool | None = None) -> ExportResult:
        """Raises ExportError (a missing folder, an unwritable file)."""
        with self.single_view(size, dark) as view:
            return export_view(view, path, title=f"NetCost comparison: {self.document.name}")

    def export(self) -> ExportResult | None:
        return ask_and_export(self, "Export comparison", "comparison", self.document.name, self.export_to)
