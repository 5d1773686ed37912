"""An edit repaints only what it changed (the table's changed rows and the shares whose text moved, the diagram's
recoloured blocks and headers; bench/gui_edit.py measures the frame), so what is on screen after it must be what a
complete repaint draws. The offscreen platform's screen grab reads the window's backing store as it was left
(nothing is repainted for the grab), which is what the user would see."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QWidget

from netcost.gui.app.main_window import MainWindow
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.table.layer_table_model import ARGS, PCT_CONV, SORT_ROLE, LayerTableModel
from tests.gui.test_diagram_graph import _resnet_doc


def _on_screen(widget: QWidget) -> QImage:
    """The pixels of `widget` in its window's backing store, as last painted."""
    window = widget.window()
    at = widget.mapTo(window, QPoint(0, 0))
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.grabWindow(window.winId(), at.x(), at.y(), widget.width(), widget.height()).toImage()


def _settle(qtbot) -> None:  # noqa: ANN001
    for _ in range(3):
        QApplication.processEvents()
    qtbot.wait(20)
    QApplication.processEvents()


def _assert_same_as_full_repaint(qtbot, widget: QWidget) -> None:  # noqa: ANN001
    shown = _on_screen(widget)
    widget.repaint()
    _settle(qtbot)
    assert _on_screen(widget) == shown, f"{widget.objectName() or type(widget).__name__} showed stale pixels"


