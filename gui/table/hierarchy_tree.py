"""`HierarchyTreeWidget`: a traced model's module hierarchy with per-container subtotals.

Containers are the report's `hierarchy` (their subtotals are the engine's, not summed here), nested as the graph's
scope tree (`Graph.scope_tree`) nests them; leaves are the graph's nodes, a node that could not be costed too
(marked "not costed", no figures; a container holding one shows "—" and how many). Expand state is kept per module
path, so a convention change or reload of the same model keeps it. Selecting a leaf or a container selects its rows
in the shared selection. A layer list has no hierarchy: the tree then says so and offers nothing to expand.

A large model's items are made when their container is first opened (a container shows its expand arrow and its
subtotal from the start): making all 100k items of a 100k-node graph took seconds.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QFont
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
from netcost.costing.scope_tree import ROOT
from netcost.gui.common.gc_pause import without_gc
from netcost.gui.common.palette import LIGHT
from netcost.gui.common.plain_text import plain_tip
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.training_scope_menu import install_tree_menu
from netcost.gui.document.training_state import TrainingState

ROWS_ROLE = Qt.ItemDataRole.UserRole  # (first, last) rows of the layer list under an item
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
_FIGURE_ALIGN = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter  # (one enum `|`, not one per item)


# A tree item costs ~70 µs to make and fill: above this many graph nodes (Llama-70B's 5,000 took 0.2 s, a
# 100k-node graph seconds), a container's items are made when it is first opened.
LAZY_LEAVES_ABOVE = 2_000
# In a shown window a container holding more items than this makes them this many per event-loop pass (a
# 100k-node graph's 6,666 layers: ~130 ms in one pass); what reads them first completes them (`_complete`).
FILL_PASS = 1_500


class _ItemsByPath(dict[str, QTreeWidgetItem]):
    """Container path -> its item; asking for one not made yet (`[]`) makes it, and the containers above it
    (`get` answers only what is made)."""

    def __init__(self, make: Callable[[str], None]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, path: str) -> QTreeWidgetItem:
        self._make(path)
        return dict.__getitem__(self, path)


class HierarchyTreeWidget(QWidget):
    def __init__(self, document: CostDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setObjectName("hierarchy")
        self.expanded: set[str] = set()
        self._built: tuple | None = None  # `_signature` of what the items show
        self._path_items = _ItemsByPath(self._make_down_to)  # container path -> item (those made)
        self._row_items: dict[int, QTreeWidgetItem] = {}  # leaf row -> item
        self._unbuilt: set[str] = set()  # containers made whose insides are not (a large model's, until opened)
        self._containers: tuple[tuple[HierarchyNode, ...] | None, dict[str, HierarchyNode]] = (None, {})  # by path
        self._bold: QFont | None = None  # a container's name font
        self._shown: dict[str | int, Totals] = {}  # path or row -> the totals its item shows
        self._pending: list[tuple[QTreeWidgetItem, list[tuple[int, str | None]]]] = []  # (item, contents to make)
        self._more = QTimer(self)  # the next FILL_PASS of them, in the next event-loop pass
        self._more.setSingleShot(True)
        self._more.setInterval(0)
        self._more.timeout.connect(self._fill_more)
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
        self.tree.itemExpanded.connect(self._on_expanded)
        self.tree.itemCollapsed.connect(lambda item: self.expanded.discard(str(item.data(0, PATH_ROLE))))
        self.tree.itemSelectionChanged.connect(self._on_tree_selection_changed)
        document.documentReset.connect(self._on_document_reset)
        self._soon = QTimer(self)  # a new document's tree, in the event-loop pass after the one that shows it
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self.rebuild)
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
        ids = self.document.graph.index
        # the node ids in row order and those not costed, as C-level copies (a tuple per node: 100k nodes ~30 ms)
        return (tuple((n.path, n.first, n.last, n.not_costed) for n in report.hierarchy),
                tuple(ids), frozenset(ids.keys() - report.by_id.keys()))

    def _on_document_reset(self) -> None:
        """In a shown window the tree is made in a pass of its own: the pass that shows a new model then holds
        the table and the diagram only (opening Llama-70B: 85 ms, the tree ~20 ms more). Out of a window, at once."""
        if self.window().isVisible():
            self._soon.start()
        else:
            self.rebuild()

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

    @without_gc
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

    @without_gc  # (100k nodes: its 120k small tuples set off full collections of the loaded model, ~0.9 s)
    def rebuild(self) -> None:
        self._soon.stop()
        self._pending.clear()
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
        root = self.tree.invisibleRootItem()
        self._fill(root, None, deep=len(doc.graph.nodes) <= LAZY_LEAVES_ABOVE)
        self._restore_expansion(root, top=True)

    def _hierarchy(self) -> dict[str, HierarchyNode]:
        """The current report's containers by path (what a container made now shows)."""
        hierarchy = self.document.report.hierarchy
        if self._containers[0] is not hierarchy:  # (keyed by the tuple: an old report is not kept alive)
            self._containers = (hierarchy, {n.path: n for n in hierarchy})
        return self._containers[1]

    def _fill(self, item: QTreeWidgetItem, path: str | None, deep: bool) -> None:
        """Make the items inside container `path` (None: the top level, under the invisible root), in row order;
        with `deep` the items inside those too, else each container inside waits until it is opened."""
        hier = self._hierarchy()
        tree = self.document.graph.scope_tree
        if path is not None:
            self._unbuilt.discard(path)
            if path not in tree or path not in hier:  # a structural edit is about to rebuild the tree
                return
        if path is None and ROOT in hier:  # a traced model declares its root module: one top-level item
            contents: list[tuple[int, str | None]] = [(tree.root.first, ROOT)]
        else:
            contents = tree.contents(path or ROOT, hier.__contains__)
        if not deep and len(contents) > FILL_PASS and self.window().isVisible():
            self._pending.append((item, contents[FILL_PASS:]))
            contents = contents[:FILL_PASS]
            self._more.start()
        item.addChildren(self._made(contents, deep))

    def _made(self, contents: list[tuple[int, str | None]], deep: bool) -> list[QTreeWidgetItem]:
        """The items of `contents` (a container's rows and inner containers, `ScopeTree.contents`)."""
        hier = self._hierarchy()
        by_id = self.document.report.by_id
        rows = len(self.document.graph.nodes)
        children = []
        for row, inner in contents:
            if inner is None:
                if row < rows:  # (a part made after a structural edit, before the rebuild that follows it)
                    children.append(self._any_leaf(row, by_id))
                continue
            if inner not in hier:
                continue
            child = self._container_item(hier[inner])
            children.append(child)
            if deep:
                self._fill(child, inner, deep=True)
            else:
                self._unbuilt.add(inner)
                child.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        return children

    @without_gc
    def _fill_more(self) -> None:
        """The next part of a long container's items (`FILL_PASS`), opened where the user left them open."""
        if not self._pending:
            return
        item, rest = self._pending[0]
        if len(rest) > FILL_PASS:
            self._pending[0] = (item, rest[FILL_PASS:])
        else:
            self._pending.pop(0)
        made = self._made(rest[:FILL_PASS], deep=False)
        item.addChildren(made)
        self._restore_items(made, top=False)
        if self._pending:
            self._more.start()

    def _complete(self) -> None:
        """Every part still to make, now (something reads the items)."""
        while self._pending:
            self._fill_more()

    def _make_down_to(self, path: str) -> None:
        """Make the items of the containers around `path`, down to its own (asked for before they were opened)."""
        self._complete()
        hier = self._hierarchy()
        tree = self.document.graph.scope_tree
        if path not in hier or path not in tree:
            return
        up = next((p for p in tree.chain(path) if p != path and p in hier), None)
        if up is not None and (up in self._unbuilt or up not in self._path_items):
            self._fill(self._path_items[up], up, deep=False)

    def _container_item(self, node: HierarchyNode) -> QTreeWidgetItem:
        item = self._node_item(node.path.rsplit(".", 1)[-1] or node.type, node.type, node.totals,
                               (node.first, node.last), node.path)
        if not node.complete:
            self._set_not_costed(item, node.not_costed)
        return item

    def _set_headers(self) -> None:
        label = CONVENTIONS[self.document.convention].label
        self.tree.setHeaderLabels(["Module", "Type", "Params", label])

    def _node_item(self, name: str, type_: str, totals: Totals, rows: tuple[int, int], path: str
                   ) -> QTreeWidgetItem:
        item = QTreeWidgetItem([name, type_, "", ""])
        item.setData(0, ROWS_ROLE, rows)
        item.setData(0, PATH_ROLE, path)
        item.setToolTip(0, plain_tip(path))
        self._path_items[path] = item
        self._set_figures(item, totals, path)
        if self._bold is None:
            self._bold = item.font(0)
            self._bold.setBold(True)
        item.setFont(0, self._bold)
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
        item.setTextAlignment(2, _FIGURE_ALIGN)
        item.setTextAlignment(3, _FIGURE_ALIGN)

    def _set_not_costed(self, item: QTreeWidgetItem, nodes: int = 0) -> None:
        """A leaf that could not be costed, or a container holding `nodes` such leaves: "—", never a partial sum."""
        item.setText(2, DASH)
        item.setText(3, NOT_COSTED if not nodes else f"{NOT_COSTED} ({nodes})")
        why = f"{nodes} node(s) inside are {NOT_COSTED}: no subtotal until they are" if nodes else \
            f"{NOT_COSTED}: it (or an input it reads) has an error"
        for col in (2, 3):
            item.setTextAlignment(col, _FIGURE_ALIGN)
            item.setToolTip(col, why)
            item.setForeground(col, QBrush(LIGHT.same))

    def _update_figures(self) -> None:
        """Convention changed: update the numbers of the items made, in place (same items, same expand state)."""
        self._set_headers()
        report = self.document.report
        by_path = {n.path: n.totals for n in report.hierarchy if n.complete}
        for path, item in self._path_items.items():
            totals = by_path.get(path)
            if totals is not None:
                self._set_figures(item, totals)
        for row, item in self._row_items.items():
            cost = self.document.row_cost(row) if 0 <= row < self.document.row_count() else None
            if cost is not None:
                self._set_figures(item, cost.totals)

    def _restore_expansion(self, root: QTreeWidgetItem, top: bool) -> None:
        self._restore_items([root.child(i) for i in range(root.childCount())], top)

    def _restore_items(self, items: list[QTreeWidgetItem], top: bool) -> None:
        for item in items:
            path = str(item.data(0, PATH_ROLE))
            if item.childCount() or path in self._unbuilt:
                # first view of a model: top-level containers open; later: what the user left open
                wanted = path in self.expanded or (top and not self.expanded)
                if wanted or item.isExpanded():
                    item.setExpanded(wanted)
                if item.childCount():
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

    def _on_expanded(self, item: QTreeWidgetItem) -> None:
        """A container of a large model opened: its items, made now, open where the user left them open."""
        path = str(item.data(0, PATH_ROLE))
        if path in self._unbuilt:
            self._fill(item, path, deep=False)
            self._restore_expansion(item, top=False)

    def expand_all(self, expanded: bool = True) -> None:
        if expanded:
            self._complete()
            for path in list(self._unbuilt):
                if path in self._unbuilt:
                    self._fill(self._path_items[path], path, deep=True)
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
