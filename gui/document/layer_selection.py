"""The one selection shared by every view (table, diagram, charts, module tree), kept as node ids.

A selection of node ids survives edits that move rows (an insert above, a delete, a rewrite): the nodes stay
selected wherever they end up. Views that list rows (the table, the charts, the diagram's row walk) read and set
it as rows through the same object; the translation happens here, once, against the document's graph.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, Signal

from netcost.costing.graph import Graph


class LayerSelection(QObject):
    """Selected nodes plus the current one (the first in row order). Views set it and listen; `source` lets a view
    ignore its own echo."""

    changed = Signal(list, object)  # (selected node ids in row order, source object that made the change or None)
    rowsChanged = Signal(list, object)  # the same change as sorted rows, for views that list rows

    def __init__(self, graph: Callable[[], Graph], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._graph = graph
        self._ids: tuple[str, ...] = ()
        self._rows: tuple[int, ...] = ()  # the rows last announced

    @property
    def ids(self) -> list[str]:
        """The selected nodes that the graph has, in row order."""
        index = self._graph().index
        return [i for i in self._ids if i in index]

    @property
    def current_id(self) -> str | None:
        ids = self.ids
        return ids[0] if ids else None

    @property
    def rows(self) -> list[int]:
        index = self._graph().index
        return sorted(index[i] for i in self._ids if i in index)

    @property
    def current(self) -> int | None:
        rows = self.rows
        return rows[0] if rows else None

    def set_ids(self, ids: Iterable[str], source: object = None) -> None:
        graph = self._graph()
        index = graph.index
        rows = sorted({index[i] for i in ids if i in index})
        self._announce(tuple(graph.nodes[r].id for r in rows), tuple(rows), source)

    def set_rows(self, rows: Iterable[int], source: object = None) -> None:
        nodes = self._graph().nodes
        new = sorted({r for r in rows if 0 <= r < len(nodes)})
        self._announce(tuple(nodes[r].id for r in new), tuple(new), source)

    def clear(self, source: object = None) -> None:
        self._announce((), (), source)

    def _announce(self, ids: tuple[str, ...], rows: tuple[int, ...], source: object) -> None:
        if ids == self._ids and rows == self._rows:
            return
        self._ids, self._rows = ids, rows
        self.changed.emit(list(ids), source)
        self.rowsChanged.emit(list(rows), source)
