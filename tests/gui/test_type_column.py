"""The layer table's Type column on a traced GPT-2 at 1280 px: types like `aten.arange` are whole (they were cut
at 60 px), and every Type cell's tooltip has the whole type."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication

from netcost.costing import Network
from netcost.gui.table.layer_table_model import TYPE
from netcost.gui.table.layer_table_view import TYPE_KEPT_WHOLE
from tests.gui.conftest import opened_window
from tests.traced import traced_graph


def test_gpt2_types_are_whole_or_in_their_tooltip_at_1280(qtbot, tmp_path: Path, alexnet: Network,  # noqa: ANN001
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    graph = traced_graph("zoo:gpt2")
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=()) as w:
        w.document.set_graph(graph)
        w.resize(QSize(1280, 800))
        QApplication.processEvents()
        table = w.table
        table._set_column_widths()
        model = table.model()
        types = [model.index(r, TYPE).data() for r in range(model.rowCount())]
        assert "aten.arange" in types
        pad = 2 * table.style().pixelMetric(table.style().PixelMetric.PM_FocusFrameHMargin) + 2
        short = max((t for t in types if len(t) <= len(TYPE_KEPT_WHOLE)),
                    key=lambda t: table.fontMetrics().horizontalAdvance(t))
        assert table.columnWidth(TYPE) >= table.fontMetrics().horizontalAdvance(short) + pad, short
        for r in range(model.rowCount()):
            tip = model.index(r, TYPE).data(Qt.ItemDataRole.ToolTipRole) or ""
            assert types[r] in tip, (r, types[r], tip)
