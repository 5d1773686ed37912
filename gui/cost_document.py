"""`CostDocument`: the one model every view observes: a dataflow graph, its report, the undo stack.

One mode: a hand-written layer list, a graph file and a traced model are all a `Graph`; rows are its nodes in
graph (topological) order and keep their node id across edits. Public write methods only push commands onto the
`QUndoStack`; only a command's redo/undo swaps the graph (each command holds the graph before and after: nodes
are immutable and shared, so that costs a tuple). After each mutation the engine re-evaluates the downstream
closure of the touched nodes, once per command or once per `batch()`. A node that cannot be costed is kept as the
user wrote it: it and what depends on it have no costs, `error` names the node that breaks, and the totals say
they are incomplete.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from netcost.costing import CONVENTIONS, CostReport, LayerCost, LayerError, LayerSpec, Network, Totals
from netcost.costing.chain import graph_from_network, network_of
from netcost.costing.comparison import Comparison, RowDelta, compare
from netcost.costing.graph import Graph, GraphError, GraphInput, Node, Ref, drop_caches, unique_name
from netcost.costing.graph_eval import evaluate_graph, evaluated_ids
from netcost.costing.registry import has_kind, kind
from netcost.model_io.files.graph_file import graph_to_dict, load_graph
from netcost.model_io.files.layer_file import atomic_write, network_to_dict
from netcost.model_io.files.retrace import remeasured

from .layer_selection import LayerSelection
from .undo_budget import undo_limit

TRACED_KINDS = ("torch", "torchscript", "torch.export", "onnx")


@dataclass(frozen=True)
class _Change:
    """What a command did to the rows, so views hear the same begin/end pairs as a list edit would give them."""

    kind: str  # "edit", "insert", "remove", "move", "settings", "reset", "diff" (any graph change, e.g. a rewrite)
    first: int = 0
    last: int = 0
    dest: int = 0  # "move": the row the block goes before (Qt's beginMoveRows convention)
    field: str = ""
    rows: tuple[int, ...] = ()  # "edit": the rows changed; "remove": every removed row


class CostDocument(QObject):
    layersAboutToBeInserted = Signal(int, int)  # first, last (rows they will have)
    layersInserted = Signal(int, int)
    layersAboutToBeRemoved = Signal(int, int)
    layersRemoved = Signal(int, int)
    layersAboutToBeMoved = Signal(int, int, int)  # first, last, destination row (Qt's beginMoveRows convention)
    layersMoved = Signal(int, int, int)
    layerChanged = Signal(int, str)  # row, field ("type", "name", "trainable" or an argument name)
    reportChanged = Signal(int)  # first row whose costs may have changed
    errorChanged = Signal()  # `error` appeared, changed or cleared
    documentAboutToReset = Signal()  # emitted before the graph is replaced (Qt models: beginResetModel)
    documentReset = Signal()  # a new graph: views rebuild
    settingsChanged = Signal()  # batch size, dtype, input shape, name
    conventionChanged = Signal(str)
    baselineChanged = Signal()
    scaleChanged = Signal()  # the colour scale was fixed to the baseline or freed (`scale_fixed`)
    pathChanged = Signal()
    modifiedChanged = Signal(bool)  # follows the undo stack's clean state

    def __init__(self, network: Network | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.selection = LayerSelection(self)
        self._graph = graph_from_network(Network((), (3, 224, 224), "untitled"))
        self._report: CostReport = evaluate_graph(self._graph)
        self.undo_stack.setUndoLimit(undo_limit(len(self._graph.nodes)))
        self._changed_rows: tuple[int, ...] | None = None  # see `changed_rows`
        self._error: LayerError | None = None
        self._dirty: set[str] | None = None  # nodes touched since the last evaluation (batched edits)
        self._batch_depth = 0
        self._resetting = False
        self.convention = "flops"
        self.baseline: Totals | None = None
        self.baseline_report: CostReport | None = None  # the whole report at pin time (summary, categories)
        self.scale_fixed = False  # colour views take their range from the baseline (an untouched layer keeps its
        # colour); see `scale_report`
        self.origin: dict[str, str] = {}  # node id made by a rewrite -> the node it replaced (comparison groups)
        # Changes made before the graph reached the document (the CLI's --set and --rewrite), then the undo
        # stack's: together what a report says was applied to the model (`applied_edits`).
        self.prior_edits: list[str] = []
        self.baseline_label = ""  # what the pinned baseline is: the model and the changes it had when pinned
        self._comparison: Comparison | None = None
        self.path: Path | None = None
        self.extra: dict[str, Any] = {}  # unknown top-level keys of the project file (kept on save)
        self.undo_stack.cleanChanged.connect(self._on_undo_stack_clean_changed)
        if network is not None:
            self.set_network(network)

    def _on_undo_stack_clean_changed(self, clean: bool) -> None:
        # a bound method, not a lambda: Qt disconnects it when the document is destroyed with its stack
        self.modifiedChanged.emit(not clean)

    # ---- reading ------------------------------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def network(self) -> Network | None:
        """The layer list this document is, when it is a plain chain of layers that a layer list holds whole (None
        for a graph with branches, weight ties, measured nodes, ...: costing.chain.network_of)."""
        return network_of(self._graph)

    @property
    def report(self) -> CostReport:
        """The report of the current graph (incomplete while a node cannot be costed: see `error`)."""
        return self._report

    @property
    def error(self) -> LayerError | None:
        return self._error

    @property
    def read_only(self) -> bool:
        """Every document is editable (opaque nodes are, row by row, see `editable`)."""
        return False

    @property
    def traced(self) -> bool:
        """A model traced from code or read from a model file: its shapes are baked into the trace (masks,
        positions, reshapes), so other input settings mean tracing it again."""
        src = self._graph.source
        return bool(src.get("ref")) or src.get("kind") in TRACED_KINDS

    @property
    def name(self) -> str:
        return self._graph.name

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        """What a title bar shows: the file name, else the model's name."""
        return self.path.name if self.path is not None else (self.name or "untitled")

    def row_count(self) -> int:
        return len(self._graph.nodes)

    def node(self, row: int) -> Node:
        return self._graph.nodes[row]

    def row_of(self, node_id: str) -> int | None:
        return self._graph.index.get(node_id)

    def spec(self, row: int) -> LayerSpec:
        n = self._graph.nodes[row]
        return LayerSpec(n.op, dict(n.args), n.display_name, n.trainable)

    def editable(self, row: int) -> bool:
        """A layer node with a formula: its type and arguments can be changed (not an opaque or functional one)."""
        n = self._graph.nodes[row]
        return not n.opaque and has_kind(n.op) and not kind(n.op).functional

    def layer_id(self, row: int) -> str:
        """A stable identity for the node at `row` (kept across edits and moves; views key items by it)."""
        return self._graph.nodes[row].id

    def layer_ids(self) -> list[str]:
        return [n.id for n in self._graph.nodes]

    def row_cost(self, row: int) -> LayerCost | None:
        """The costs of `row`, or None while it (or something it reads) cannot be costed."""
        return self._report.by_id.get(self._graph.nodes[row].id)

    def changed_rows(self) -> tuple[int, ...] | None:
        """The rows whose costs the last recompute changed, in order; None when it may have changed any row from
        `reportChanged`'s first one down (a structural edit, a full evaluation)."""
        return self._changed_rows

    def error_row(self) -> int | None:
        return self._error.index if self._error is not None else None

    def is_stale(self, row: int) -> bool:
        return self._graph.nodes[row].id not in self._report.by_id

    # ---- loading ------------------------------------------------------------------------------------------
    def set_network(self, network: Network, path: Path | None = None, extra: dict[str, Any] | None = None) -> None:
        """Replace the document with a layer list (not undoable: clears the undo stack)."""
        self.set_graph(graph_from_network(network), path, extra)

    def set_report(self, report: CostReport, path: Path | None = None, keep_baseline: bool = False) -> None:
        """Show a loaded model's report (its graph, editable). `keep_baseline`: the same model traced again with
        other settings, so a pinned baseline stays and the deltas show what the change costs."""
        self.set_graph(report.graph, path, keep_baseline=keep_baseline, report=report)

    def set_graph(self, graph: Graph, path: Path | None = None, extra: dict[str, Any] | None = None,
                  keep_baseline: bool = False, report: CostReport | None = None) -> None:
        """Replace the document (not undoable: clears the undo stack). Views rebuild on `documentReset`."""
        self.documentAboutToReset.emit()
        self._graph = graph
        self.path = path
        self.extra = dict(extra or {})
        view = self.extra.get("view")
        if isinstance(view, dict) and view.get("convention") in CONVENTIONS:
            self.set_convention(view["convention"])
        if not keep_baseline:
            self.baseline = self.baseline_report = None
            self.baseline_label = ""
        self.origin = {}
        self.prior_edits = []
        self._comparison = None
        self.selection.clear()
        self._resetting = True  # views hear one documentReset, never a reportChanged about rows they lack yet
        try:
            self._report = report if report is not None and report.graph is graph else evaluate_graph(graph)
            self._changed_rows = None
            self._dirty = None
            self._update_error()
        finally:
            self._resetting = False
        self.undo_stack.clear()
        self.undo_stack.setUndoLimit(undo_limit(len(graph.nodes)))  # a memory bound (gui/undo_budget.py)
        self.undo_stack.setClean()
        self.documentReset.emit()
        self.pathChanged.emit()
        self.baselineChanged.emit()

    # ---- editing (each call is one undo step; no-ops push nothing) ----------------------------------------
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
        graph, dirty = self._graph.replace_nodes(_untie(self._graph, new))
        self._push(_GraphCommand(self, graph, dirty, _Change("edit", field=field, rows=tuple(rows)), text, [row],
                                 [row]))
        return True

    def set_layer_arg(self, row: int, field: str, value: Any) -> bool:
        """Set one argument (None removes it: torch's default, or inferred from the input)."""
        old = self._graph.nodes[row]
        if old.args.get(field) == value and (value is not None or field not in old.args):
            return False
        return self._edit_nodes(row, lambda n: n.with_arg(field, value), field,
                                f"Set {field} of {old.display_name}")

    def set_layer_type(self, row: int, type_: str, args: dict[str, Any] | None = None) -> bool:
        old = self._graph.nodes[row]
        if old.op == type_ and args is None:
            return False
        return self._edit_nodes(row, lambda n: replace(n, op=type_, args=dict(args or {}), label="", measured=None),
                                "type", f"Change {old.display_name} to {type_}")

    def rename_layer(self, row: int, name: str) -> bool:
        old = self._graph.nodes[row]
        if old.display_name == name or not name:
            return False
        taken = {n.display_name for n in self._graph.nodes} | set(self._graph.input_names)
        new_name = unique_name(name, taken - {old.display_name})
        return self._edit_nodes(row, lambda n: replace(n, name=new_name), "name", f"Rename {old.display_name}",
                                all_calls=False)

    def set_trainable(self, row: int, trainable: bool) -> bool:
        old = self._graph.nodes[row]
        if old.trainable == trainable:
            return False
        text = f"{'Unfreeze' if trainable else 'Freeze'} {old.display_name}"
        return self._edit_nodes(row, lambda n: replace(n, trainable=trainable), "trainable", text)

    def replace_layer(self, row: int, spec: LayerSpec) -> bool:
        old = self._graph.nodes[row]
        if (old.op, dict(old.args), old.trainable) == (spec.type, dict(spec.args), spec.trainable):
            return False
        return self._edit_nodes(row, lambda n: replace(n, op=spec.type, args=dict(spec.args), trainable=spec.trainable,
                                                       label="" if n.op != spec.type else n.label,
                                                       measured=None if n.op != spec.type else n.measured),
                                "type", f"Edit {old.display_name}")

    def insert_layers(self, row: int, specs: Sequence[LayerSpec], text: str | None = None) -> bool:
        """Insert layers before `row`: the first reads the output of the node at `row - 1` (the graph's first
        input at row 0), and that output's other readers now read the last inserted layer. In a chain this is a
        list insert; after a node inside a branch it puts the layers on that branch."""
        if not specs:
            return False
        g = self._graph
        row = max(0, min(row, len(g.nodes)))
        src = Ref(g.nodes[row - 1].id) if row > 0 else Ref(g.inputs[0].name)
        taken = {n.display_name for n in g.nodes} | set(g.index) | set(g.input_names)
        new: list[Node] = []
        prev = src
        scope = g.nodes[row - 1].scope if row > 0 else ""
        for k, spec in enumerate(specs):
            name = unique_name(spec.name or f"{spec.type}-{row + k}", taken)
            taken.add(name)
            node = Node(name, spec.type, dict(spec.args), (prev,), name=name, scope=scope, trainable=spec.trainable)
            new.append(node)
            prev = Ref(name)
        try:
            graph, dirty = g.insert(row, new, {src: prev})
        except GraphError as e:
            raise ValueError(str(e)) from None
        label = text or (f"Insert {specs[0].type}" if len(specs) == 1 else f"Insert {len(specs)} layers")
        change = _Change("insert", row, row + len(specs) - 1)
        self._push(_GraphCommand(self, graph, dirty, change, label, list(range(row, row + len(specs)))))
        return True

    def append_layer(self, spec: LayerSpec) -> bool:
        return self.insert_layers(len(self._graph.nodes), [spec], f"Add {spec.type}")

    def duplicate_layers(self, rows: Sequence[int]) -> bool:
        rows = sorted(set(rows))
        if not rows:
            return False
        specs = [replace(self.spec(r), name="") for r in rows]
        return self.insert_layers(rows[-1] + 1, specs, f"Duplicate {len(rows)} layer{'s' * (len(rows) > 1)}")

    def remove_layers(self, rows: Sequence[int]) -> bool:
        """Delete rows; a reader of a deleted node reads that node's first input instead. Raises ValueError when a
        reader would be left with nothing to read (a deleted source)."""
        rows = sorted({r for r in rows if 0 <= r < len(self._graph.nodes)})
        if not rows:
            return False
        try:
            graph, dirty = self._graph.remove(self._graph.nodes[r].id for r in rows)
        except GraphError as e:
            raise ValueError(str(e)) from None
        n = len(graph.nodes)
        self._push(_GraphCommand(self, graph, dirty, _Change("remove", rows=tuple(rows)),
                                 f"Delete {len(rows)} layer{'s' * (len(rows) > 1)}",
                                 [min(rows[0], n - 1)] if n else []))
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
        return self._reorder(order, _Change("move", first, last, dest), "Move layers", range(at, at + len(block)),
                             list(range(first, last + 1)))

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
        return self._reorder(order, _Change("reset"), f"Move {len(rows)} layers", range(at, at + len(rows)), rows)

    def _reorder(self, order: list[int], change: _Change, text: str, selected: range, before: list[int]) -> bool:
        if self.network is None:
            raise ValueError("only a plain chain of layers can be reordered; this graph has branches (delete and "
                             "insert instead)")
        g = self._graph
        prev = Ref(g.inputs[0].name)
        nodes = []
        for r in order:
            n = g.nodes[r]
            nodes.append(replace(n, inputs=(prev,)))
            prev = Ref(n.id)
        graph = replace(g, nodes=tuple(nodes), outputs=())
        self._push(_GraphCommand(self, graph, {n.id for n in nodes}, change, text, list(selected), before))
        return True

    def set_settings(self, **changes: Any) -> bool:
        """Change batch_size, dtype, input_shape (the first input's, without the batch) or name (one undo step).
        Raises ValueError for bad values."""
        g = self._graph
        inputs = list(g.inputs)
        if "input_shape" in changes or "batch_size" in changes:
            batch = changes.get("batch_size", g.batch_size)
            if not isinstance(batch, int) or batch < 1:
                raise ValueError(f"batch_size={batch!r} must be a positive integer")
            shape = tuple(changes.get("input_shape", inputs[0].shape[1:]))
            if not shape or any(not isinstance(d, int) or d < 1 for d in shape):
                raise ValueError(f"input_shape={list(shape)!r} must be a non-empty list of positive ints")
            inputs = [replace(gi, shape=(batch, *(shape if i == 0 else gi.shape[1:]))) for i, gi in enumerate(inputs)]
        new = replace(g, inputs=tuple(inputs), name=changes.get("name", g.name), dtype=changes.get("dtype", g.dtype))
        if new.inputs == g.inputs and new.name == g.name and new.dtype == g.dtype:
            return False
        dirty = {u for gi in new.inputs for u in g.users.get(gi.name, ())}
        self._push(_GraphCommand(self, new, dirty, _Change("settings"), "Change " + ", ".join(changes), []))
        return True

    def set_convention(self, convention: str) -> None:
        """A view setting, not an edit: it does not touch the undo stack."""
        if convention != self.convention:
            self.convention = convention
            self.conventionChanged.emit(convention)

    def remeasure(self, traced: Graph) -> dict[str, str]:
        """Measure the stale opaque nodes again from `traced` (the model traced with this graph's layer edits,
        model_io.files.retrace), in place: no new undo step, and the steps that led here hold the re-measured graph, so
        undo and redo never bring the stale state back. Returns, per node that still cannot be costed, why."""
        graph, _, failed = remeasured(self._graph, self._report, traced)
        if graph is self._graph:
            return failed
        old = self._graph
        for i in range(self.undo_stack.count()):
            cmd = self.undo_stack.command(i)
            if isinstance(cmd, _GraphCommand):
                cmd.new = graph if cmd.new is old else cmd.new
                cmd.old = graph if cmd.old is old else cmd.old
        rows = tuple(i for i, (a, b) in enumerate(zip(old.nodes, graph.nodes, strict=True)) if a is not b)
        self._apply(graph, _Change("edit", rows=rows, field="measured"), {graph.nodes[r].id for r in rows}, False)
        return failed

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
        self._push(_GraphCommand(self, graph, changed, _Change("diff"), text, selected))
        return True

    def applied_edits(self) -> list[str]:
        """The changes applied to the model as loaded, oldest first (undone ones are not applied)."""
        return [*self.prior_edits, *(self.undo_stack.text(i) for i in range(self.undo_stack.index()))]

    def pin_baseline(self) -> None:
        self.baseline = self.report.totals
        self.baseline_report = self.report
        edits = self.applied_edits()
        self.baseline_label = f"{self.name or 'the model'} " + (
            f"after {len(edits)} change{'s' * (len(edits) != 1)} ({'; '.join(edits)})" if edits else "as loaded")
        self._comparison = None
        self.baselineChanged.emit()

    def clear_baseline(self) -> None:
        if self.baseline is not None:
            self.baseline = self.baseline_report = None
            self.baseline_label = ""
            self._comparison = None
            self.baselineChanged.emit()

    def set_scale_fixed(self, fixed: bool) -> None:
        """A view setting (not an edit): colour scales follow the baseline's range while one is pinned."""
        if fixed != self.scale_fixed:
            self.scale_fixed = fixed
            self.scaleChanged.emit()

    def scale_report(self) -> CostReport:
        """The report whose values set the colour range: the baseline's while the scale is fixed to it (so a
        layer a rewrite did not touch keeps its colour), else the current one."""
        if self.scale_fixed and self.baseline_report is not None:
            return self.baseline_report
        return self._report

    def scale_range(self, field: str) -> tuple[int, int] | None:
        """(smallest positive, largest) per-row value of a `Totals` field in `scale_report()`, or None when no
        row has any (views then use their own range)."""
        values = [getattr(r.totals, field) for r in self.scale_report().layers]
        positive = [v for v in values if v > 0]
        return (min(positive), max(positive)) if positive else None

    # ---- comparison with the pinned baseline --------------------------------------------------------------
    def comparison(self) -> Comparison | None:
        """The current report against the pinned baseline (None while none is pinned); computed once per
        report."""
        if self.baseline_report is None:
            return None
        c = self._comparison
        if c is None or c.current is not self._report or c.baseline is not self.baseline_report \
                or len(c.origin) != len(self.origin):
            c = self._comparison = compare(self.baseline_report, self._report, self.origin)
        return c

    def row_delta(self, row: int) -> RowDelta | None:
        """The row's costs against the baseline: status same / changed / new, before, after and delta (None
        without a baseline or while the row is not costed)."""
        c = self.comparison()
        if c is None or not 0 <= row < len(self._graph.nodes):
            return None
        return c.rows.get(self._graph.nodes[row].id)

    def removed_rows(self) -> tuple[LayerCost, ...]:
        """Baseline rows that the current graph no longer has."""
        c = self.comparison()
        return c.removed if c is not None else ()

    # ---- files --------------------------------------------------------------------------------------------
    def load_file(self, path: str | Path) -> None:
        """Replace the document with a project, graph or layer-list file. Raises FormatError (the document is
        untouched)."""
        graph, extra = load_graph(path)
        self.set_graph(graph, Path(path), extra)

    def file_data(self) -> dict[str, Any]:
        """The project file's JSON: a plain chain as a layer list (netcost.layers/1), anything else as a graph
        (netcost.graph/1, a traced model with its reference and edits), plus view settings under `view`."""
        extra = {**self.extra, "view": {**_as_dict(self.extra.get("view")), "convention": self.convention}}
        net = self.network
        if net is not None:
            return network_to_dict(net, extra)
        return graph_to_dict(self._graph, extra)

    def save_file(self, path: str | Path) -> None:
        """Save atomically and mark the undo stack clean. Raises OSError (the document stays modified)."""
        atomic_write(path, (json.dumps(self.file_data(), indent=1) + "\n").encode("utf-8"))
        self.path = Path(path)
        self.undo_stack.setClean()
        self.pathChanged.emit()

    def convertible_network(self) -> Network | None:
        """Kept for the views that offered to convert a read-only model: every model is editable now."""
        return None

    def convert_to_layers(self) -> bool:
        return False

    @contextmanager
    def batch(self, text: str) -> Iterator[None]:
        """Group several edits into one undo step and one recompute (paste, macros)."""
        self.undo_stack.beginMacro(text)
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            self.undo_stack.endMacro()
            if self._batch_depth == 0 and self._dirty is not None:
                self._recompute()

    # ---- mutation (called by commands only) ---------------------------------------------------------------
    def _push(self, command: QUndoCommand) -> None:
        self.undo_stack.push(command)

    def _apply(self, graph: Graph, change: _Change, dirty: set[str], undo: bool) -> None:
        """Swap in `graph`, telling the views what happened to the rows (undo: `change` is run backwards)."""
        c = change
        kind_ = c.kind
        if undo:
            kind_ = {"insert": "remove_block", "remove": "insert_rows", "move": "unmove"}.get(kind_, kind_)
        if kind_ == "insert":
            self.layersAboutToBeInserted.emit(c.first, c.last)
            self._graph = graph
            self.layersInserted.emit(c.first, c.last)
        elif kind_ == "remove_block":
            self.layersAboutToBeRemoved.emit(c.first, c.last)
            self._graph = graph
            self.layersRemoved.emit(c.first, c.last)
        elif kind_ in ("remove", "insert_rows"):
            blocks = row_runs(c.rows)
            if kind_ == "remove":
                for first, last in reversed(blocks):  # bottom-up, so earlier rows keep their index
                    self.layersAboutToBeRemoved.emit(first, last)
                    self._graph = _without(self._graph, graph, first, last)
                    self.layersRemoved.emit(first, last)
            else:
                for first, last in blocks:
                    self.layersAboutToBeInserted.emit(first, last)
                    self._graph = _with_rows(self._graph, graph, last)
                    self.layersInserted.emit(first, last)
            self._graph = graph
        elif kind_ in ("move", "unmove"):
            count = c.last - c.first + 1
            at = c.dest if c.dest < c.first else c.dest - count
            first, last, dest = (c.first, c.last, c.dest) if kind_ == "move" else \
                (at, at + count - 1, c.first if c.first < at else c.first + count)
            self.layersAboutToBeMoved.emit(first, last, dest)
            self._graph = graph
            self.layersMoved.emit(first, last, dest)
        elif kind_ == "reset":
            self.documentAboutToReset.emit()
            self._graph = graph
            self.documentReset.emit()
        elif kind_ == "diff":
            self._apply_diff(graph)
        else:
            self._graph = graph
            if kind_ == "settings":
                self.settingsChanged.emit()
            for r in c.rows:
                self.layerChanged.emit(r, c.field)
        self._dirty = set(dirty) if self._dirty is None else self._dirty | dirty
        if self._batch_depth == 0:
            self._recompute()

    def _apply_diff(self, graph: Graph) -> None:
        """Swap in any edited version of the graph as row removals, then insertions, then changed rows (the
        signals a table or diagram updates in place from); a reorder of kept rows is a reset."""
        old = self._graph
        kept_old = [n.id for n in old.nodes if graph.has(n.id)]
        kept_new = [n.id for n in graph.nodes if old.has(n.id)]
        if kept_old != kept_new:
            self.documentAboutToReset.emit()
            self._graph = graph
            self.documentReset.emit()
            return
        removed = tuple(i for i, n in enumerate(old.nodes) if not graph.has(n.id))
        for first, last in reversed(row_runs(removed)):
            self.layersAboutToBeRemoved.emit(first, last)
            self._graph = _without(self._graph, graph, first, last)
            self.layersRemoved.emit(first, last)
        added = tuple(i for i, n in enumerate(graph.nodes) if not old.has(n.id))
        for first, last in row_runs(added):
            self.layersAboutToBeInserted.emit(first, last)
            self._graph = _with_rows(self._graph, graph, last)
            self.layersInserted.emit(first, last)
        self._graph = graph
        if graph.inputs != old.inputs:
            self.settingsChanged.emit()
        for r, n in enumerate(graph.nodes):
            if old.has(n.id) and old.node(n.id) != n:
                self.layerChanged.emit(r, "args")

    def _recompute(self) -> None:
        dirty = self._dirty or set()
        self._dirty = None
        old = self._report
        report = evaluate_graph(self._graph, old, dirty)
        first = min((self._graph.index[d] for d in dirty if d in self._graph.index), default=0)
        self._changed_rows = _changed_rows(old, report)
        self._report = report
        if self._resetting:
            return
        changed = self._update_error()
        if changed:
            self.errorChanged.emit()
        self.reportChanged.emit(first)

    def _update_error(self) -> bool:
        cause = self._report.cause
        error = None if cause is None else LayerError(cause.message, cause.field, cause.index, cause.name, cause.type)
        changed = str(error) != str(self._error) if (error is None) == (self._error is None) else True
        self._error = error
        return changed


