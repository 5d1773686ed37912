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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from netcost.costing import CONVENTIONS, CostReport, LayerCost, LayerError, LayerSpec, Network, Totals
from netcost.costing.chain import graph_from_network, network_of
from netcost.costing.comparison import Comparison, RowDelta, compare
from netcost.costing.graph import Graph, GraphInput, Node, Ref
from netcost.costing.graph_eval import evaluate_graph
from netcost.costing.registry import has_kind, kind
from netcost.gui.common.gc_pause import release_set_aside_later, retire
from netcost.gui.document.document_commands import GraphCommand, announce, changed_rows
from netcost.gui.document.document_edits import DocumentEdits
from netcost.gui.document.document_types import ChangeKind, Loaded, RowChange
from netcost.gui.document.layer_selection import LayerSelection
from netcost.gui.document.undo_budget import undo_limit
from netcost.model_io.files.graph_file import graph_to_dict, load_graph
from netcost.model_io.files.layer_file import atomic_write, network_to_dict
from netcost.model_io.files.retrace import remeasured

TRACED_KINDS = ("torch", "torchscript", "torch.export", "onnx")

RELEASE_DELAY_MS = 2000  # past an open's deferred view work (module tree, minimap, charts: under 1 s at 100k)


class CostDocument(DocumentEdits, QObject):
    layersAboutToBeInserted = Signal(int, int)  # first, last (rows they will have)
    layersInserted = Signal(int, int)
    layersAboutToBeRemoved = Signal(int, int)
    layersRemoved = Signal(int, int)
    layersAboutToBeMoved = Signal(int, int, int)  # first, last, destination row (Qt's beginMoveRows convention)
    layersMoved = Signal(int, int, int)
    nodeChanged = Signal(str, str)  # node id, field ("type", "name", "trainable", "measured" or an argument name)
    layerChanged = Signal(int, str)  # the same change by row, for views that list rows (the table, the diagram)
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
        self.selection = LayerSelection(lambda: self._graph, self)
        self._graph = graph_from_network(Network((), (3, 224, 224), "untitled"))
        self._report: CostReport = evaluate_graph(self._graph)
        self.undo_stack.setUndoLimit(undo_limit(len(self._graph.nodes)))
        self._changed_rows: tuple[int, ...] | None = None  # see `changed_rows`
        self._replaced = 0  # id() of the report the last recompute replaced (`changed_since`)
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
        self._baseline_shared_ids = True  # the baseline is this graph's own (ids match), not another model's
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
        return list(self._graph.index)  # (the graph's id index, in row order: a C-level copy, 100k ids ~1 ms)

    def row_cost(self, row: int) -> LayerCost | None:
        """The costs of `row`, or None while it (or something it reads) cannot be costed."""
        return self._report.by_id.get(self._graph.nodes[row].id)

    def changed_rows(self) -> tuple[int, ...] | None:
        """The rows whose costs the last recompute changed, in order; None when it may have changed any row from
        `reportChanged`'s first one down (a structural edit, a full evaluation)."""
        return self._changed_rows

    def changed_since(self, report: CostReport) -> tuple[int, ...] | None:
        """`changed_rows` when `report` (held by the caller) is the one the last recompute replaced; else None."""
        return self._changed_rows if id(report) == self._replaced else None

    def error_row(self) -> int | None:
        return self._error.index if self._error is not None else None

    def is_stale(self, row: int) -> bool:
        return self._graph.nodes[row].id not in self._report.by_id

    # ---- loading ------------------------------------------------------------------------------------------
    def set_network(self, network: Network, path: Path | None = None, extra: dict[str, Any] | None = None) -> None:
        """Replace the document with a layer list (not undoable: clears the undo stack)."""
        self.set_graph(graph_from_network(network), path, extra)

    def set_report(self, report: CostReport, path: Path | None = None, keep_baseline: bool = False) -> None:
        """Show a model's report (its graph, editable)."""
        self.set_loaded(Loaded.of_report(report), path, keep_baseline)

    def set_loaded(self, loaded: Loaded, path: Path | None = None, keep_baseline: bool = False) -> None:
        """Show what a load gave (a graph, and its report when the worker made one). `keep_baseline`: the same
        model traced again with other settings, so a pinned baseline stays and the deltas show what the change
        costs."""
        self.set_graph(loaded.graph, path, loaded.extra, keep_baseline=keep_baseline, report=loaded.report)

    def set_graph(self, graph: Graph, path: Path | None = None, extra: dict[str, Any] | None = None,
                  keep_baseline: bool = False, report: CostReport | None = None) -> None:
        """Replace the document (not undoable: clears the undo stack). Views rebuild on `documentReset`."""
        if report is None or report.graph is not graph:
            report = evaluate_graph(graph)
        self.documentAboutToReset.emit()
        retire(self._report, self._graph)  # (freed in later passes: a 100k-node pair took ~55 ms of this one)
        self._graph, self._report = graph, report  # together: a view asked during the reset sees them agree
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
            self._changed_rows = None
            self._dirty = None
            self._update_error()
        finally:
            self._resetting = False
        self.undo_stack.clear()
        self.undo_stack.setUndoLimit(undo_limit(len(graph.nodes)))  # a memory bound (gui/document/undo_budget.py)
        self.undo_stack.setClean()
        self.documentReset.emit()
        self.pathChanged.emit()
        self.baselineChanged.emit()
        # the load froze what it made (gc_pause.set_aside_loaded); the replaced document's cycles are among the
        # frozen: given back to the collector once the views' deferred work on the new one is done (frozen till
        # then, what a full collection would walk during the open stays out of its reach)
        release_set_aside_later(RELEASE_DELAY_MS)

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
            if isinstance(cmd, GraphCommand):
                cmd.new = graph if cmd.new is old else cmd.new
                cmd.old = graph if cmd.old is old else cmd.old
        rows = tuple(i for i, (a, b) in enumerate(zip(old.nodes, graph.nodes, strict=True)) if a is not b)
        change = RowChange(ChangeKind.EDIT, rows=rows, field="measured")
        self._apply(graph, change, {graph.nodes[r].id for r in rows}, False)
        return failed

    def applied_edits(self) -> list[str]:
        """The changes applied to the model as loaded, oldest first (undone ones are not applied)."""
        return [*self.prior_edits, *(self.undo_stack.text(i) for i in range(self.undo_stack.index()))]

    def pin_baseline(self) -> None:
        edits = self.applied_edits()
        self._pin(self.report, f"{self.name or 'the model'} " + (
            f"after {len(edits)} change{'s' * (len(edits) != 1)} ({'; '.join(edits)})" if edits else "as loaded"))

    def pin_other_baseline(self, report: CostReport, label: str, shared_ids: bool) -> None:
        """Pin a report costed apart (`netcost report --baseline REF`); `shared_ids`: it is this model's graph
        (before the edits), so equal node ids are the same node; else rows are matched by name."""
        self._pin(report, label, shared_ids)

    def _pin(self, report: CostReport, label: str, shared_ids: bool = True) -> None:
        self.baseline, self.baseline_report, self.baseline_label = report.totals, report, label
        self._baseline_shared_ids = shared_ids
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
            c = self._comparison = compare(self.baseline_report, self._report, self.origin,
                                           shared_ids=self._baseline_shared_ids)
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

    def _apply(self, graph: Graph, change: RowChange, dirty: set[str], undo: bool) -> None:
        """Swap in `graph` (views hear what happened to the rows) and evaluate what it touched."""
        announce(self, graph, change, undo)
        self._dirty = set(dirty) if self._dirty is None else self._dirty | dirty
        if self._batch_depth == 0:
            self._recompute()

    def _recompute(self) -> None:
        dirty = self._dirty or set()
        self._dirty = None
        old = self._report
        report = evaluate_graph(self._graph, old, dirty)
        first = min((self._graph.index[d] for d in dirty if d in self._graph.index), default=0)
        self._changed_rows = changed_rows(old, report)
        self._replaced = id(old)  # (what `changed_since` compares against: the report these rows changed from)
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
