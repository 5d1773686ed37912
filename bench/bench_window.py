"""The main window the GUI benchmarks measure: settings in a scratch folder (never the user's), 1280×800, shown and
settled, a window that discards its edits on close."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def bench_window(scratch: str) -> tuple[Any, Any]:
    """(the QApplication, the shown MainWindow) with its settings and recovery files under `scratch`."""
    from PySide6.QtCore import QCoreApplication, QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, scratch)
    from netcost.gui.app.app import make_application

    app = make_application()
    QCoreApplication.setOrganizationName("NetCostBench")
    from netcost.gui.app.main_window import MainWindow

    window = MainWindow(autosave_dir=Path(scratch) / "recovery")
    window.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    window.resize(1280, 800)
    window.show()
    for _ in range(20):
        app.processEvents()
    from netcost.gui.common.gc_pause import set_aside_startup_heap

    set_aside_startup_heap()  # as the app does after its first paint (gui/app/app.py)
    return app, window