def _as_dict(v: Any) -> dict[str, Any]:
    return dict(v) if isinstance(v, dict) else {}


def _untie(graph: Graph, nodes: list[Node]) -> list[Node]:
    """An edited node no longer shares its weights (as replacing the module in torch would): neither do its
    partners."""
    edited = {n.id for n in nodes}
    out = [replace(n, shares=()) if n.shares and n != graph.node(n.id) else n for n in nodes]
    partners = {s for n in nodes for s, _ in graph.node(n.id).shares} | {
        m.id for m in graph.nodes if m.shares and any(s in edited for s, _ in m.shares)}
    out += [replace(graph.node(p), shares=()) for p in partners - edited if graph.node(p).shares]
    return out


def row_runs(rows: tuple[int, ...]) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs of consecutive ones (one signal per run)."""
    blocks: list[tuple[int, int]] = []
    for r in rows:
        if blocks and blocks[-1][1] == r - 1:
            blocks[-1] = (blocks[-1][0], r)
        else:
            blocks.append((r, r))
    return blocks


def _without(current: Graph, final: Graph, first: int, last: int) -> Graph:
    """`current` less rows first..last: the rows views see between two removal signals (edges as in `final`)."""
    keep = [n for i, n in enumerate(current.nodes) if not first <= i <= last]
    fin = {n.id: n for n in final.nodes}
    return replace(current, nodes=tuple(fin.get(n.id, n) for n in keep))


def _with_rows(current: Graph, full: Graph, last: int) -> Graph:
    """`full`'s first rows up to `last` plus the rest of `current` (rows re-inserted block by block on undo)."""
    head = list(full.nodes[:last + 1])
    ids = {n.id for n in head}
    tail = [n for n in current.nodes if n.id not in ids]
    return replace(full, nodes=tuple(head + tail))


