"""LayerTableModel: Qt's model tester, cell texts, edits through setData, invalid input, minimal dataChanged."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QMimeData, QModelIndex, QPointF, QSortFilterProxyModel, Qt
from PySide6.QtGui import QDropEvent

from netcost.costing import LayerSpec, Network
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.table.layer_table_model import (
    ARGS,
    CONV,
    ERROR_ROLE,
    MEMORY,
    NAME,
    PARAMS,
    PCT_CONV,
    SORT_ROLE,
    TYPE,
    LayerTableModel,
    format_args,
    parse_args,
)

DISPLAY = Qt.ItemDataRole.DisplayRole


def text(model: LayerTableModel, row: int, col: int) -> str:
    return str(model.data(model.index(row, col), DISPLAY))


def test_model_tester_through_edits(qtmodeltester, alexnet: Network) -> None:
    # explicit names: an unnamed layer is called by its row (`ReLU-5`), which the tester would see shift
    named = replace(alexnet, layers=tuple(replace(s, name=s.name or f"l{i}") for i, s in enumerate(alexnet.layers)))
    doc = CostDocument(named)
    model = LayerTableModel(doc)
    qtmodeltester.check(model)
    # the tester stays connected and checks every signal of these changes
    doc.insert_layers(2, [LayerSpec("ReLU", name="r"), LayerSpec("Identity", name="i")])
    doc.remove_layers([0, 5])
    doc.move_layers(0, 1, 6)
    doc.set_layer_arg(2, "out_channels", 64)
    doc.undo_stack.undo()
    doc.set_network(alexnet)
    qtmodeltester.check(model)


def test_cells(alexnet: Network) -> None:
    model = LayerTableModel(CostDocument(alexnet))
    # ten cost columns, Latency, two Δ-vs-baseline columns and two training columns
    assert model.rowCount() == len(alexnet.layers) and model.columnCount() == 15
    assert text(model, 0, NAME) == "conv1" and text(model, 0, TYPE) == "Conv2d"
    assert text(model, 0, ARGS) == "3→96 k11 s4 p2 no bias"  # in_channels 3 inferred from the input
    assert text(model, 0, PARAMS) == "34.8 K"  # 96 * 3 * 11 * 11 = 34,848
    assert model.data(model.index(0, PARAMS), SORT_ROLE) == 34848
    assert model.headerData(CONV, Qt.Orientation.Horizontal) == "FLOPs"
    assert model.flags(model.index(0, ARGS)) & Qt.ItemFlag.ItemIsEditable
    assert not model.flags(model.index(0, PARAMS)) & Qt.ItemFlag.ItemIsEditable


def test_set_data_changes_totals_one_undo_step(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    model = LayerTableModel(doc)
    params = doc.report.totals.params
    with qtbot.waitSignal(doc.reportChanged):
        assert model.setData(model.index(0, ARGS), "out_channels=64, kernel_size=11, stride=4, padding=2, bias=False")
    assert doc.report.totals.params < params and doc.undo_stack.count() == 1
    assert text(model, 0, PARAMS) == "23.2 K"  # 64 * 3 * 11 * 11 = 23,232
    doc.undo_stack.undo()
    assert doc.report.totals.params == params


def test_invalid_input_shown_not_applied(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    model = LayerTableModel(doc)
    valid = doc.report
    model.setData(model.index(3, ARGS), "out_channels=192, kernel_size=5, padding=2, groups=5")
    # rows above keep their costs; the bad one and all below have none (shown as not costed), never old numbers
    assert doc.row_cost(2) == valid.layers[2] and doc.row_cost(3) is None and not doc.report.complete
    assert text(model, 3, PARAMS) == "—" and text(model, 7, PARAMS) == "—"
    assert doc.spec(3).args["groups"] == 5  # the typed value is kept
    message = model.data(model.index(3, ARGS), ERROR_ROLE)
    assert message and "groups" in message
    assert model.data(model.index(3, ARGS), Qt.ItemDataRole.DecorationRole) is not None
    assert "groups" in model.data(model.index(3, NAME), Qt.ItemDataRole.ToolTipRole)
    assert "g5" in text(model, 3, ARGS)
    assert model.data(model.index(7, PARAMS), Qt.ItemDataRole.FontRole).italic()  # stale rows below
    model.setData(model.index(3, ARGS), "abc=1, kernel_size=x")
    assert "unknown argument 'abc'" in str(doc.error)


def test_type_change_keeps_compatible_args(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    model = LayerTableModel(doc)
    model.setData(model.index(3, TYPE), "DepthwiseSeparableConv2d")
    assert doc.spec(3).type == "DepthwiseSeparableConv2d" and doc.spec(3).args["out_channels"] == 192
    assert doc.error is None


def test_data_changed_only_affected_rows(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    model = LayerTableModel(doc)
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda a, b, *_: changes.append((a.row(), b.row(), a.column(), b.column())))
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    doc.set_layer_arg(6, "out_channels", 256)
    assert resets == []
    assert (6, 6, NAME, ARGS) in changes  # the edited row's own cells
    assert all(first >= 6 or col_b <= PCT_CONV + 1 for first, _, _, col_b in changes)


def test_sorting_in_proxy_keeps_document_order(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    model = LayerTableModel(doc)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.sort(PARAMS, Qt.SortOrder.DescendingOrder)
    assert proxy.index(0, NAME).data() == "fc1"  # 9216 * 4096 + 4096 parameters
    assert doc.spec(0).name == "conv1"


def test_convention_renames_header(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    model = LayerTableModel(doc)
    with qtbot.waitSignal(model.headerDataChanged):
        doc.set_convention("fvcore")
    # a long name takes two header lines (its column stays as narrow as its numbers)
    assert model.headerData(CONV, Qt.Orientation.Horizontal) == "fvcore\nflops"
    assert model.headerData(PCT_CONV, Qt.Orientation.Horizontal) == "% fvcore\nflops"


def test_args_text_round_trip() -> None:
    args = {"out_channels": 96, "kernel_size": [11, 5], "padding": "same", "bias": False}
    assert parse_args(format_args(args)) == args
    assert parse_args("out_channels=12x") == {"out_channels": "12x"}


def test_opaque_and_functional_rows_keep_what_the_trace_saw() -> None:
    from netcost.costing import Totals
    from netcost.costing.graph import Graph, GraphInput, Measured, Node, Ref
    from netcost.costing.graph_eval import evaluate_graph

    measured = Measured((((1, 8), "float"),), (((1, 8), "float"),), Totals(macs=5), "other")
    graph = Graph((Node("fc", "Linear", {"out_features": 8}, (Ref("x"),), name="fc"),
                   Node("custom", "Swish", {}, (Ref("fc"),), name="custom", measured=measured, label="Swish"),
                   Node("add", "add", {}, (Ref("custom"), Ref("x")), name="add", label="aten.add")),
                  (GraphInput("x", (1, 8)),))
    doc = CostDocument()
    doc.set_report(evaluate_graph(graph))
    model = LayerTableModel(doc)
    assert model.rowCount() == 3 and [text(model, r, TYPE) for r in range(3)] == ["Linear", "Swish", "aten.add"]
    editable = [[bool(model.flags(model.index(r, c)) & Qt.ItemFlag.ItemIsEditable) for c in (NAME, TYPE, ARGS)]
                for r in range(3)]
    assert editable == [[True, True, True], [True, False, False], [True, False, False]]
    assert not model.setData(model.index(1, ARGS), "x=1") and model.setData(model.index(2, NAME), "residual")
    assert "no NetCost formula" in model.data(model.index(1, ARGS), Qt.ItemDataRole.ToolTipRole)
    assert model.rowCount(model.index(0, 0)) == 0 and model.index(0, 0).parent() == QModelIndex()


class _DropFromTable(QDropEvent):
    """A drop whose drag started in `view` (QDropEvent.source() is only set by a real drag, which the offscreen
    platform cannot run; tests/gui runs headless)."""

    def __init__(self, view: object, pos: QPointF, mime: QMimeData) -> None:
        super().__init__(pos, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier)
        self._view = view

    def source(self) -> object:  # noqa: D102
        return self._view


def _drop_on(view, row: int, lower: bool) -> None:  # noqa: ANN001
    rect = view.visualRect(view.model().index(row, 0))
    y = rect.center().y() + (rect.height() // 4 if lower else -rect.height() // 4)
    mime = view.model().mimeData([view.model().index(r, 0) for r in view.selected_rows()])
    view.dropEvent(_DropFromTable(view, QPointF(rect.center().x(), y), mime))


def test_drag_rows_moves_them_in_one_undo_step(qtbot, alexnet: Network) -> None:
    from netcost.gui.table.layer_table_view import LayerTableView

    doc = CostDocument(alexnet)
    view = LayerTableView(doc)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    model = view.table_model
    assert view.dragEnabled() and model.flags(model.index(0, NAME)) & Qt.ItemFlag.ItemIsDragEnabled
    doc.selection.set_rows([0])  # conv1, dropped on the lower half of row 3 (conv2): after it
    _drop_on(view, 3, lower=True)
    # an unnamed layer keeps the name it was given (its row when it was made): names do not move under the user
    assert [text(model, r, NAME) for r in range(4)] == ["ReLU-1", "MaxPool2d-2", "conv2", "conv1"]
    assert doc.undo_stack.count() == 1 and doc.selection.rows == [3]
    assert view.selected_rows() == [3]  # the table shows the moved layer selected
    doc.selection.set_rows([1, 5])  # a non-contiguous selection, dropped on the upper half of row 0: first
    _drop_on(view, 0, lower=False)
    assert [text(model, r, NAME) for r in range(3)] == ["MaxPool2d-2", "MaxPool2d-5", "ReLU-1"]
    assert doc.undo_stack.count() == 2 and doc.selection.rows == [0, 1]
    doc.undo_stack.undo()  # one step back: order and selection as before the drop
    # an unnamed layer keeps the name it was given (its row when it was made): names do not move under the user
    assert [text(model, r, NAME) for r in range(4)] == ["ReLU-1", "MaxPool2d-2", "conv2", "conv1"]
    assert doc.selection.rows == [1, 5]
    doc.undo_stack.undo()
    assert doc.network == alexnet and doc.selection.rows == [0]


def test_no_drag_move_in_a_sorted_table(qtbot, alexnet: Network) -> None:
    from netcost.gui.table.layer_table_view import LayerTableView

    doc = CostDocument(alexnet)
    view = LayerTableView(doc)
    qtbot.addWidget(view)
    view.show()
    view.sortByColumn(PARAMS, Qt.SortOrder.DescendingOrder)
    assert not view.dragEnabled()  # "drop between these rows" means nothing in cost order
    doc.selection.set_rows([0])
    _drop_on(view, 3, lower=True)
    assert doc.network == alexnet and doc.undo_stack.count() == 0
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    assert view.dragEnabled()


def _shown_table(qtbot, doc: CostDocument, width: int):  # noqa: ANN202
    from netcost.gui.table.layer_table_view import LayerTableView

    view = LayerTableView(doc)
    qtbot.addWidget(view)
    view.resize(width, 400)
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(10)  # the first fit runs once the viewport has its width
    return view


def _headers(view) -> list[str]:  # noqa: ANN001
    model = view.model()
    return [str(model.headerData(c, Qt.Orientation.Horizontal)) for c in range(model.columnCount())
            if not view.isColumnHidden(c)]


def test_one_macs_column_under_the_macs_convention(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    view = _shown_table(qtbot, doc, 1000)
    assert _headers(view).count("MACs") == 1 and "FLOPs" in _headers(view)
    doc.set_convention("macs")
    assert _headers(view).count("MACs") == 1 and "% MACs" in _headers(view)
    doc.set_convention("flops")
    assert _headers(view).count("MACs") == 1 and "FLOPs" in _headers(view)


def test_columns_fit_their_headers_and_numbers_after_a_convention_change(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    view = _shown_table(qtbot, doc, 1400)
    doc.set_convention("torchinfo")  # "torchinfo mult-adds": only "ult-adds" showed before
    header = view.horizontalHeader()
    fm = header.fontMetrics()
    for col in range(view.model().columnCount()):
        if view.isColumnHidden(col):
            continue
        title = str(view.model().headerData(col, Qt.Orientation.Horizontal))
        assert view.columnWidth(col) >= max(fm.horizontalAdvance(t) for t in title.split("\n")) + 12, title
        assert view.columnWidth(col) >= view.sizeHintForColumn(col), title  # no number or name cut
    # at 1920 px the spare room is shared out: Memory (the last column) was stretched to ~600 px
    memory = view.columnWidth(MEMORY)
    assert memory <= 2 * view.sizeHintForColumn(MEMORY)
    used = sum(view.columnWidth(c) for c in range(view.model().columnCount()) if not view.isColumnHidden(c))
    assert view.viewport().width() - 40 <= used <= view.viewport().width()  # no ragged gap, no scroll bar


def test_a_name_that_looks_like_markup_shows_as_written(alexnet: Network) -> None:
    """Qt renders a tooltip as HTML when it merely looks like markup: a layer called `<b>fc</b>` must read as
    typed, not as a bold `fc`."""
    from PySide6.QtGui import QTextDocument

    doc = CostDocument(alexnet)
    model = LayerTableModel(doc)
    doc.rename_layer(15, "<b>fc</b>")
    doc.set_layer_arg(15, "out_features", -3)  # invalid: the error tooltip names the layer
    tip = model.data(model.index(15, ARGS), Qt.ItemDataRole.ToolTipRole)
    rendered = QTextDocument()
    rendered.setHtml(tip)
    assert "<b>fc</b>" in rendered.toPlainText() and "out_features" in rendered.toPlainText()
