"""`LayerTableView`: the layer table. A sort proxy over `LayerTableModel`, a type combo delegate, the shared
selection kept in both directions, drag-to-move rows, and copy/paste of layers as layer-list JSON."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QDropEvent, QGuiApplication, QResizeEvent, QShowEvent, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QHeaderView, QStyledItemDelegate, QTableView, QWidget

from netcost.costing import FormatError, LayerSpec
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.document_types import row_runs
from netcost.gui.document.training_state import TrainingState
from netcost.gui.table.frozen_column import FrozenColumn
from netcost.gui.table.layer_table_model import (
    ARGS,
    COLUMN_COUNT,
    CONV,
    DELTA_CONV,
    DELTA_PARAMS,
    MACS,
    MEMORY,
    NAME,
    PARAMS,
    SHAPE,
    SHARES_ROLE,
    SORT_ROLE,
    TRAINING_COLUMNS,
    TYPE,
    LayerTableModel,
    duplicate_of_macs,
    supported_types,
)
from netcost.model_io import strict_json
from netcost.model_io.files.layer_file import network_to_dict, parse_layer

Index = QModelIndex | QPersistentModelIndex
CLIPBOARD_KEY = "netcost.clipboard/1"
# a type this long stays whole however narrow the window (a traced model's `aten.arange`, `aten.layer_norm`);
# a longer one is cut at its end, and its tooltip has it whole
TYPE_KEPT_WHOLE = "aten.layer_norm"
SAMPLE_ROWS = 40  # column widths from this many rows while the table is hidden (its view: the rows in it)


def type_combo(parent: QWidget | None = None) -> QComboBox:
    """A combo of every supported layer type, grouped by category with separators."""
    combo = QComboBox(parent)
    combo.setMaxVisibleItems(24)
    for i, (category, names) in enumerate(supported_types().items()):
        if i:
            combo.insertSeparator(combo.count())
        for name in names:
            combo.addItem(name, category)
    model = combo.model()
    if isinstance(model, QStandardItemModel):
        for row in range(model.rowCount()):
            item = model.item(row)
            if item is not None and item.data(Qt.ItemDataRole.UserRole):
                item.setToolTip(str(item.data(Qt.ItemDataRole.UserRole)))
    return combo


class _TypeDelegate(QStyledItemDelegate):
    def createEditor(self, parent: QWidget, option: Any, index: Index) -> QWidget:
        combo = type_combo(parent)
        combo.activated.connect(lambda _i: self.commitData.emit(combo))
        return combo

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        editor.setCurrentText(str(index.data(Qt.ItemDataRole.EditRole)))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


class LayerTableView(QTableView):
    def __init__(self, document: CostDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.table_model = LayerTableModel(document, self)
        # The sort proxy sits between only while a column is sorted: it asks the Python model two extra calls
        # (rowCount, columnCount) for every role of every painted cell, a third of an edit's repaint.
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSortRole(SORT_ROLE)
        self.setModel(self.table_model)
        self.setObjectName("layerTable")
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # document order until a header is clicked
        self.setItemDelegateForColumn(TYPE, _TypeDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        # cut at the end: "laye…onv1" and "1×64…×112" read as neither name nor shape; the full text is a tooltip
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # the last column is not stretched (Memory took 600 px at 1920 while the names were cut): spare width
        # goes to the names and arguments first (`_set_column_widths`)
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        # each Δ column right after the value it changes (shown only with a baseline): at the table's end they were
        # off screen at 1280 px. Moving the sections keeps the model's columns, exports included, as they are.
        for delta, value in ((DELTA_PARAMS, PARAMS), (DELTA_CONV, CONV)):
            header.moveSection(header.visualIndex(delta), header.visualIndex(value) + 1)
        for col in reversed(TRAINING_COLUMNS):  # a training step's figures right after the forward's memory
            header.moveSection(header.visualIndex(col), header.visualIndex(MEMORY) + 1)
        self.training = TrainingState.of(document)
        self.training.modeChanged.connect(lambda _mode: self.show_training_columns())
        for col in TRAINING_COLUMNS:  # (before the first fit: shown only in Training mode)
            self.setColumnHidden(col, not self.training.training)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        # column widths from the first 100 rows: fitting read all 498 rows of GPT-2 on every open (3 s of 3.9)
        self.verticalHeader().setResizeContentsPrecision(100)
        self._syncing = False
        self._fitted = False
        self._user_sized = False  # the user dragged a column edge: the window's resizes keep their widths
        self._fitting = False
        self._show_convention_columns(document.convention)
        self._set_column_widths()
        header.sectionResized.connect(self._on_header_section_resized)
        document.conventionChanged.connect(self._on_document_convention_changed)
        sel = self.selectionModel()
        sel.selectionChanged.connect(self._on_view_selection_changed)
        document.selection.rowsChanged.connect(self._on_document_selection_changed)
        document.documentReset.connect(self._on_document_reset)
        header.sortIndicatorChanged.connect(self._on_sort_indicator_changed)
        self.frozen = FrozenColumn(self, NAME)  # the names stay put while the table scrolls sideways

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:  # the first fit that knows the real viewport width
            self._fitted = True
            QTimer.singleShot(0, self._set_column_widths)

    def _on_document_reset(self) -> None:
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self._on_sort_indicator_changed()
        self._user_sized = False
        self._show_convention_columns(self.document.convention)
        self._set_column_widths()

    def _on_document_convention_changed(self, convention: str) -> None:
        self._show_convention_columns(convention)
        self._set_column_widths()  # the header names another convention: "ult-adds" was all that showed

    def _show_convention_columns(self, convention: str) -> None:
        """One MACs column, not two, when the chosen convention is MACs."""
        self._fitting = True  # hiding a column resizes its section: not the user's doing
        try:
            self.setColumnHidden(MACS, duplicate_of_macs(convention))
        finally:
            self._fitting = False

    def show_delta_columns(self, shown: bool) -> None:
        """Show or hide the Δ columns (a baseline is pinned or not) and fit the columns again."""
        self._show_columns((DELTA_PARAMS, DELTA_CONV), shown)

    def show_training_columns(self) -> None:
        """Backward FLOPs and saved activations in Training mode only."""
        self._show_columns(TRAINING_COLUMNS, self.training.training)

    def _show_columns(self, columns: tuple[int, ...], shown: bool) -> None:
        self._fitting = True  # showing a column resizes its section: not the user's doing
        try:
            for col in columns:
                self.setColumnHidden(col, not shown)
        finally:
            self._fitting = False
        if not self._user_sized:
            self._set_column_widths()

    def _on_header_section_resized(self, *args: int) -> None:
        if not self._fitting:
            self._user_sized = True

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.isVisible() and not self._user_sized and event.size().width() != event.oldSize().width():
            self._set_column_widths()

    def updateGeometries(self) -> None:
        super().updateGeometries()  # (the header and viewport took their sizes)
        frozen = getattr(self, "frozen", None)
        if frozen is not None:
            frozen.update_geometry()

    def _set_column_widths(self) -> None:
        """Fit the columns to their contents (the rows in view) and their header (room for the sort arrow). If
        they do not fit the viewport, the text columns give up width first, so the numbers stay readable at
        1280 px; spare width goes to the names and arguments (cut first), then to every column alike."""
        header = self.horizontalHeader()
        hfm = header.fontMetrics()
        shown = [c for c in range(COLUMN_COUNT) if not self.isColumnHidden(c)]
        sorted_by = header.sortIndicatorSection() if self.is_sorted() else -1
        natural = {}
        for col in shown:
            title = str(self.model().headerData(col, Qt.Orientation.Horizontal))
            arrow = 18 if col == sorted_by else 0  # the sort arrow takes room from the title of its column only
            head = max(hfm.horizontalAdvance(line) for line in title.split("\n")) + 14 + arrow
            natural[col] = max(self._content_width(col), head, 40)
        widths = dict(natural)
        widths[NAME] = min(widths[NAME], 200)
        widths[ARGS] = min(widths[ARGS], 230)
        available = self.viewport().width() if self.isVisible() else 800
        excess = sum(widths.values()) - available
        # the arguments are cut first (their tooltip has them whole), the names last and least: a row is found
        # by its name
        type_floor = self.fontMetrics().horizontalAdvance(TYPE_KEPT_WHOLE) + 14  # (60 px cut `aten.arange`)
        for col, floor in ((ARGS, 60), (TYPE, type_floor), (SHAPE, 100), (NAME, 110)):
            if excess <= 0:
                break
            cut = min(excess, max(0, widths[col] - floor))
            widths[col] -= cut
            excess -= cut
        spare = max(0, -excess)
        for col in (NAME, ARGS):  # the cut text columns back to their full width, as far as there is room
            grow = min(spare, max(0, natural[col] - widths[col]))
            widths[col] += grow
            spare -= grow
        if spare > 0:  # what is left, spread over every column by its width: no ragged gap, no 600 px Memory
            total = sum(widths.values())
            for col in widths:
                widths[col] += spare * widths[col] // total
        self._fitting = True
        try:
            for col, w in widths.items():
                self.setColumnWidth(col, w)
        finally:
            self._fitting = False

    def _content_width(self, col: int) -> int:
        """The widest cell of `col` among the rows in view (the first rows while hidden): Qt's sizeHintForColumn
        read some 800 rows a column of a 100k-node graph, 0.8 s of its open."""
        rows = self.model().rowCount()
        first = max(0, self.rowAt(0)) if self.isVisible() else 0
        last = self.rowAt(self.viewport().height() - 1) if self.isVisible() else -1
        last = min(rows - 1, first + SAMPLE_ROWS - 1) if last < 0 else last
        model = self.model()
        hint = max((self.sizeHintForIndex(model.index(r, col)).width() for r in range(first, last + 1)), default=0)
        return hint + (1 if self.showGrid() else 0)

    def dataChanged(self, top_left: Index, bottom_right: Index, roles: Any = ()) -> None:
        """Qt repaints the whole viewport for a changed range that starts above it (after an edit every row's
        share changes): the range is clipped to the rows in view, so an edit repaints only the cells it changed."""
        if top_left.isValid() and bottom_right.isValid() and top_left != bottom_right and \
                self.state() != QAbstractItemView.State.EditingState:  # an open editor takes the new value
            first = max(0, self.rowAt(0))
            last = self.rowAt(self.viewport().height() - 1)
            last = bottom_right.row() if last < 0 else last
            top, bottom = max(top_left.row(), first), min(bottom_right.row(), last)
            if top > bottom:
                return
            if list(roles) == [SHARES_ROLE]:  # only the cells whose share text moved
                moved = tuple(r for r in range(top, bottom + 1) if self.table_model.shares_moved(self.source_row(r)))
                for a, b in row_runs(moved):
                    super().dataChanged(top_left.siblingAtRow(a), bottom_right.siblingAtRow(b), [])
                return
            top_left, bottom_right = top_left.siblingAtRow(top), bottom_right.siblingAtRow(bottom)
        super().dataChanged(top_left, bottom_right, list(roles))

    # ---- rows in document order ----------------------------------------------------------------------------
    def _sorting(self) -> bool:
        return self.model() is self.proxy

    def _to_source(self, index: Index) -> QModelIndex:
        return self.proxy.mapToSource(index) if self._sorting() else QModelIndex(index)

    def _from_source(self, index: QModelIndex) -> QModelIndex:
        return self.proxy.mapFromSource(index) if self._sorting() else index

    def source_row(self, view_row: int) -> int:
        return self._to_source(self.model().index(view_row, 0)).row()

    def selected_rows(self) -> list[int]:
        return sorted({self._to_source(i).row() for i in self.selectionModel().selectedRows()})

    def current_row(self) -> int | None:
        index = self.currentIndex()
        return self._to_source(index).row() if index.isValid() else None

    def is_sorted(self) -> bool:
        return self.horizontalHeader().sortIndicatorSection() >= 0 and self._sorting()

    def _use_proxy(self, on: bool) -> None:
        """Put the sort proxy between the view and the model, or take it out; the columns (widths, hidden ones,
        the sort indicator), the selection and the current row are kept."""
        if on == self._sorting():
            return
        header = self.horizontalHeader()
        state = header.saveState()
        old = self.selectionModel()
        self._fitting = True  # restoring the widths is not the user's resize
        try:
            if on:
                self.proxy.setSourceModel(self.table_model)
            self.setModel(self.proxy if on else self.table_model)
            if not on:
                self.proxy.setSourceModel(None)  # it would keep mapping every edit while unused
            header.blockSignals(True)
            try:
                header.restoreState(state)
            finally:
                header.blockSignals(False)
        finally:
            self._fitting = False
        if old is not None:
            old.deleteLater()
        self.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self.frozen.follow_model()
        self._on_document_selection_changed(self.document.selection.rows, None)

    # ---- selection sync --------------------------------------------------------------------------------------
    def _on_view_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if not self._syncing:
            self.document.selection.set_rows(self.selected_rows(), self)

    def _on_document_selection_changed(self, rows: list[int], source: object) -> None:
        if source is self:
            return
        self._syncing = True
        try:
            selection = QItemSelection()
            n = self.table_model.rowCount()
            for r in rows:
                if 0 <= r < n:
                    left = self._from_source(self.table_model.index(r, 0))
                    right = self._from_source(self.table_model.index(r, COLUMN_COUNT - 1))
                    selection.select(left, right)
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.selectionModel().select(selection, flags)
            if rows and rows[0] < n:
                current = self._from_source(self.table_model.index(rows[0], 0))
                self.selectionModel().setCurrentIndex(current, QItemSelectionModel.SelectionFlag.NoUpdate)
                self.scrollTo(current)
        finally:
            self._syncing = False
        self._fitted = False

    # ---- drag to move ------------------------------------------------------------------------------------------
    def _on_sort_indicator_changed(self, *_: Any) -> None:
        header = self.horizontalHeader()
        section = header.sortIndicatorSection()
        self._use_proxy(section >= 0)
        if section >= 0:
            self.proxy.sort(section, header.sortIndicatorOrder())
        # rows can be dragged only in the document's order: in a sorted view "drop here" has no meaning
        self.setDragEnabled(not self.is_sorted())
        if self.isVisible() and not self._user_sized:
            self._set_column_widths()  # room for the arrow in the sorted column's header

    def drop_row(self, pos: QPoint) -> int:
        """The document row a drop at viewport position `pos` inserts before (upper half of a row: before it,
        lower half: after it, below the last row: at the end)."""
        index = self.indexAt(pos)
        if not index.isValid():
            return self.document.row_count()
        dest = self.source_row(index.row())
        return dest + 1 if pos.y() > self.visualRect(index).center().y() else dest

    def dropEvent(self, event: QDropEvent) -> None:
        if event.source() is not self or self.is_sorted():
            event.ignore()
            return
        rows = self.selected_rows()
        if rows:  # one undo step, through the document (a non-contiguous selection is gathered at the drop)
            self.document.move_rows(rows, self.drop_row(event.position().toPoint()))
        # CopyAction: the view must not remove the "moved" source rows itself; the document already moved them
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.stopAutoScroll()
        self.setState(QAbstractItemView.State.NoState)
        self.viewport().update()

    # ---- clipboard ---------------------------------------------------------------------------------------------
    def copy_selection(self) -> int:
        rows = self.selected_rows()
        if not rows:
            return 0
        net = self.document.network
        layers = network_to_dict(net.__class__(tuple(net.layers[r] for r in rows), net.input_shape))["layers"]
        QGuiApplication.clipboard().setText(json.dumps({"format": CLIPBOARD_KEY, "layers": layers}, indent=1))
        return len(rows)

    def paste(self) -> int:
        """Insert the clipboard's layers after the current row as one undo step. Raises FormatError if the text is
        not layers."""
        specs = parse_clipboard(QGuiApplication.clipboard().text())
        rows = self.selected_rows()
        at = rows[-1] + 1 if rows else self.document.row_count()
        self.document.insert_layers(at, specs, f"Paste {len(specs)} layer{'s' * (len(specs) > 1)}")
        return len(specs)


def parse_clipboard(text: str) -> list[LayerSpec]:
    """Layers from text: our clipboard JSON, a layer-list file's JSON, or a JSON list of layer objects."""
    try:
        data = strict_json.loads(text)
    except FormatError as e:
        raise FormatError("", f"the clipboard does not hold layers (expected layer-list JSON; {e.reason})") from None
    items = data.get("layers") if isinstance(data, dict) else data
    if isinstance(data, dict) and "type" in data:
        items = [data]
    if not isinstance(items, list) or not items:
        raise FormatError("", "the clipboard does not hold layers (expected layer-list JSON)")
    return [parse_layer(item, f"layers[{i}]") for i, item in enumerate(items)]