class _GraphCommand(QUndoCommand):
    """One edit: the graph before and after, the rows it touched, and the selection to show after it."""

    def __init__(self, doc: CostDocument, new: Graph, dirty: set[str], change: _Change, text: str,
                 selection: list[int], before: list[int] | None = None) -> None:
        super().__init__(text)
        self.doc, self.old, self.new, self.change = doc, doc._graph, new, change
        self.dirty = set(dirty)
        self.selection = selection
        self.before = doc.selection.rows if before is None else before
        # the nodes whose evaluation the undo changes: the same ones plus those only the old graph has
        if new.index is self.old.index:  # the same nodes in place (an argument edit): no O(nodes) set algebra
            self.undo_dirty = set(self.dirty)
        else:
            self.undo_dirty = self.dirty | (set(self.old.index) - set(new.index)) | \
                {u for i in set(new.index) - set(self.old.index) for u in self.old.users.get(i, ())}

    def redo(self) -> None:
        self.doc._apply(self.new, self.change, self.dirty | _new_ids(self.old, self.new), undo=False)
        self.doc.selection.set_rows(self.selection)
        self._forget_indexes(self.old)

    def undo(self) -> None:
        self.doc._apply(self.old, self.change, self.undo_dirty | _new_ids(self.new, self.old), undo=True)
        self.doc.selection.set_rows(self.before)
        self._forget_indexes(self.new)

    def _forget_indexes(self, kept: Graph) -> None:
        """The graph this step only keeps for undo/redo: its own indexes go (an argument edit shares them with
        the document's graph, so there is nothing to free; see gui/undo_budget.py)."""
        current = self.doc.graph
        if kept is not current and kept.__dict__.get("_index") is not current.__dict__.get("_index"):
            drop_caches(kept)


