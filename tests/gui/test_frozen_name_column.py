"""The layer table's Name column stays put while the table scrolls sideways (at 1280 px the cost columns run off
to the right): a frozen view over the table's left edge with its model, selection and vertical scroll."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtWidgets import QApplication

from netcost.costing import Network
from netcost.gui.app.main_window import MainWindow
from netcost.gui.table.layer_table_model import NAME
from tests.gui.conftest import opened_window
from tests.traced import traced_graph


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet: Network, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:  # noqa: ANN001
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=()) as w:
        w.document.set_graph(traced_graph("zoo:resnet18"))  # long enough to scroll both ways
        w.resize(QSize(1280, 800))
        w.document.pin_baseline()  # the Δ columns too: the table is wider than its pane
        for _ in range(3):
            QApplication.processEvents()
        yield w




def test_names_stay_at_the_left_edge_scrolled_sideways_and_down(window: MainWindow, qtbot) -> None:  # noqa: ANN001
    table = window.table
    bar = table.horizontalScrollBar()
    assert bar.maximum() > 0, "the table fits: nothing to scroll at 1280 px"
    bar.setValue(bar.maximum())  # scrolled to the last columns
    table.verticalScrollBar().setValue(table.verticalScrollBar().maximum() // 2)
    QApplication.processEvents()
    frozen = table.frozen
    assert frozen.isVisible() and frozen.geometry().left() <= table.frameWidth() + table.verticalHeader().width()
    assert frozen.width() >= table.columnWidth(NAME)
    assert frozen.verticalScrollBar().value() == table.verticalScrollBar().value()
    model = table.model()
    first = table.rowAt(0)
    seen = frozen.indexAt(QPoint(4, 4))  # what the left edge of the first row shows
    assert seen.isValid() and seen.row() == first and seen.data() == model.index(first, NAME).data()
    # a click on a frozen name selects its row in the table and the document
    rect = frozen.visualRect(model.index(first + 2, NAME))
    qtbot.mouseClick(frozen.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert table.selected_rows() == [table.source_row(first + 2)]
    assert window.document.selection.rows == [table.source_row(first + 2)]
    # sorting by the frozen header sorts the table, and the frozen view follows its model
    frozen.horizontalHeader().sectionClicked.emit(NAME)
    QApplication.processEvents()
    assert table.is_sorted() and frozen.model() is table.model()
    names = [frozen.model().index(r, NAME).data() for r in range(frozen.model().rowCount())]
    assert names == sorted(names, key=str.lower) or names == sorted(names)
