"""`HierarchyTreeWidget`: a traced model's module hierarchy with per-container subtotals.

Containers come from the report's `hierarchy` (their subtotals are the engine's, not summed here); leaves are the
graph's nodes, a node that could not be costed too (marked "not costed", no figures; a container holding one shows
"—" and how many). Expand state is kept per module path, so a convention change or reload of the same model keeps it.
Selecting a leaf or a container selects its rows in the shared selection. A layer list has no hierarchy: the tree
then says so and offers nothing to expand.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from netcost.costing import CONVENTIONS, HierarchyNode, LayerCost, Totals, convention_value
from netcost.costing import formatting as fmt
from netcost.costing.records import DASH, NOT_COSTED
from netcost.gui.common.palette import LIGHT
from netcost.gui.common.plain_text import plain_tip
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.training_scope_menu import install_tree_menu
from netcost.gui.document.training_state import TrainingState

ROWS_ROLE = Qt.ItemDataRole.UserRole  # (first, last) rows of the layer list under an item
PATH_ROLE = Qt.ItemDataRole.UserRole + 1


# A tree item costs ~70 µs to make and fill: above this many leaves (a 100k-node graph took 7 s), a container's
# leaves are made when it is first expanded; its subtotal is shown from the start.
LAZY_LEAVES_ABOVE = 20_000


class HierarchyTreeWidget(QWidget):
    def __init__(self, document: CostDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setObjectName("hierarchy")
        self.expanded: set[str] = set()
        self._built: tuple | None = None  # `_signature` of what the items show
        self._path_items: dict[str, QTreeWidgetItem] = {}  # container path -> item
        self._row_items: dict[int, QTreeWidgetItem] = {}  # leaf row -> item
        self._unbuilt: dict[str, list[int]] = {}  # container path -> rows of its leaves not made yet (lazy)
        self._shown: dict[str | int, Totals] = {}  # path or row -> the totals its item shows
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.info = QLabel(self)
        self.info.setWordWrap(True)
        bar.addWidget(self.info, 1)
        lay.addLayout(bar)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(4)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        for col in (1, 2, 3):
            self.tree.header().setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.tree, 1)
        install_tree_menu(self.tree, TrainingState.of(document), PATH_ROLE)  # freeze / checkpoint for training
        self.tree.itemExpanded.connect(lambda item: self.expanded.add(str(item.data(0, PATH_ROLE))))
        self.tree.itemExpanded.connect(self._build_leaves)
        self.tree.itemCollapsed.connect(lambda item: self.expanded.discard(str(item.data(0, PATH_ROLE))))
        self.tree.itemSelectionChanged.connect(self._on_tree_selection_changed)
        document.documentReset.connect(self.rebuild)
        # an edit changes subtotals: rebuild once the edits of a burst are done (not on every keystroke)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(150)
        self._later.timeout.connect(self._on_report_settled)
        # the rows a burst changed (None: any row, or the structure, may have changed): a 100k-node graph's edit
        # then touches its few items instead of comparing every leaf
        self._pending_rows: set[int] | None = None
        self._shows_problems = False
        document.reportChanged.connect(self._on_report_changed)
        document.layerChanged.connect(self._on_layer_changed)
        document.conventionChanged.connect(lambda _c: self._update_figures())
        self.rebuild()

    # ---- building --------------------------------------------------------------------------------------------
    def _signature(self) -> tuple:
        """What the tree's items stand for: the containers' paths and rows, the leaves' names and types."""
        report = self.document.report
        by_id = report.by_id
        return (tuple((n.path, n.first, n.last, n.not_costed) for n in report.hierarchy),
                tuple((n.id, n.id in by_id) for n in self.document.graph.nodes))

    def _on_report_changed(self, _first: int) -> None:
        rows = self.document.changed_rows()
        if rows is None or not self.document.report.complete or self._shows_problems or self._pending_rows is None:
            self._pending_rows = None
        else:
            self._pending_rows.update(rows)
        self._later.start()

    def _on_layer_changed(self, _row: int, field: str) -> None:
        if field in ("type", "name"):  # what a leaf shows: compared in full once the burst settles
            self._pending_rows = None

    def _on_report_settled(self) -> None:
        """After a burst of edits: the figures that changed, in place (rebuilding Llama-70B's 5,000-item tree
        took 0.2 s, a stall after every edit); the whole tree only when its structure changed."""
        pending, self._pending_rows = self._pending_rows, set()
        if pending is not None:  # argument edits of a costed graph, rows in place: only those rows' leaves
            self._update_rows(pending)
            return
        if self._signature() != self._built:
            self.rebuild()
            return
        report = self.document.report
        for node in report.hierarchy:
            item = self._path_items.get(node.path)
            if item is not None and node.complete and self._shown.get(node.path) != node.totals:
                self._set_figures(item, node.totals, node.path)
        for layer in report.layers:
            item = self._row_items.get(layer.index)
            if item is not None and self._shown.get(layer.index) is not layer.totals:
                self._set_figures(item, layer.totals, layer.index)

    def _update_rows(self, rows: set[int]) -> None:
        report = self.document.report
        for node in report.hierarchy:  # containers (a fifth of the nodes of a transformer): their subtotals
            item = self._path_items.get(node.path)
            if item is not None and self._shown.get(node.path) != node.totals:
                self._set_figures(item, node.totals, node.path)
        for row in rows:
            item, layer = self._row_items.get(row), self.document.row_cost(row)
            if item is not None and layer is not None and self._shown.get(row) is not layer.totals:
                self._set_figures(item, layer.totals, row)

    def rebuild(self) -> None:
        self._pending_rows = set()
        doc = self.document
        self.tree.clear()
        self._path_items.clear()
        self._row_items.clear()
        self._unbuilt.clear()
        self._shown.clear()
        self._built = self._signature()
        report = doc.report
        self._shows_problems = bool(report.problems)  # not-costed marks: the next edit compares in full
        if not report.hierarchy:
            self.info.setText("A layer list is flat: its layers are in the table.")
            self._set_headers()
            return
        self.tree.setRootIsDecorated(True)
        missing = len(report.problems)
        self.info.setText(f"{report.model}: {doc.row_count()} nodes in {len(report.hierarchy)} containers"
                          + (f"; {missing} {NOT_COSTED}" if missing else ""))
        self._set_headers()
        parents: list[tuple[HierarchyNode, QTreeWidgetItem]] = []
        lazy = len(doc.graph.nodes) > LAZY_LEAVES_ABOVE
        nodes = sorted(report.hierarchy, key=lambda n: (n.first, -n.last, n.depth))
        pending = list(nodes)
        by_id = report.by_id
        for i in range(len(doc.graph.nodes)):  # every node: one not costed is listed and marked
            while pending and pending[0].first <= i:
                node = pending.pop(0)
                while parents and not (parents[-1][0].first <= node.first and node.last <= parents[-1][0].last):
                    parents.pop()
                item = self._node_item(node.path.rsplit(".", 1)[-1] or node.type, node.type, node.totals,
                                       (node.first, node.last), node.path)
                if not node.complete:
                    self._set_not_costed(item, node.not_costed)
                self._attach(item, parents[-1][1] if parents else None)
                parents.append((node, item))
            while parents and not parents[-1][0].first <= i <= parents[-1][0].last:
                parents.pop()
            if lazy and parents:
                self._unbuilt.setdefault(parents[-1][0].path, []).append(i)
                parents[-1][1].setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
                continue
            leaf = self._any_leaf(i, by_id)
            self._attach(leaf, parents[-1][1] if parents else None)
        self._restore_expansion(self.tree.invisibleRootItem(), top=True)

    def _set_headers(self) -> None:
        label = CONVENTIONS[self.document.convention].label
        self.tree.setHeaderLabels(["Module", "Type", "Params", label])

    def _attach(self, item: QTreeWidgetItem, parent: QTreeWidgetItem | None) -> None:
        if parent is None:
            self.tree.addTopLevelItem(item)
        else:
            parent.addChild(item)

    def _node_item(self, name: str, type_: str, totals: Totals, rows: tuple[int, int], path: str
                   ) -> QTreeWidgetItem:
        item = QTreeWidgetItem([name, type_, "", ""])
        item.setData(0, ROWS_ROLE, rows)
        item.setData(0, PATH_ROLE, path)
        item.setToolTip(0, plain_tip(path))
        self._path_items[path] = item
        self._set_figures(item, totals, path)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        return item

    def _leaf_item(self, layer: LayerCost, row: int) -> QTreeWidgetItem:
        name = (layer.path or layer.name).rsplit(".", 1)[-1] or layer.type
        item = QTreeWidgetItem([name, layer.type, "", ""])
        item.setData(0, ROWS_ROLE, (row, row))
        item.setData(0, PATH_ROLE, layer.path or layer.name)
        item.setToolTip(0, plain_tip(f"{layer.path or layer.name}: {fmt.shape(layer.input_shape)} → "
                                     f"{fmt.shape(layer.output_shape)}"))
        self._row_items[row] = item
        self._set_figures(item, layer.totals, row)
        return item

    def _set_figures(self, item: QTreeWidgetItem, totals: Totals, key: str | int | None = None) -> None:
        """`key`: the container path or leaf row it shows, so a later edit updates only changed figures."""
        if key is not None:
            self._shown[key] = totals
        item.setText(2, fmt.si(totals.params))
        item.setText(3, fmt.si(convention_value(totals, self.document.convention)))
        for col in (2, 3):
            item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _set_not_costed(self, item: QTreeWidgetItem, nodes: int = 0) -> None:
        """A leaf that could not be costed, or a container holding `nodes` such leaves: "—", never a partial sum."""
        item.setText(2, DASH)
        item.setText(3, NOT_COSTED if not nodes else f"{NOT_COSTED} ({nodes})")
        why = f"{nodes} node(s) inside are {NOT_COSTED}: no subtotal until they are" if nodes else \
            f"{NOT_COSTED}: it (or an input it reads) has an error"
        for col in (2, 3):
            item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(col, why)
            item.setForeground(col, QBrush(LIGHT.same))

    def _update_figures(self) -> None:
        """Convention changed: update the numbers in place (same items, same expand state)."""
        self._set_headers()
        report = self.document.report
        by_path = {n.path: n.totals for n in report.hierarchy if n.complete}
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            first, last = item.data(0, ROWS_ROLE)
            path = str(item.data(0, PATH_ROLE))
            totals = by_path.get(path) if item.childCount() else None
            if totals is None and first == last and not item.childCount() and 0 <= first < self.document.row_count():
                cost = self.document.row_cost(first)
                totals = cost.totals if cost is not None else None
            if totals is not None:
                self._set_figures(item, totals)
            stack.extend(item.child(i) for i in range(item.childCount()))

    def _restore_expansion(self, root: QTreeWidgetItem, top: bool) -> None:
        for i in range(root.childCount()):
            item = root.child(i)
            path = str(item.data(0, PATH_ROLE))
            if item.childCount() or path in self._unbuilt:
                # first view of a model: top-level containers open; later: what the user left open
                item.setExpanded(path in self.expanded or (top and not self.expanded))
                self._restore_expansion(item, top=False)

    def _any_leaf(self, row: int, by_id: dict[str, LayerCost]) -> QTreeWidgetItem:
        """The leaf of graph row `row`: its figures, or marked when it is not costed."""
        graph_node = self.document.graph.nodes[row]
        layer = by_id.get(graph_node.id)
        if layer is not None:
            return self._leaf_item(layer, row)
        name = graph_node.display_name
        leaf = QTreeWidgetItem([name.rsplit(".", 1)[-1] or graph_node.type_label, graph_node.type_label, "", ""])
        leaf.setData(0, ROWS_ROLE, (row, row))
        leaf.setData(0, PATH_ROLE, name)
        self._row_items[row] = leaf
        self._set_not_costed(leaf)
        return leaf

    def _build_leaves(self, item: QTreeWidgetItem) -> None:
        """A container of a large model opened: its leaves, made now, between its sub-containers by row."""
        rows = self._unbuilt.pop(str(item.data(0, PATH_ROLE)), None)
        by_id = self.document.report.by_id
        k = 0
        for row in rows or ():
            while k < item.childCount() and item.child(k).data(0, ROWS_ROLE)[0] < row:
                k += 1
            item.insertChild(k, self._any_leaf(row, by_id))
            k += 1

    def expand_all(self, expanded: bool = True) -> None:
        if expanded:
            for path in list(self._unbuilt):
                self._build_leaves(self._path_items[path])
            self.tree.expandAll()
        else:
            self.tree.collapseAll()

    # ---- selection -------------------------------------------------------------------------------------------
    def _on_tree_selection_changed(self) -> None:
        rows: set[int] = set()
        for item in self.tree.selectedItems():
            first, last = item.data(0, ROWS_ROLE)
            rows.update(range(first, last + 1))
        self.document.selection.set_rows(sorted(rows), self)
