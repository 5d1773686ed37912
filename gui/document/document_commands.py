"""The document's undo commands, and how a command's graph swap is announced to the views row by row.

`GraphCommand` holds the graph before and after one edit (nodes are immutable and shared, so that costs a tuple).
`announce` swaps the document's graph in the steps Qt models expect (begin/end insert, remove, move, reset), so
the table and the diagram update in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from netcost.costing import CostReport
from netcost.costing.graph import Graph, drop_caches
from netcost.costing.graph_eval import evaluated_ids
from netcost.gui.document.document_types import ChangeKind, RowChange, row_runs, with_rows, without_rows

if TYPE_CHECKING:
    from netcost.gui.document.cost_document import CostDocument


class GraphCommand(QUndoCommand):
    """One edit: the graph before and after, the rows it touched, and the nodes to select after it (and after
    its undo: by default the selection it found)."""

    def __init__(self, doc: CostDocument, new: Graph, dirty: set[str], change: RowChange, text: str,
                 selection: Sequence[str], before: Sequence[str] | None = None) -> None:
        super().__init__(text)
        self.doc, self.old, self.new, self.change = doc, doc.graph, new, change
        self.dirty = set(dirty)
        self.selection = list(selection)
        self.before = doc.selection.ids if before is None else list(before)
        # the nodes whose evaluation the undo changes: the same ones plus those only the old graph has
        if new.index is self.old.index:  # the same nodes in place (an argument edit): no O(nodes) set algebra
            self.undo_dirty = set(self.dirty)
        else:
            self.undo_dirty = self.dirty | (set(self.old.index) - set(new.index)) | \
                {u for i in set(new.index) - set(self.old.index) for u in self.old.users.get(i, ())}

    def redo(self) -> None:
        self.doc._apply(self.new, self.change, self.dirty | new_ids(self.old, self.new), undo=False)
        self.doc.selection.set_ids(self.selection)
        self._forget_indexes(self.old)

    def undo(self) -> None:
        self.doc._apply(self.old, self.change, self.undo_dirty | new_ids(self.new, self.old), undo=True)
        self.doc.selection.set_ids(self.before)
        self._forget_indexes(self.new)

    def _forget_indexes(self, kept: Graph) -> None:
        """The graph this step only keeps for undo/redo: its own indexes go (an argument edit shares them with
        the document's graph, so there is nothing to free; see gui/document/undo_budget.py)."""
        current = self.doc.graph
        if kept is not current and not kept.shares_indexes(current):
            drop_caches(kept)


def announce(doc: CostDocument, graph: Graph, change: RowChange, undo: bool) -> None:
    """Swap `doc`'s graph for `graph`, telling the views what happened to the rows (undo: `change` backwards)."""
    c = change
    kind = c.kind.undone() if undo else c.kind
    if kind is ChangeKind.INSERT:
        doc.layersAboutToBeInserted.emit(c.first, c.last)
        doc._graph = graph
        doc.layersInserted.emit(c.first, c.last)
    elif kind is ChangeKind.REMOVE_BLOCK:
        doc.layersAboutToBeRemoved.emit(c.first, c.last)
        doc._graph = graph
        doc.layersRemoved.emit(c.first, c.last)
    elif kind is ChangeKind.REMOVE:
        for first, last in reversed(row_runs(c.rows)):  # bottom-up, so earlier rows keep their index
            doc.layersAboutToBeRemoved.emit(first, last)
            doc._graph = without_rows(doc._graph, graph, first, last)
            doc.layersRemoved.emit(first, last)
        doc._graph = graph
    elif kind is ChangeKind.INSERT_ROWS:
        for first, last in row_runs(c.rows):
            doc.layersAboutToBeInserted.emit(first, last)
            doc._graph = with_rows(doc._graph, graph, last)
            doc.layersInserted.emit(first, last)
        doc._graph = graph
    elif kind in (ChangeKind.MOVE, ChangeKind.UNMOVE):
        count = c.last - c.first + 1
        at = c.dest if c.dest < c.first else c.dest - count
        first, last, dest = (c.first, c.last, c.dest) if kind is ChangeKind.MOVE else \
            (at, at + count - 1, c.first if c.first < at else c.first + count)
        doc.layersAboutToBeMoved.emit(first, last, dest)
        doc._graph = graph
        doc.layersMoved.emit(first, last, dest)
    elif kind is ChangeKind.RESET:
        _reset(doc, graph)
    elif kind is ChangeKind.DIFF:
        _announce_diff(doc, graph)
    else:
        doc._graph = graph
        if kind is ChangeKind.SETTINGS:
            doc.settingsChanged.emit()
        for r in c.rows:
            doc.nodeChanged.emit(graph.nodes[r].id, c.field)
            doc.layerChanged.emit(r, c.field)


def _reset(doc: CostDocument, graph: Graph) -> None:
    doc.documentAboutToReset.emit()
    doc._graph = graph
    doc.documentReset.emit()


def _announce_diff(doc: CostDocument, graph: Graph) -> None:
    """Swap in any edited version of the graph as row removals, then insertions, then changed rows (the
    signals a table or diagram updates in place from); a reorder of kept rows is a reset."""
    old = doc._graph
    kept_old = [n.id for n in old.nodes if graph.has(n.id)]
    kept_new = [n.id for n in graph.nodes if old.has(n.id)]
    if kept_old != kept_new:
        _reset(doc, graph)
        return
    removed = tuple(i for i, n in enumerate(old.nodes) if not graph.has(n.id))
    for first, last in reversed(row_runs(removed)):
        doc.layersAboutToBeRemoved.emit(first, last)
        doc._graph = without_rows(doc._graph, graph, first, last)
        doc.layersRemoved.emit(first, last)
    added = tuple(i for i, n in enumerate(graph.nodes) if not old.has(n.id))
    for first, last in row_runs(added):
        doc.layersAboutToBeInserted.emit(first, last)
        doc._graph = with_rows(doc._graph, graph, last)
        doc.layersInserted.emit(first, last)
    doc._graph = graph
    if graph.inputs != old.inputs:
        doc.settingsChanged.emit()
    for r, n in enumerate(graph.nodes):
        if old.has(n.id) and old.node(n.id) != n:
            doc.nodeChanged.emit(n.id, "args")
            doc.layerChanged.emit(r, "args")


def changed_rows(old: CostReport, new: CostReport) -> tuple[int, ...] | None:
    """The rows of an incremental evaluation whose costs differ from `old`'s, when the rows stayed in place."""
    visited = evaluated_ids(new)
    graph, before = new.graph, old.graph
    if visited is None or graph is None or before is None or graph.index is not before.index:
        return None
    pos = graph.index
    return tuple(sorted(pos[i] for i in visited if i in pos and old.by_id.get(i) != new.by_id.get(i)))


def new_ids(old: Graph, new: Graph) -> set[str]:
    """Nodes that `new` has and `old` has not, and the readers whose inputs were rewired to or from them."""
    if new.index is old.index:  # the same nodes in the same places (an argument edit): compare only the changed
        return {b.id for a, b in zip(old.nodes, new.nodes, strict=True) if a is not b and a.inputs != b.inputs}
    added = set(new.index) - set(old.index)
    rewired = {n.id for n in new.nodes if old.has(n.id) and old.node(n.id).inputs != n.inputs}
    return added | rewired
