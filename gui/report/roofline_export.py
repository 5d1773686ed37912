"""Export the roofline chart alone (PNG, SVG or PDF) through the app's exporters, for the window's context menu
and `netcost roofline`."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSizeF

from netcost.costing import CostReport
from netcost.gui.charts.roofline_chart import RooflineChart
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.latency_state import LatencyState
from netcost.gui.report.exporters import ExportResult, export_view
from netcost.gui.report.theme import theme
from netcost.gui.report.views import SingleView, render_widget
from netcost.model_io.worker.measure_client import Measurement

SIZE = QSizeF(760, 500)


def export_roofline(document: CostDocument, path: str | Path, *, dark: bool = False, size: QSizeF | None = None,
                    width: int | None = None, scale: float = 2.0, include_selection: bool = False) -> ExportResult:
    """The document's roofline on its chosen device (and measurement, if any) at `size` logical pixels, without
    the window's selection unless `include_selection`."""
    chart = RooflineChart(document, None, dark=dark, state=LatencyState.of(document),
                          show_selection=include_selection)
    view = SingleView(size or SIZE, theme(dark).background, lambda p, r: render_widget(p, chart, r),
                      chart.deleteLater)
    with view:
        return export_view(view, path, width=width, scale=scale, title=f"NetCost roofline: {document.name}")


def roofline_document(report: CostReport, device: str, measurement: Measurement | None = None,
                      peak: str | None = None) -> CostDocument:
    """A document showing `report` with `device` (and `peak`, `measurement`) chosen, for exports without a
    window."""
    document = CostDocument()
    document.set_report(report)  # a layer list's report is its chain graph: it stays editable
    state = LatencyState.of(document)
    state.set_device(device, remember=False)
    state.set_peak(peak)
    if measurement is not None:
        state.set_measurement(measurement, report)
    return document
