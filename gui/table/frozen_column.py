"""`FrozenColumn`: the layer table's Name column kept in place while the table scrolls sideways (Qt's "frozen
column" example): a second view over the table's left edge that shows only that column, with the table's model,
selection and vertical scroll. At 1280 px the cost columns run off to the right; scrolled to them, a row is still
known by its name."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QHeaderView, QTableView


class FrozenColumn(QTableView):
    """Column `column` of `table`, drawn over the table's own (which scrolls away beneath it)."""

    def __init__(self, table: QTableView, column: int) -> None:
        super().__init__(table)
        self.table, self.column = table, column
        self.setObjectName("frozenNameColumn")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the table, which moves the shared current row
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setHighlightSections(False)
        self.horizontalHeader().setSortIndicatorShown(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(table.verticalScrollMode())
        self.setSelectionBehavior(table.selectionBehavior())
        self.setSelectionMode(table.selectionMode())
        self.setEditTriggers(table.editTriggers())
        self.setAlternatingRowColors(table.alternatingRowColors())
        self.setWordWrap(False)
        self.setTextElideMode(table.textElideMode())
        self.setStyleSheet("QTableView#frozenNameColumn { border: none; }")
        table.viewport().stackUnder(self)
        table.horizontalHeader().sectionResized.connect(self._on_section_resized)
        table.horizontalHeader().sortIndicatorChanged.connect(self._show_sort_indicator)
        self.horizontalHeader().sectionClicked.connect(self._sort_by_name)
        self.verticalScrollBar().valueChanged.connect(table.verticalScrollBar().setValue)
        table.verticalScrollBar().valueChanged.connect(self.verticalScrollBar().setValue)
        self.follow_model()

    def follow_model(self) -> None:
        """Show the table's current model and selection (the table swaps in a sort proxy and back)."""
        model = self.table.model()
        if self.model() is not model:
            self.setModel(model)
            model.modelReset.connect(self._hide_other_columns)
            model.columnsInserted.connect(self._hide_other_columns)
        if self.selectionModel() is not self.table.selectionModel():
            self.setSelectionModel(self.table.selectionModel())
        self._hide_other_columns()
        self.verticalHeader().setDefaultSectionSize(self.table.verticalHeader().defaultSectionSize())
        self._show_sort_indicator()
        self.update_geometry()

    def _hide_other_columns(self, *args: object) -> None:
        for col in range(self.model().columnCount()):
            self.setColumnHidden(col, col != self.column)

    def _on_section_resized(self, section: int, old: int, new: int) -> None:
        if section == self.column:
            self.update_geometry()

    def update_geometry(self) -> None:
        """Over the table's Name column: its width, from the header's top to the viewport's bottom."""
        t = self.table
        width = t.columnWidth(self.column)
        self.setColumnWidth(self.column, width)
        self.horizontalHeader().setFixedHeight(t.horizontalHeader().height())
        frame = t.frameWidth()
        self.setGeometry(t.verticalHeader().width() + frame, frame, width + 1,
                         t.viewport().height() + t.horizontalHeader().height())
        self.setVisible(not t.isColumnHidden(self.column) and width > 0)

    def _show_sort_indicator(self, *args: object) -> None:
        header = self.table.horizontalHeader()
        mine = header.sortIndicatorSection() == self.column
        self.horizontalHeader().setSortIndicator(self.column if mine else -1, header.sortIndicatorOrder())

    def _sort_by_name(self, section: int) -> None:
        """A click on the frozen header sorts the table as a click on its own Name header would."""
        header = self.table.horizontalHeader()
        if not self.table.isSortingEnabled():
            return
        order = Qt.SortOrder.AscendingOrder
        if header.sortIndicatorSection() == self.column and header.sortIndicatorOrder() == order:
            order = Qt.SortOrder.DescendingOrder
        header.setSortIndicator(self.column, order)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """The table's context menu, for the row under the pointer (this view only draws the table's column)."""
        at = self.table.viewport().mapFromGlobal(event.globalPos())
        at = QPoint(max(at.x(), 0), at.y())
        index = self.table.indexAt(at)
        if index.isValid() and not self.table.selectionModel().isRowSelected(index.row(), QModelIndex()):
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        if self.table.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu:
            self.table.customContextMenuRequested.emit(at)
        else:
            self.table.contextMenuEvent(QContextMenuEvent(event.reason(), at, event.globalPos(), event.modifiers()))
