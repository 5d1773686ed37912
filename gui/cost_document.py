"""`CostDocument`: the one model every view observes. It owns the layer list, the undo stack and the report.

Public write methods only push commands onto the `QUndoStack`; only a command's redo/undo mutates (through the
`_apply_*` methods below). After each mutation the engine re-evaluates from the first dirty row (incrementally),
once per command, or once per `batch()` for pastes and macros. An invalid value is kept in the layer list (so the
user can fix it) while the report keeps the last valid costs and `error` names the problem.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from costing import CONVENTIONS, CostReport, LayerCost, LayerError, LayerSpec, Network, Totals, evaluate
from costing.args import REQUIRED, coerce_value
from costing.registry import has_kind, kind
from model_io.layer_file import atomic_write, load_network, network_to_dict

from .layer_selection import LayerSelection


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
    documentAboutToReset = Signal()  # emitted before the network or model is replaced (Qt models: beginResetModel)
    documentReset = Signal()  # a new network or model: views rebuild
    settingsChanged = Signal()  # batch size, dtype, input shape, name
    conventionChanged = Signal(str)
    baselineChanged = Signal()
    pathChanged = Signal()
    modifiedChanged = Signal(bool)  # follows the undo stack's clean state

    def __init__(self, network: Network | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.selection = LayerSelection(self)
        self._ids = itertools.count(1)
        self._network = Network((), (3, 224, 224), "untitled")
        self._layer_ids: list[int] = []
        self._report: CostReport = evaluate(self._network)
        self._report_ids: list[int] = []
        self._rows_by_id: dict[int, LayerCost] = {}
        self._error: LayerError | None = None
        self._dirty_from: int | None = None  # min first-dirty row since the last valid report
        self._batch_depth = 0
        self._resetting = False
        self._read_only_report: CostReport | None = None
        self.convention = "flops"
        self.baseline: Totals | None = None
        self.baseline_report: CostReport | None = None  # the whole report at pin time (summary, categories)
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
    def network(self) -> Network:
        return self._network

    @property
    def report(self) -> CostReport:
        """The last valid report (a traced model's report when read-only)."""
        return self._read_only_report or self._report

    @property
    def error(self) -> LayerError | None:
        return self._error

    @property
    def read_only(self) -> bool:
        """A traced model that is not a plain chain of supported layers: costs only, no editing."""
        return self._read_only_report is not None

    @property
    def name(self) -> str:
        return self.report.model if self.read_only else self._network.name

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        """What a title bar shows: the file name, else the model's name."""
        return self.path.name if self.path is not None else (self.name or "untitled")

    def row_count(self) -> int:
        return len(self.report.layers) if self.read_only else len(self._network.layers)

    def spec(self, row: int) -> LayerSpec:
        return self._network.layers[row]

    def layer_id(self, row: int) -> int:
        """A stable identity for the layer at `row` (kept across edits and moves; views key items by it)."""
        return row + 1 if self.read_only else self._layer_ids[row]

    def layer_ids(self) -> list[int]:
        return list(range(1, self.row_count() + 1)) if self.read_only else list(self._layer_ids)

    def row_cost(self, row: int) -> LayerCost | None:
        """The costs shown for `row`: fresh, or the last valid ones while an edit is invalid (None if never valid)."""
        if self.read_only:
            return self.report.layers[row]
        return self._rows_by_id.get(self._layer_ids[row])

    def error_row(self) -> int | None:
        return self._error.index if self._error is not None else None

    # ---- loading ------------------------------------------------------------------------------------------
    def set_network(self, network: Network, path: Path | None = None, extra: dict[str, Any] | None = None) -> None:
        """Replace the document (not undoable: clears the undo stack). Views rebuild on `documentReset`."""
        self.documentAboutToReset.emit()
        self._read_only_report = None
        self._network = network
        self._layer_ids = [next(self._ids) for _ in network.layers]
        self._report_ids = []
        self._rows_by_id = {}
        self._dirty_from = 0
        self.path = path
        self.extra = dict(extra or {})
        view = self.extra.get("view")
        if isinstance(view, dict) and view.get("convention") in CONVENTIONS:
            self.set_convention(view["convention"])
        self.baseline = self.baseline_report = None
        self.selection.clear()
        self._resetting = True  # views hear one documentReset, never a reportChanged about rows they lack yet
        try:
            self._recompute(full=True)
        finally:
            self._resetting = False
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.documentReset.emit()
        self.pathChanged.emit()
        self.baselineChanged.emit()

    def set_report(self, report: CostReport, path: Path | None = None, keep_baseline: bool = False) -> None:
        """Show a traced model's report, read-only. `keep_baseline`: the same model traced again (another batch
        size or dtype), so a pinned baseline stays and the deltas show what the change costs."""
        self.documentAboutToReset.emit()
        self._read_only_report = report
        self._error = None
        self.path = path
        if not keep_baseline:
            self.baseline = self.baseline_report = None
        self.selection.clear()
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.documentReset.emit()
        self.pathChanged.emit()
        self.baselineChanged.emit()

    # ---- editing (each call is one undo step; no-ops push nothing) ----------------------------------------
    def set_layer_arg(self, row: int, field: str, value: Any) -> bool:
        """Set one constructor argument (None removes it: torch's default, or inferred from the input)."""
        old = self._network.layers[row]
        if old.args.get(field) == value and (value is not None or field not in old.args):
            return False
        new = old.with_arg(field, value)
        self._push(_EditCommand(self, row, old, new, field, f"Set {field} of {old.display_name(row)}"))
        return True

    def set_layer_type(self, row: int, type_: str, args: dict[str, Any] | None = None) -> bool:
        old = self._network.layers[row]
        if old.type == type_ and args is None:
            return False
        new = replace(old, type=type_, args=dict(args or {}))
        self._push(_EditCommand(self, row, old, new, "type", f"Change {old.display_name(row)} to {type_}"))
        return True

    def rename_layer(self, row: int, name: str) -> bool:
        old = self._network.layers[row]
        if old.name == name:
            return False
        self._push(_EditCommand(self, row, old, replace(old, name=name), "name", f"Rename {old.display_name(row)}"))
        return True

    def set_trainable(self, row: int, trainable: bool) -> bool:
        old = self._network.layers[row]
        if old.trainable == trainable:
            return False
        text = f"{'Unfreeze' if trainable else 'Freeze'} {old.display_name(row)}"
        self._push(_EditCommand(self, row, old, replace(old, trainable=trainable), "trainable", text))
        return True

    def replace_layer(self, row: int, spec: LayerSpec) -> bool:
        old = self._network.layers[row]
        if old == spec:
            return False
        self._push(_EditCommand(self, row, old, spec, "type", f"Edit {old.display_name(row)}"))
        return True

    def insert_layers(self, row: int, specs: Sequence[LayerSpec], text: str | None = None) -> bool:
        if not specs:
            return False
        row = max(0, min(row, len(self._network.layers)))
        label = text or (f"Insert {specs[0].type}" if len(specs) == 1 else f"Insert {len(specs)} layers")
        self._push(_InsertCommand(self, row, tuple(specs), label))
        return True

    def append_layer(self, spec: LayerSpec) -> bool:
        return self.insert_layers(len(self._network.layers), [spec], f"Add {spec.type}")

    def duplicate_layers(self, rows: Sequence[int]) -> bool:
        rows = sorted(set(rows))
        if not rows:
            return False
        specs = [self._network.layers[r] for r in rows]
        return self.insert_layers(rows[-1] + 1, specs, f"Duplicate {len(rows)} layer{'s' * (len(rows) > 1)}")

    def remove_layers(self, rows: Sequence[int]) -> bool:
        rows = sorted({r for r in rows if 0 <= r < len(self._network.layers)})
        if not rows:
            return False
        self._push(_RemoveCommand(self, rows, f"Delete {len(rows)} layer{'s' * (len(rows) > 1)}"))
        return True

    def move_layers(self, first: int, last: int, dest: int) -> bool:
        """Move rows first..last so that they sit before `dest` (a row index of the list before the move)."""
        n = len(self._network.layers)
        if not (0 <= first <= last < n) or not 0 <= dest <= n or first <= dest <= last + 1:
            return False
        self._push(_MoveCommand(self, first, last, dest, "Move layers"))
        return True

    def move_rows(self, rows: Sequence[int], dest: int) -> bool:
        """Move any set of rows (contiguous or not) so that they sit together, in their order, before `dest` (a row
        index of the list before the move). One undo step; undo restores the order and the selection."""
        n = len(self._network.layers)
        rows = sorted({r for r in rows if 0 <= r < n})
        if not rows or not 0 <= dest <= n:
            return False
        if rows == list(range(rows[0], rows[-1] + 1)):
            return self.move_layers(rows[0], rows[-1], dest)
        steps: list[tuple[int, int, int]] = []
        p = dest
        for r in reversed([r for r in rows if r < dest]):  # those above: each goes just before the growing block
            if r + 1 != p:
                steps.append((r, r, p))
            p -= 1
        q = dest
        for r in [r for r in rows if r >= dest]:  # those below: each goes just after it
            if r != q:
                steps.append((r, r, q))
            q += 1
        if not steps:
            return False
        self._push(_MoveRowsCommand(self, steps, rows, list(range(p, p + len(rows))),
                                    f"Move {len(rows)} layers"))
        return True

    def set_settings(self, **changes: Any) -> bool:
        """Change batch_size, dtype, input_shape or name (one undo step). Raises ValueError for bad values."""
        new = replace(self._network, **changes)  # validates
        if new == self._network:
            return False
        self._push(_SettingsCommand(self, self._network, new, "Change " + ", ".join(changes)))
        return True

    def set_convention(self, convention: str) -> None:
        """A view setting, not an edit: it does not touch the undo stack."""
        if convention != self.convention:
            self.convention = convention
            self.conventionChanged.emit(convention)

    def pin_baseline(self) -> None:
        self.baseline = self.report.totals
        self.baseline_report = self.report
        self.baselineChanged.emit()

    def clear_baseline(self) -> None:
        if self.baseline is not None:
            self.baseline = self.baseline_report = None
            self.baselineChanged.emit()

    # ---- files --------------------------------------------------------------------------------------------
    def load_file(self, path: str | Path) -> None:
        """Replace the document with a project / layer-list file. Raises FormatError (the document is untouched)."""
        network, extra = load_network(path)
        self.set_network(network, Path(path), extra)

    def file_data(self) -> dict[str, Any]:
        """The project file's JSON: the layer list plus view settings under the optional `view` key."""
        if self.read_only:
            raise PermissionError("a traced model is not a layer list: convert it first")
        extra = {**self.extra, "view": {**self.extra.get("view", {}), "convention": self.convention}}
        return network_to_dict(self._network, extra)

    def save_file(self, path: str | Path) -> None:
        """Save atomically and mark the undo stack clean. Raises OSError (the document stays modified)."""
        atomic_write(path, (json.dumps(self.file_data(), indent=2) + "\n").encode("utf-8"))
        self.path = Path(path)
        self.undo_stack.setClean()
        self.pathChanged.emit()

    def convertible_network(self) -> Network | None:
        """The editable layer list equal to a read-only traced model, or None if it is not a plain chain."""
        return network_from_report(self.report) if self.read_only else None

    def convert_to_layers(self) -> bool:
        """Turn a traced plain-chain model into an editable layer list (one action; not undoable: a new doc)."""
        network = self.convertible_network()
        if network is None:
            return False
        self.set_network(network, None)
        return True

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
            if self._batch_depth == 0 and self._dirty_from is not None:
                self._recompute()

    # ---- mutation (called by commands only) ---------------------------------------------------------------
    def _push(self, command: QUndoCommand) -> None:
        if self.read_only:
            raise PermissionError("this model is read-only: convert it to a layer list to edit it")
        self.undo_stack.push(command)

    def _mark_dirty(self, row: int) -> None:
        self._dirty_from = row if self._dirty_from is None else min(self._dirty_from, row)
        if self._batch_depth == 0:
            self._recompute()

    def _apply_edit(self, row: int, spec: LayerSpec, field: str) -> None:
        self._network = self._network.replace_layer(row, spec)
        self.layerChanged.emit(row, field)
        self._mark_dirty(row)

    def _apply_insert(self, row: int, specs: tuple[LayerSpec, ...], ids: list[int]) -> None:
        last = row + len(specs) - 1
        self.layersAboutToBeInserted.emit(row, last)
        layers = list(self._network.layers)
        layers[row:row] = specs
        self._layer_ids[row:row] = ids
        self._network = replace(self._network, layers=tuple(layers))
        self.layersInserted.emit(row, last)
        self._mark_dirty(row)

    def _apply_remove(self, first: int, last: int) -> None:
        self.layersAboutToBeRemoved.emit(first, last)
        layers = list(self._network.layers)
        del layers[first:last + 1]
        del self._layer_ids[first:last + 1]
        self._network = replace(self._network, layers=tuple(layers))
        self.layersRemoved.emit(first, last)
        self._mark_dirty(first)

    def _apply_move(self, first: int, last: int, dest: int) -> None:
        self.layersAboutToBeMoved.emit(first, last, dest)
        layers, ids = list(self._network.layers), self._layer_ids
        block, block_ids = layers[first:last + 1], ids[first:last + 1]
        del layers[first:last + 1]
        del ids[first:last + 1]
        at = dest if dest < first else dest - (last - first + 1)
        layers[at:at] = block
        ids[at:at] = block_ids
        self._network = replace(self._network, layers=tuple(layers))
        self.layersMoved.emit(first, last, dest)
        self._mark_dirty(min(first, at))

    def _apply_settings(self, network: Network) -> None:
        full = (network.batched_input != self._network.batched_input or network.dtype != self._network.dtype)
        self._network = replace(network, layers=self._network.layers)
        self.settingsChanged.emit()
        if full:
            self._report_ids = []  # every row changes: no reuse
        self._mark_dirty(0)

    def _recompute(self, full: bool = False) -> None:
        first = 0 if full or self._dirty_from is None else self._dirty_from
        previous = None if full or not self._report_ids else self._report
        try:
            report = evaluate(self._network, previous, first)
        except LayerError as e:
            changed = self._error is None or str(self._error) != str(e)
            self._error = e
            if changed and not self._resetting:
                self.errorChanged.emit()
            return
        had_error = self._error is not None
        self._error = None
        self._dirty_from = None
        self._report = report
        self._report_ids = list(self._layer_ids)
        self._rows_by_id = dict(zip(self._report_ids, report.layers, strict=True))
        if self._resetting:
            return
        if had_error:
            self.errorChanged.emit()
        self.reportChanged.emit(first)


class _EditCommand(QUndoCommand):
    def __init__(self, doc: CostDocument, row: int, old: LayerSpec, new: LayerSpec, field: str, text: str) -> None:
        super().__init__(text)
        self.doc, self.row, self.old, self.new, self.field = doc, row, old, new, field
        self.selection = [row]

    def redo(self) -> None:
        self.doc._apply_edit(self.row, self.new, self.field)
        self.doc.selection.set_rows(self.selection)

    def undo(self) -> None:
        self.doc._apply_edit(self.row, self.old, self.field)
        self.doc.selection.set_rows(self.selection)


class _InsertCommand(QUndoCommand):
    def __init__(self, doc: CostDocument, row: int, specs: tuple[LayerSpec, ...], text: str) -> None:
        super().__init__(text)
        self.doc, self.row, self.specs = doc, row, specs
        self.ids = [next(doc._ids) for _ in specs]
        self.before = doc.selection.rows

    def redo(self) -> None:
        self.doc._apply_insert(self.row, self.specs, list(self.ids))
        self.doc.selection.set_rows(range(self.row, self.row + len(self.specs)))

    def undo(self) -> None:
        self.doc._apply_remove(self.row, self.row + len(self.specs) - 1)
        self.doc.selection.set_rows(self.before)


class _RemoveCommand(QUndoCommand):
    def __init__(self, doc: CostDocument, rows: list[int], text: str) -> None:
        super().__init__(text)
        self.doc = doc
        # contiguous blocks, removed bottom-up so earlier indices stay valid
        self.blocks: list[tuple[int, int]] = []
        for r in rows:
            if self.blocks and self.blocks[-1][1] == r - 1:
                self.blocks[-1] = (self.blocks[-1][0], r)
            else:
                self.blocks.append((r, r))
        self.saved = [(f, tuple(doc.network.layers[f:l + 1]), doc._layer_ids[f:l + 1]) for f, l in self.blocks]
        self.before = doc.selection.rows

    def redo(self) -> None:
        for first, last in reversed(self.blocks):
            self.doc._apply_remove(first, last)
        n = self.doc.row_count()
        self.doc.selection.set_rows([min(self.blocks[0][0], n - 1)] if n else [])

    def undo(self) -> None:
        for first, specs, ids in self.saved:
            self.doc._apply_insert(first, specs, list(ids))
        self.doc.selection.set_rows(self.before)


class _MoveCommand(QUndoCommand):
    def __init__(self, doc: CostDocument, first: int, last: int, dest: int, text: str) -> None:
        super().__init__(text)
        self.doc, self.first, self.last, self.dest = doc, first, last, dest
        count = last - first + 1
        self.at = dest if dest < first else dest - count  # where the block starts after the move

    def redo(self) -> None:
        self.doc._apply_move(self.first, self.last, self.dest)
        self.doc.selection.set_rows(range(self.at, self.at + self.last - self.first + 1))

    def undo(self) -> None:
        count = self.last - self.first + 1
        back = self.first if self.first < self.at else self.first + count
        self.doc._apply_move(self.at, self.at + count - 1, back)
        self.doc.selection.set_rows(range(self.first, self.last + 1))


class _MoveRowsCommand(QUndoCommand):
    """Several single-block moves as one step and one recompute (a drag of a non-contiguous selection)."""

    def __init__(self, doc: CostDocument, steps: list[tuple[int, int, int]], before: list[int], after: list[int],
                 text: str) -> None:
        super().__init__(text)
        self.doc, self.steps, self.before, self.after = doc, steps, before, after

    def _run(self, steps: list[tuple[int, int, int]]) -> None:
        doc = self.doc
        doc._batch_depth += 1
        try:
            for first, last, dest in steps:
                doc._apply_move(first, last, dest)
        finally:
            doc._batch_depth -= 1
        if doc._batch_depth == 0:
            doc._recompute()

    def redo(self) -> None:
        self._run(self.steps)
        self.doc.selection.set_rows(self.after)

    def undo(self) -> None:
        inverse = []
        for first, last, dest in reversed(self.steps):
            count = last - first + 1
            at = dest if dest < first else dest - count
            inverse.append((at, at + count - 1, first if first < at else first + count))
        self._run(inverse)
        self.doc.selection.set_rows(self.before)


class _SettingsCommand(QUndoCommand):
    def __init__(self, doc: CostDocument, old: Network, new: Network, text: str) -> None:
        super().__init__(text)
        self.doc, self.old, self.new = doc, old, new

    def redo(self) -> None:
        self.doc._apply_settings(self.new)

    def undo(self) -> None:
        self.doc._apply_settings(self.old)


def network_from_report(report: CostReport) -> Network | None:
    """A traced report as a layer list when it is a plain chain: one input, every leaf a supported type, each
    layer's input the previous one's output, no shared parameters. Otherwise None (the model stays read-only)."""
    if len(report.inputs) != 1 or not report.layers or report.unsupported:
        return None
    shape, _ = report.inputs[0]
    specs = []
    for layer in report.layers:
        if (not has_kind(layer.type) or layer.shared_with or layer.input_shape != shape
                or len(layer.input_shapes) > 1):
            return None
        k = kind(layer.type)
        schema = {a.name: a for a in k.args}
        args = {}
        for name, v in layer.args.items():
            a = schema.get(name)
            if a is None or v is None or name in layer.inferred:
                continue
            if a.default is not REQUIRED and a.default is not None and coerce_value(a, a.default, k.dims) == v:
                continue  # torch's default: leave it out, as a user would
            if isinstance(v, tuple):
                v = v[0] if v and len(set(v)) == 1 and a.kind in ("ints", "padding") else list(v)
            args[name] = v
        specs.append(LayerSpec(layer.type, args, layer.path or layer.name, layer.frozen_params == 0))
        shape = layer.output_shape
    try:
        network = Network(tuple(specs), tuple(report.inputs[0][0][1:]), report.model, report.batch_size,
                          report.dtype)
        evaluate(network)  # the chain must evaluate as a layer list too
    except (ValueError, KeyError):
        return None
    return network
