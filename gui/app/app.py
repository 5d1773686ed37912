"""`main(argv)`: the desktop app's entry point (`netcost`, `netcost gui MODEL`).

Start-up is kept light so the window paints at once: nothing here imports torch (traced models load in the worker
process), and the first model is opened after the window is shown.
"""

from __future__ import annotations

import json
import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

DEFAULT_MODEL = "zoo:alexnet"
_T0 = time.perf_counter()


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication([sys.argv[0] if sys.argv else "netcost", *(argv or [])])
    app.setOrganizationName("NetCost")
    app.setOrganizationDomain("netcost.invalid")
    app.setApplicationName("NetCost")
    app.setApplicationDisplayName("NetCost")
    # Fusion draws every widget from the palette the same way on every platform: the system's light or dark one,
    # or the one chosen in View ▸ Colour scheme (applied before the window is built: no flash of the other)
    app.setStyle("Fusion")
    from netcost.gui.common.color_scheme import apply_scheme, saved_scheme

    apply_scheme(saved_scheme(), remember=False)
    return app


class _FirstPaint(QObject):
    """For bench/gui_edit.py: report when the window first paints (and whether torch was imported), then quit."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.done = False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            print(json.dumps({"first_paint_s": time.time(), "since_import_s": time.perf_counter() - _T0,
                              "torch_imported": "torch" in sys.modules}), flush=True)
            QTimer.singleShot(0, self.app.quit)
        return False


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    ref = argv[0] if argv else DEFAULT_MODEL
    app = make_application()
    from netcost.gui.app.main_window import MainWindow
    from netcost.gui.common.gc_pause import set_aside_startup_heap

    window = MainWindow()
    if os.environ.get("NETCOST_EXIT_AFTER_PAINT"):
        probe = _FirstPaint(app)
        window.installEventFilter(probe)
        if window.centralWidget() is not None:
            window.centralWidget().installEventFilter(probe)
    window.show()

    def first_load() -> None:
        set_aside_startup_heap()
        if not window.offer_recovery():
            window.open_reference(ref)

    QTimer.singleShot(0, first_load)  # after the first paint
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
