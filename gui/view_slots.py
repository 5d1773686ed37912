"""The seam where other views plug into the main window without it knowing them.

`VIEW_FACTORIES`: (dock title, module, class). The window imports each module lazily and builds `Class(document,
parent)` in a dock; a module that does not exist yet (or fails to import) gets a neutral placeholder instead.
`EXPORT_HOOK`: (module, function) called as `install_export_menu(window, export_menu, document)` when importable.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from .cost_document import CostDocument

VIEW_FACTORIES: list[tuple[str, str, str]] = [
    ("Diagram", "netcost.gui.diagram_view", "DiagramView"),
    ("Charts", "netcost.gui.charts_widget", "ChartsWidget"),
    ("Latency", "netcost.gui.latency_view", "LatencyView"),  # roofline estimate and measured time (issue 14)
    ("Compare", "netcost.gui.compare_view", "CompareView"),  # before vs after a pinned baseline (issue 11)
    ("Sweep", "netcost.gui.sweep_view", "SweepView"),  # costs against the input size (issue 11)
    ("Training", "netcost.gui.training_view", "TrainingView"),  # a training step: memory and compute (issue 21)
]
EXPORT_HOOK: tuple[str, str] = ("netcost.gui.export_menu", "install_export_menu")

log = logging.getLogger(__name__)


def load_attr(module: str, name: str) -> Any | None:
    """`module.name`, or None when the module is not there yet. A module that exists but fails to import is logged
    (a bug in a view must not keep the window from opening)."""
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as e:
        if e.name != module:
            log.warning("cannot import %s: %s", module, e)
        return None
    except Exception:  # noqa: BLE001 - any import-time failure of a plug-in view
        log.exception("cannot import %s", module)
        return None


def build_view(title: str, module: str, class_name: str, document: CostDocument, parent: QWidget) -> QWidget:
    cls = load_attr(module, class_name)
    if cls is not None:
        try:
            widget = cls(document, parent)
            if isinstance(widget, QWidget):
                return widget
        except Exception:  # noqa: BLE001 - a failing view shows the placeholder, the window still opens
            log.exception("cannot build %s.%s", module, class_name)
    return placeholder(f"{title} — not available in this build", parent)


def placeholder(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setEnabled(False)  # greyed: a neutral placeholder, in light and dark palettes alike
    label.setMinimumSize(160, 80)
    label.setObjectName("viewPlaceholder")
    return label
