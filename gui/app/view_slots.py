"""The core views the main window shows in its bottom docks, and the Export menu's installer.

`VIEW_FACTORIES`: (dock title, view class); the window builds `Class(document, parent)` in a dock, in this order.
The views are imported like any module: a view that fails to import or to build fails the window (and its tests)
instead of hiding behind a placeholder.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from netcost.gui.charts.charts_widget import ChartsWidget
from netcost.gui.diagram.view import DiagramView
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.latency.latency_view import LatencyView
from netcost.gui.report.export_menu import install_export_menu
from netcost.gui.training.training_view import TrainingView
from netcost.gui.whatif.compare_view import CompareView
from netcost.gui.whatif.sweep_view import SweepView

ViewClass = type[QWidget]

VIEW_FACTORIES: list[tuple[str, ViewClass]] = [
    ("Diagram", DiagramView),
    ("Charts", ChartsWidget),
    ("Latency", LatencyView),  # roofline estimate and measured time (issue 14)
    ("Compare", CompareView),  # before vs after a pinned baseline (issue 11)
    ("Sweep", SweepView),  # costs against the input size (issue 11)
    ("Training", TrainingView),  # a training step: memory and compute (issue 21)
]

__all__ = ["VIEW_FACTORIES", "ViewClass", "build_view", "install_export_menu"]


def build_view(view_class: ViewClass, document: CostDocument, parent: QWidget) -> QWidget:
    return view_class(document, parent)  # type: ignore[call-arg]
