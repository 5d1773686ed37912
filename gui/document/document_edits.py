"""The document's edits: each public method is one undo step (a no-op pushes nothing).

`DocumentEdits` is `CostDocument`'s edit half: it builds the new graph through costing's `Graph` API (argument
and type edits, which break weight ties as torch would; inserts, removals, reorders, input settings, rewrites) and
pushes one `GraphCommand`; the command's redo swaps the graph in and the document re-evaluates what it touched.
Edits name their nodes by id (`NodeKey`: the layer table, which lists rows, may pass a row instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from netcost.costing import LayerSpec, Network
from netcost.costing.graph import Graph, GraphError, unique_name
from netcost.costing.graph_edits import insert_layers, reorder_chain, with_inputs
from netcost.gui.document.document_commands import GraphCommand
from netcost.gui.document.document_types import ChangeKind, NodeKey, RowChange

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoCommand

    from netcost.gui.document.layer_selection import LayerSelection


class DocumentEdits:
    """The layer edits of a `CostDocument` (a mixin: the document holds the graph, the selection and the stack)."""

    _graph: Graph
    selection: LayerSelection
    origin: dict[str, str]

    if TYPE_CHECKING:
        @property
        def network(self) -> Network | None: ...

        def spec(self, row: int) -> LayerSpec: ...

        def _push(self, command: QUndoCommand) -> None: ...

    def _row_of(self, node: NodeKey) -> int:
        """The row of `node` (a node id, or already a row)."""
        return self._graph.index[node] if isinstance(node, str) else node

    def _calls(self, row: int) -> list[int]:
        """The rows that are calls of the same module as `row` (an edit of a module changes all of them)."""
        n = self._graph.nodes[row]
        if not n.module:
            return [row]
        return [self._graph.index[i] for i in self._graph.modules.get(n.module, (n.id,))]

    def _edit_nodes(self, row: int, make: Any, field: str, text: str, all_calls: bool = True) -> bool:
        rows = self._calls(row) if all_calls else [row]
        new = [make(self._graph.nodes[r]) for r in rows]
        if all(a == b for a, b in zip(new, (self._graph.nodes[r] for r in rows), strict=True)):
            return False
        graph, dirty = self._graph.edit_nodes(new)
        change = RowChange(ChangeKind.EDIT, field=field, rows=tuple(rows))
        node_id = self._graph.nodes[row].id
        self._push(GraphCommand(self, graph, dirty, change, text, [node_id], [node_id]))
        return True

    def set_layer_arg(self, node: NodeKey, field: str, value: Any) -> bool:
        """Set one argument (None removes it: torch's default, or inferred from the input)."""
        row = self._row_of(node)
        old = self._graph.nodes[row]
        if old.args.get(field) == value and (value is not None or field not in old.args):
            return False
        return self._edit_nodes(row, lambda n: n.with_arg(field, value), field,
                                f"Set {field} of {old.display_name}")

    def set_layer_type(self, node: NodeKey, type_: str, args: dict[str, Any] | None = None) -> bool:
        row = self._row_of(node)
        old = self._graph.nodes[row]
        if old.op == type_ and args is None:
            return False
        return self._edit_nodes(row, lambda n: replace(n, op=type_, args=dict(args or {}), label="", measured=None),
                                "type", f"Change {old.display_name} to {type_}")

    def rename_layer(self, node: NodeKey, name: str) -> bool:
        row = self._row_of(node)
        old = self._graph.nodes[row]
        if old.display_name == name or not name:
            return False
        taken = {n.display_name for n in self._graph.nodes} | set(self._graph.input_names)
        new_name = unique_name(name, taken - {old.display_name})
        return self._edit_nodes(row, lambda n: replace(n, name=new_name), "name", f"Rename {old.display_name}",
                                all_calls=False)

    def set_trainable(self, node: NodeKey, trainable: bool) -> bool:
        row = self._row_of(node)
        old = self._graph.nodes[row]
        if old.trainable == trainable:
            return False
        text = f"{'Unfreeze' if trainable else 'Freeze'} {old.display_name}"
        return self._edit_nodes(row, lambda n: replace(n, trainable=trainable), "trainable", text)

    def replace_layer(self, node: NodeKey, spec: LayerSpec) -> bool:
        row = self._row_of(node)
        old = self._graph.nodes[row]
        if (old.op, dict(old.args), old.trainable) == (spec.type, dict(spec.args), spec.trainable):
            return False
        return self._edit_nodes(row, lambda n: replace(n, op=spec.type, args=dict(spec.args), trainable=spec.trainable,
                                                       label="" if n.op != spec.type else n.label,
                                                       measured=None if n.op != spec.type else n.measured),
                                "type", f"Edit {old.display_name}")

    def insert_layers(self, row: int, specs: Sequence[LayerSpec], text: str | None = None) -> bool:
        """Insert layers before `row`, on the branch of the node above it (`costing.graph_edits.insert_layers`);
        they are selected after it."""
        if not specs:
            return False
        row = max(0, min(row, len(self._graph.nodes)))
        try:
            graph, dirty, ids = insert_layers(self._graph, row, specs)
        except GraphError as e:
            raise ValueError(str(e)) from None
        label = text or (f"Insert {specs[0].type}" if len(specs) == 1 else f"Insert {len(specs)} layers")
        change = RowChange(ChangeKind.INSERT, row, row + len(specs) - 1)
        self._push(GraphCommand(self, graph, dirty, change, label, ids))
        return True

    def append_layer(self, spec: LayerSpec) -> bool:
        return self.insert_layers(len(self._graph.nodes), [spec], f"Add {spec.type}")

    def duplicate_layers(self, nodes: Sequence[NodeKey]) -> bool:
        rows = sorted({self._row_of(n) for n in nodes})
        if not rows:
            return False
        specs = [replace(self.spec(r), name="") for r in rows]
        return self.insert_layers(rows[-1] + 1, specs, f"Duplicate {len(rows)} layer{'s' * (len(rows) > 1)}")

    def remove_layers(self, nodes: Sequence[NodeKey]) -> bool:
        """Delete nodes (ids or rows); a reader of a deleted node reads that node's first input instead. Raises
        ValueError when a reader would be left with nothing to read (a deleted source)."""
        rows = sorted({r for r in map(self._row_of, nodes) if 0 <= r < len(self._graph.nodes)})
        if not rows:
            return False
        try:
            graph, dirty = self._graph.remove(self._graph.nodes[r].id for r in rows)
        except GraphError as e:
            raise ValueError(str(e)) from None
        n = len(graph.nodes)
        self._push(GraphCommand(self, graph, dirty, RowChange(ChangeKind.REMOVE, rows=tuple(rows)),
                                 f"Delete {len(rows)} layer{'s' * (len(rows) > 1)}",
                                 [graph.nodes[min(rows[0], n - 1)].id] if n else []))
        return True

    def move_layers(self, first: int, last: int, dest: int) -> bool:
        """Move rows first..last so that they sit before `dest` (a row index before the move). Only a chain can
        be reordered: in a graph with branches the order of rows is the data flow's."""
        n = len(self._graph.nodes)
        if not (0 <= first <= last < n) or not 0 <= dest <= n or first <= dest <= last + 1:
            return False
        order = list(range(n))
        block = order[first:last + 1]
        del order[first:last + 1]
        at = dest if dest < first else dest - len(block)
        order[at:at] = block
        return self._reorder(order, RowChange(ChangeKind.MOVE, first, last, dest), "Move layers", block)

    def move_rows(self, rows: Sequence[int], dest: int) -> bool:
        """Move any set of rows so that they sit together, in their order, before `dest` (one undo step)."""
        n = len(self._graph.nodes)
        rows = sorted({r for r in rows if 0 <= r < n})
        if not rows or not 0 <= dest <= n:
            return False
        if rows == list(range(rows[0], rows[-1] + 1)):
            return self.move_layers(rows[0], rows[-1], dest)
        rest = [r for r in range(n) if r not in set(rows)]
        at = sum(1 for r in rest if r < dest)
        order = rest[:at] + rows + rest[at:]
        if order == list(range(n)):
            return False
        return self._reorder(order, RowChange(ChangeKind.RESET), f"Move {len(rows)} layers", rows)

    def _reorder(self, order: list[int], change: RowChange, text: str, moved: list[int]) -> bool:
        """Rewire the chain in `order` (rows before the move); the `moved` rows are selected before and after."""
        if self.network is None:
            raise ValueError("only a plain chain of layers can be reordered; this graph has branches (delete and "
                             "insert instead)")
        graph, dirty = reorder_chain(self._graph, order)
        ids = [self._graph.nodes[r].id for r in moved]
        self._push(GraphCommand(self, graph, dirty, change, text, ids, ids))
        return True

    def set_settings(self, **changes: Any) -> bool:
        """Change batch_size, dtype, input_shape (the first input's, without the batch) or name (one undo step).
        Raises ValueError for bad values."""
        g = self._graph
        new, dirty = with_inputs(g, **changes)
        if new.inputs == g.inputs and new.name == g.name and new.dtype == g.dtype:
            return False
        self._push(GraphCommand(self, new, dirty, RowChange(ChangeKind.SETTINGS), "Change " + ", ".join(changes), []))
        return True

    def apply_graph_change(self, graph: Graph, text: str, mapping: dict[str, tuple[str, ...]] | None = None
                           ) -> bool:
        """Replace the graph by an edited version of it (a rewrite) as one undo step. `mapping` (old node id ->
        the ids that replace it) moves the selection to the new nodes and lets the comparison group them with
        the rows they replace. Raises ValueError for a graph that is not valid."""
        if graph.nodes == self._graph.nodes and graph.inputs == self._graph.inputs:
            return False
        try:
            graph.validate()
        except GraphError as e:
            raise ValueError(str(e)) from None
        old = self._graph
        changed = {n.id for n in graph.nodes if old.has(n.id) and old.node(n.id) != n}
        mapping = mapping or {}
        for old_id, ids in mapping.items():
            for i in ids:
                if i != old_id and not old.has(i):
                    self.origin[i] = self.origin.get(old_id, old_id)
        # the selection moves to the new nodes (a rewrite that only changes arguments, like a width change of
        # a whole stage: to the first of them, not to every row it touched)
        new_ids = [i for ids in mapping.values() for i in ids if i in graph.index and not old.has(i)]
        selected = sorted({graph.index[i] for i in new_ids}) or \
            sorted({graph.index[i] for ids in mapping.values() for i in ids if i in graph.index})[:1] or \
            sorted({graph.index[i] for i in changed if i in graph.index})[:1]
        self._push(GraphCommand(self, graph, changed, RowChange(ChangeKind.DIFF), text,
                                [graph.nodes[r].id for r in selected]))
        return True