@pytest.fixture
def window(qtbot, tmp_path: Path, make_chain) -> Iterator[MainWindow]:  # noqa: ANN001
    win = MainWindow(CostDocument(make_chain(80)), autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    _settle(qtbot)
    yield win


def _share(model: LayerTableModel, row: int) -> str:
    return model.data(model.index(row, PCT_CONV))


def test_table_after_an_edit_shows_what_a_full_repaint_draws(qtbot, window: MainWindow) -> None:
    table, doc = window.table, window.document
    model = table.table_model
    doc.selection.set_rows([40])  # scrolled into the middle: rows above and below the view exist
    _settle(qtbot)
    before = [_share(model, r) for r in range(doc.row_count())]
    # the conv grows 16 -> 48 channels: its row, the next conv's inferred in_channels, and every share move
    assert model.setData(model.index(40, ARGS), "out_channels=48, kernel_size=3, padding=1")
    _settle(qtbot)
    after = [_share(model, r) for r in range(doc.row_count())]
    assert sum(a != b for a, b in zip(before, after, strict=True)) > 10  # the edit moved many shown shares
    _assert_same_as_full_repaint(qtbot, table.viewport())
    doc.undo_stack.undo()
    _settle(qtbot)
    _assert_same_as_full_repaint(qtbot, table.viewport())


def test_sorted_table_after_an_edit_shows_what_a_full_repaint_draws(qtbot, window: MainWindow) -> None:
    table, doc = window.table, window.document
    model = table.table_model
    table.sortByColumn(PCT_CONV, Qt.SortOrder.DescendingOrder)
    _settle(qtbot)
    assert table.is_sorted()
    doc.selection.set_rows([40])
    _settle(qtbot)
    model.setData(model.index(40, ARGS), "out_channels=48, kernel_size=3, padding=1")
    _settle(qtbot)
    _assert_same_as_full_repaint(qtbot, table.viewport())


def test_diagram_after_an_edit_shows_what_a_full_repaint_draws(qtbot, tmp_path: Path) -> None:
    doc = _resnet_doc(3)
    win = MainWindow(doc, autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.docks["diagram"].raise_()
    _settle(qtbot)
    view = win.views["diagram"].view
    scene = win.views["diagram"].scene
    scene.set_expanded_scopes(["layer1", "layer1.1"])  # one block open, its siblings folded with subtotal, share
    _settle(qtbot)
    row = doc.row_of(doc.graph.by_name("layer1.1.conv1").id)
    labels = {g.node.path: g.label for g in scene.groups()}
    doc.set_layer_arg(row, "out_channels", 64)
    _settle(qtbot)
    assert sum(g.label != labels[g.node.path] for g in scene.groups()) >= 3  # subtotals and shares moved
    _assert_same_as_full_repaint(qtbot, view.viewport())


def test_layer_editor_behind_a_tab_catches_up_when_raised(qtbot, window: MainWindow) -> None:
    doc, editor = window.document, window.editor
    doc.selection.set_rows([4])
    window.docks["hierarchy"].raise_()  # the Layer dock is behind the Modules tab: edits skip its refresh
    _settle(qtbot)
    doc.set_layer_arg(4, "out_channels", 40)
    _settle(qtbot)
    window.docks["editor"].raise_()
    _settle(qtbot)
    assert editor.title.text().startswith("Layer 4")
    assert editor._fields["out_channels"][0].spin.value() == 40  # type: ignore[attr-defined]


def test_totals_copy_as_text(window: MainWindow) -> None:
    text = window.totals.as_text()
    lines = dict(line.split("\t")[:2] for line in text.splitlines())
    assert lines["Params"] == window.totals.values["params"].text()
    assert "MACs" in lines and "Memory access cost" in lines


def test_sorting_and_back_keeps_widths_and_selection(qtbot, window: MainWindow) -> None:
    table, doc = window.table, window.document
    doc.selection.set_rows([7])
    _settle(qtbot)
    widths = [table.columnWidth(c) for c in range(5)]
    table.sortByColumn(PCT_CONV, Qt.SortOrder.DescendingOrder)
    _settle(qtbot)
    assert table.selected_rows() == [7] and table.is_sorted()
    shares = [table.model().index(r, PCT_CONV).data(SORT_ROLE) for r in range(doc.row_count())]
    assert shares == sorted(shares, reverse=True)
    table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    _settle(qtbot)
    assert not table.is_sorted() and table.selected_rows() == [7] and table.source_row(7) == 7
    assert [table.columnWidth(c) for c in range(5)] == widths


def test_module_tree_updates_changed_subtotals_in_place(qtbot) -> None:
    """After an edit the Modules tree shows the new subtotals of the containers and the layer, on the same items
    (expand state kept); a structural edit rebuilds it."""
    from netcost.costing import formatting as fmt
    from netcost.gui.table.hierarchy_tree import PATH_ROLE, HierarchyTreeWidget

    doc = _resnet_doc(3)
    tree = HierarchyTreeWidget(doc)
    qtbot.addWidget(tree)
    tree.show()

    def find(path: str):  # noqa: ANN202 - a QTreeWidgetItem
        return next(i for i in _items(tree.tree) if i.data(0, PATH_ROLE) == path)

    block, layer = find("layer1.1"), find("layer1.1.conv1")
    block.setExpanded(True)
    before = (block.text(2), layer.text(2))
    row = doc.row_of(doc.graph.by_name("layer1.1.conv1").id)
    doc.set_layer_arg(row, "out_channels", 64)
    qtbot.waitUntil(lambda: layer.text(2) != before[1])
    assert find("layer1.1") is block and find("layer1.1.conv1") is layer and block.isExpanded()
    assert block.text(2) != before[0]
    assert layer.text(2) == fmt.si(doc.row_cost(row).params)
    assert block.text(2) == fmt.si(next(h for h in doc.report.hierarchy if h.path == "layer1.1").totals.params)
    doc.remove_layers([row])  # the structure changed: rebuilt without it
    qtbot.waitUntil(lambda: all(i.data(0, PATH_ROLE) != "layer1.1.conv1" for i in _items(tree.tree)))


def _items(tree) -> list:  # noqa: ANN001
    out, stack = [], [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while stack:
        item = stack.pop()
        out.append(item)
        stack.extend(item.child(i) for i in range(item.childCount()))
    return out