def _changed_rows(old: CostReport, new: CostReport) -> tuple[int, ...] | None:
    """The rows of an incremental evaluation whose costs differ from `old`'s, when the rows stayed in place."""
    visited = evaluated_ids(new)
    graph, before = new.graph, old.graph
    if visited is None or graph is None or before is None or graph.index is not before.index:
        return None
    pos = graph.index
    return tuple(sorted(pos[i] for i in visited if i in pos and old.by_id.get(i) != new.by_id.get(i)))


def _new_ids(old: Graph, new: Graph) -> set[str]:
    """Nodes that `new` has and `old` has not, and the readers whose inputs were rewired to or from them."""
    if new.index is old.index:  # the same nodes in the same places (an argument edit): compare only the changed
        return {b.id for a, b in zip(old.nodes, new.nodes, strict=True) if a is not b and a.inputs != b.inputs}
    added = set(new.index) - set(old.index)
    rewired = {n.id for n in new.nodes if old.has(n.id) and old.node(n.id).inputs != n.inputs}
    return added | rewired


def network_from_report(report: CostReport) -> Network | None:
    """A report's layer list, when its graph is a plain chain of layers (tests and tools that want a list)."""
    doc_graph = report.graph
    if doc_graph is None:
        return None
    prev = Ref(doc_graph.inputs[0].name) if doc_graph.inputs else None
    specs = []
    for n in doc_graph.nodes:
        if n.inputs != (prev,) or n.opaque or not has_kind(n.op) or kind(n.op).functional:
            return None
        specs.append(LayerSpec(n.op, dict(n.args), n.display_name, n.trainable))
        prev = Ref(n.id)
    gi: GraphInput = doc_graph.inputs[0]
    return Network(tuple(specs), gi.shape[1:], doc_graph.name, gi.shape[0], doc_graph.dtype)
