"""The window, every dock and every dialog fit a 1280 × 800 laptop screen (and 1024 × 768 with the docks tabbed).

A real window manager never makes a window smaller than its minimum size, so a minimum wider than the screen puts
the Totals values, half the Layer form and the status bar off screen (offscreen screenshots do not show it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication, QDialog, QHeaderView

from netcost.costing import Network
from netcost.gui.app.library_browser_dialog import LibraryBrowserDialog
from netcost.gui.app.main_window import MainWindow
from netcost.gui.app.open_model_dialog import OpenModelDialog
from netcost.gui.app.settings_dialog import SettingsDialog
from netcost.gui.report.report_preview import ReportPreviewDialog

LAPTOP = QSize(1280, 800)
SMALL = QSize(1024, 768)
_FRAME = QSize(0, 40)  # what a window manager's title bar and a desktop panel take at least


def _fits(size: QSize, screen: QSize) -> bool:
    return size.width() <= screen.width() - _FRAME.width() and size.height() <= screen.height() - _FRAME.height()


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet: Network) -> MainWindow:
    w = MainWindow(autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(w)
    w.document.set_network(alexnet)
    w.resize(LAPTOP)
    w.show()
    for dock in w.docks.values():
        dock.show()
    # use the Latency dock as a user does: raise it and go through every device
    w.docks["latency"].raise_()
    picker = w.views["latency"].picker
    for i in range(picker.count()):
        picker.setCurrentIndex(i)
        QApplication.processEvents()
    return w


def _minimum(w: MainWindow) -> QSize:
    QApplication.processEvents()
    return w.minimumSizeHint().expandedTo(w.minimumSize())


def test_main_window_with_every_dock_fits_a_laptop(window: MainWindow) -> None:
    size = _minimum(window)
    assert _fits(size, LAPTOP), f"the window cannot be smaller than {size.width()}×{size.height()}"


def test_main_window_with_docks_tabbed_fits_1024x768(window: MainWindow) -> None:
    bottoms = [window.docks[k] for k in ("diagram", "charts", "latency", "compare", "sweep")]
    for other in bottoms[1:]:
        window.tabifyDockWidget(bottoms[0], other)
    size = _minimum(window)
    assert _fits(size, SMALL), f"the window cannot be smaller than {size.width()}×{size.height()}"


def test_each_dock_fits_beside_the_others(window: MainWindow) -> None:
    """No single dock may claim more than half a laptop's width: the right column and the bottom share it."""
    for key, dock in window.docks.items():
        width = dock.minimumSizeHint().width()
        assert width <= LAPTOP.width() // 2, f"the {key} dock needs {width} px"


def test_latency_layer_names_are_never_squeezed_to_an_ellipsis(window: MainWindow) -> None:
    table = window.views["latency"].table
    header = table.horizontalHeader()
    assert header.sectionResizeMode(0) != QHeaderView.ResizeMode.Stretch
    window.views["latency"].resize(300, 300)
    QApplication.processEvents()
    longest = max(table.fontMetrics().horizontalAdvance(r.name) for r in window.document.report.layers)
    assert header.sectionSize(0) >= longest


def _dialogs(window: MainWindow) -> list[QDialog]:
    from netcost.gui.app.help_dialogs import AboutDialog, ConventionsDialog, ShortcutsDialog

    return [SettingsDialog(window.document, window), OpenModelDialog(window, ""),
            LibraryBrowserDialog("torchvision", window, command=["true"]),
            ReportPreviewDialog(window.document, lambda *_: "", window),
            ShortcutsDialog(window), ConventionsDialog(window), AboutDialog(window)]


def test_every_dialog_fits_a_laptop(window: MainWindow) -> None:
    for dialog in _dialogs(window):
        dialog.show()
        QApplication.processEvents()
        for size in (dialog.minimumSizeHint().expandedTo(dialog.minimumSize()), dialog.size()):
            assert _fits(size, LAPTOP), f"{type(dialog).__name__} is {size.width()}×{size.height()}"
        dialog.close()


@pytest.mark.parametrize("width", [420, 560, 900])
def test_diagram_colour_bar_captions_never_overlap(window: MainWindow, width: int) -> None:
    from PySide6.QtCore import QRectF

    bar = window.views["diagram"].color_bar
    captions = bar.caption_rects(QRectF(0, 0, width, bar.legend_height(width)))
    assert captions[0][0].startswith("Colour:") and any(text.startswith("Block") for text, _ in captions)
    for k, (_, a) in enumerate(captions):
        assert a.right() <= width - 10 + 0.5
        assert not any(a.intersects(b) for _, b in captions[k + 1:])
