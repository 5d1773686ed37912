"""`LayerTableModel`: a Qt table adapter over the `CostDocument`. It holds no layer data of its own.

Reads go to the document (`spec`, `row_cost`, `report`, `error`); writes go to the document's undo-pushing methods.
Structural signals are forwarded as begin/end pairs, a recompute becomes one `dataChanged` per affected block, and
a new document becomes a model reset. Sorting lives in a `QSortFilterProxyModel` (see `LayerTableView`), so the
document's order is never touched by it.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from functools import cache
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QFont, QIcon, QPainter, QPixmap

from netcost.costing import CONVENTIONS, LayerCost, LayerError, Totals, convention_value
from netcost.costing import formatting as fmt
from netcost.costing.comparison import ADDED, SAME, RowDelta
from netcost.costing.records import NOT_COSTED
from netcost.costing.registry import has_kind, kind, kinds
from netcost.costing.shares import share, share_text
from netcost.gui.common.palette import LIGHT
from netcost.gui.common.plain_text import plain_tip
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.document_types import row_runs
from netcost.gui.document.latency_state import LatencyState
from netcost.gui.document.training_state import TrainFigure, TrainingState
from netcost.gui.table.derived_columns import latency_header, latency_tip, training_cell, training_header

Index = QModelIndex | QPersistentModelIndex

NAME, TYPE, ARGS, SHAPE, PARAMS, MACS, CONV, PCT_CONV, PCT_PARAMS, MEMORY = range(10)
# The roofline estimate on the Latency dock's device (issue 14): a derived analysis, after the cost columns.
LATENCY = 10
DELTA_PARAMS, DELTA_CONV = 11, 12  # against the pinned baseline (empty, and hidden by the view, without one)
# a training step's figures (issue 21; shown in Training mode): gui/table/derived_columns.py
BACKWARD_FLOPS, SAVED_ACTIVATIONS = TRAINING_COLUMNS = (13, 14)
COLUMN_COUNT = 15
DELTA_COLUMNS = (DELTA_PARAMS, DELTA_CONV)
COST_COLUMNS = (PARAMS, MACS, CONV, PCT_CONV, PCT_PARAMS, MEMORY, LATENCY, *DELTA_COLUMNS, *TRAINING_COLUMNS)
SORT_ROLE = Qt.ItemDataRole.UserRole  # raw numbers for the proxy's sort
LAYER_ID_ROLE = Qt.ItemDataRole.UserRole + 1
ERROR_ROLE = Qt.ItemDataRole.UserRole + 2  # the engine's message on the cell it concerns, else None
# in a dataChanged's roles: only the shares moved with a new total (see `LayerTableModel.shares_moved`)
SHARES_ROLE = Qt.ItemDataRole.UserRole + 3

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
# Precomputed once: enum arithmetic in Python costs microseconds, and data()/flags() run for every painted cell.
_ALIGN = tuple(int(_RIGHT if c in COST_COLUMNS else _LEFT) for c in range(COLUMN_COUNT))
_F_READ = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_F_ROW = _F_READ | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled
_F_EDIT = _F_ROW | Qt.ItemFlag.ItemIsEditable
_DISPLAY, _EDIT, _TOOLTIP = int(Qt.ItemDataRole.DisplayRole), int(Qt.ItemDataRole.EditRole), int(
    Qt.ItemDataRole.ToolTipRole)
_ALIGN_ROLE, _DECORATION = int(Qt.ItemDataRole.TextAlignmentRole), int(Qt.ItemDataRole.DecorationRole)
_BACKGROUND, _FONT = int(Qt.ItemDataRole.BackgroundRole), int(Qt.ItemDataRole.FontRole)
_SORT, _LAYER_ID, _ERROR = int(SORT_ROLE), int(LAYER_ID_ROLE), int(ERROR_ROLE)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
# delta cells: saved (green), grown (red), a row the baseline does not have (blue), unchanged (grey)
DELTA_COLORS = {"less": LIGHT.less, "more": LIGHT.more, ADDED: LIGHT.added, SAME: LIGHT.same}
_ERROR_ONLY = frozenset((_DECORATION, _BACKGROUND, _FONT, _ERROR))  # roles that are None while all is valid
_ANSWERED = frozenset((_EDIT, _TOOLTIP, _DECORATION, _BACKGROUND, _FONT, _FOREGROUND, _SORT, _LAYER_ID, _ERROR))
# display texts cached per row version (`LayerTableModel._texts`): everything but the shares (they follow the
# totals), the latency (the chosen device) and the deltas (the baseline)
_CACHED = (NAME, TYPE, ARGS, SHAPE, PARAMS, MACS, CONV, MEMORY)
_FIGURE = {BACKWARD_FLOPS: TrainFigure.BACKWARD_FLOPS, SAVED_ACTIVATIONS: TrainFigure.SAVED}
_CACHED_SLOT = tuple(_CACHED.index(c) if c in _CACHED else -1 for c in range(COLUMN_COUNT))


def format_args(args: dict[str, Any]) -> str:
    """The editable text of a layer's arguments: `out_channels=96, kernel_size=11, bias=False`."""
    return ", ".join(f"{k}={list(v) if isinstance(v, tuple) else v!r}" for k, v in args.items())


def parse_args(text: str) -> dict[str, Any]:
    """Parse `name=value, ...`. A value that is not a Python literal is kept as its text, so the engine can name
    the problem (`must be an integer`) instead of the edit being silently dropped."""
    args: dict[str, Any] = {}
    for part in _split_top_level(text):
        key, sep, raw = part.partition("=")
        key, raw = key.strip(), raw.strip()
        if not key:
            continue
        if not sep:
            args[key] = True  # a bare name: the engine says whether that argument exists
            continue
        try:
            args[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            args[key] = raw
    return args


def edited_args(old: dict[str, Any], text: str) -> dict[str, Any]:
    """The arguments after typing `text` in a layer's Arguments cell: the named ones change, the others stay
    (`kernel_size=5, padding=2` keeps out_channels); `name=` with nothing after it removes one (torch's default,
    or inferred from the input)."""
    removed = {k.strip() for k, sep, raw in (p.partition("=") for p in _split_top_level(text))
               if sep and not raw.strip()}
    new = {k: v for k, v in parse_args(text).items() if k not in removed}
    return {k: v for k, v in {**old, **new}.items() if k not in removed}


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def compatible_args(args: dict[str, Any], type_: str) -> dict[str, Any]:
    """The arguments a new layer type also takes (Conv2d -> DepthwiseSeparableConv2d keeps them); the engine names
    any required one that is still missing."""
    names = {a.name for a in kind(type_).args} if has_kind(type_) else set()
    return {k: v for k, v in args.items() if k in names}


def field_column(field: str | None) -> int:
    """The column that shows an argument / field (where an error mark goes)."""
    return {"name": NAME, "type": TYPE}.get(field or "", ARGS)


class LayerTableModel(QAbstractTableModel):
    def __init__(self, document: CostDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._shown_totals: Totals | None = document.report.totals  # only to know whether % cells changed
        self._totals_before: Totals | None = None  # the totals before the last recompute (`shares_moved`)
        self._error_row: int | None = document.error_row()
        self._text_cache: dict[str, tuple[Any, Any, int, tuple[Any, ...]]] = {}  # node id -> `_texts`' entry
        d = document
        d.layersAboutToBeInserted.connect(lambda f, l: self.beginInsertRows(QModelIndex(), f, l))
        d.layersInserted.connect(self._on_document_layers_inserted)
        d.layersAboutToBeRemoved.connect(lambda f, l: self.beginRemoveRows(QModelIndex(), f, l))
        d.layersRemoved.connect(self._on_document_layers_removed)
        d.layersAboutToBeMoved.connect(
            lambda f, l, dest: self.beginMoveRows(QModelIndex(), f, l, QModelIndex(), dest))
        d.layersMoved.connect(self._on_document_layers_moved)
        d.documentAboutToReset.connect(self.beginResetModel)
        d.documentReset.connect(self._on_document_reset)
        d.layerChanged.connect(self._on_document_layer_changed)
        d.reportChanged.connect(self._on_document_report_changed)
        d.errorChanged.connect(self._on_document_error_changed)
        d.conventionChanged.connect(self._on_document_convention_changed)
        d.baselineChanged.connect(self._on_document_baseline_changed)
        self.latency = LatencyState.of(document)
        self.latency.changed.connect(self._on_latency_changed)
        self.training = TrainingState.of(document)
        self.training.changed.connect(self._on_training_changed)

    # ---- shape ---------------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else self.document.row_count()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMN_COUNT

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Vertical:
            if role == Qt.ItemDataRole.DisplayRole:
                return str(section)
            return None
        if section == LATENCY:
            return latency_header(self.latency, role)
        if section in TRAINING_COLUMNS:
            return training_header(self.training, _FIGURE[section], role)
        conv = CONVENTIONS[self.document.convention]
        if role == Qt.ItemDataRole.DisplayRole:
            label = _two_lines(conv.label)
            return ("Name", "Type", "Arguments", "Output shape", "Params", "MACs", label, f"% {label}",
                    "% params", "Memory", "Latency", "Δ params", f"Δ {label}")[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {CONV: f"{conv.label}: {conv.description}", PCT_CONV: f"share of the model's {conv.label}",
                    MACS: CONVENTIONS["macs"].description, MEMORY: "activation memory written by the layer (forward)",
                    ARGS: "constructor arguments (torch names); inferred ones come from the incoming shape. Typing "
                          "name=value changes that argument and keeps the others; name= removes one",
                    DELTA_PARAMS: "params against the pinned baseline (Model ▸ Pin baseline)",
                    DELTA_CONV: f"{conv.label} against the pinned baseline (Model ▸ Pin baseline)",
                    }.get(section)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(_RIGHT if section in COST_COLUMNS else _LEFT)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        col = index.column()
        if col == NAME:
            return _F_EDIT
        # type and arguments of opaque or functional nodes are what the trace saw: not editable
        return _F_EDIT if col <= ARGS and self.document.editable(index.row()) else _F_ROW

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    # ---- reading -------------------------------------------------------------------------------------------
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Qt asks seven roles of every painted cell: the common answers come first and cheaply
        role = int(role)
        if role == _DISPLAY:
            if not index.isValid():
                return None
            row, col = index.row(), index.column()
            if col >= DELTA_PARAMS:
                return self._delta_data(row, col, role) if col <= DELTA_CONV else self._training_data(row, col, role)
            slot = _CACHED_SLOT[col]
            return self._texts(row)[slot] if slot >= 0 else self._display(row, col, self.document.row_cost(row))
        if role == _ALIGN_ROLE:
            return _ALIGN[index.column()]
        if role not in _ANSWERED:
            return None
        doc = self.document
        error = doc._error
        if error is None and role in _ERROR_ONLY:  # the common case of a painted cell: nothing to mark
            return None
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if col >= DELTA_PARAMS and role in (_FOREGROUND, _TOOLTIP, _SORT):
            return self._delta_data(row, col, role) if col <= DELTA_CONV else self._training_data(row, col, role)
        if role == _FOREGROUND:
            return None
        if role == _EDIT:
            spec = doc.spec(row)
            return {NAME: spec.name, TYPE: spec.type, ARGS: format_args(dict(spec.args))}.get(
                col, self._display(row, col, doc.row_cost(row)))
        if role == _SORT:
            return self._sort_value(row, col, doc.row_cost(row))
        if role == _LAYER_ID:
            return doc.layer_id(row)
        is_error_row = error is not None and error.index == row
        if role == _ERROR:
            return str(error) if is_error_row and field_column(error.field) == col else None
        if role == _DECORATION:
            return error_icon() if is_error_row and field_column(error.field) == col else None
        if role == _TOOLTIP:
            tip = self._tooltip(row, col, error)
            return plain_tip(tip) if tip else tip
        if role == _BACKGROUND:
            return QBrush(LIGHT.error_fill) if is_error_row else None
        if role == _FONT:
            if doc.is_stale(row) and not is_error_row:  # not costed: it depends on the error
                font = QFont()
                font.setItalic(True)
                return font
            return None
        return None

    def _tooltip(self, row: int, col: int, error: LayerError | None) -> str | None:
        """A cell's tooltip (names in it are the user's: `plain_tip` keeps them from rendering as markup)."""
        doc = self.document
        is_error_row = error is not None and error.index == row
        cost = doc.row_cost(row)
        if is_error_row:
            return f"{error}\n(it and the layers that depend on it are not costed until it is fixed)"
        if cost is None:
            if error is None:  # (an opaque node waiting for its new measurement)
                return "not costed yet: it is being measured again with the edits"
            return f"not costed: it depends on {error.name}, which has an error"
        if not doc.editable(row) and col in (TYPE, ARGS):
            node = doc.node(row)
            return (f"{node.type_label}: measured when traced (no NetCost formula): not editable" if node.opaque else
                    f"{node.type_label}: a functional op of the model's code (its arguments are what ran)")
        if col == ARGS and cost is not None and cost.inferred:
            return "inferred from the incoming shape: " + ", ".join(
                f"{k}={cost.args.get(k)}" for k in cost.inferred)
        if col == LATENCY:
            return latency_tip(self.latency, self.latency.row_latency(row))
        if col == MEMORY and cost is not None:
            return (f"activations {fmt.nbytes(cost.activation_bytes)} · params {fmt.nbytes(cost.param_bytes)}"
                    f" · memory access {fmt.nbytes(cost.memory_access_bytes)}")
        if col in (NAME, TYPE, SHAPE, ARGS):  # the whole text of a cell the column's width may cut
            return str(self._display(row, col, cost)) or None
        return None

    def _delta_data(self, row: int, col: int, role: int) -> Any:
        """A row's change against the baseline: `-205 K (-66.7 %)`, `new +614 K`, `=` when untouched, `not costed`
        when either side has no figures for it (never a delta against nothing)."""
        doc = self.document
        d = doc.row_delta(row)
        if d is None or d.status == NOT_COSTED:
            if role == _SORT:
                return 0
            if doc.baseline is None or (d is None and doc.row_cost(row) is not None):
                return None
            if role == _FOREGROUND:
                return QBrush(DELTA_COLORS[SAME])
            if role == _TOOLTIP:
                side = "now" if doc.row_cost(row) is None else "in the baseline"
                return f"not costed {side}: no change can be given against it"
            return NOT_COSTED
        field = "params" if col == DELTA_PARAMS else self.document.convention
        after, before = _value(d.totals("after"), field), _value(d.totals("before"), field)
        diff = after - before
        if role == _SORT:
            return diff
        if role == _FOREGROUND:
            key = ADDED if d.status == ADDED else "less" if diff < 0 else "more" if diff > 0 else SAME
            return QBrush(DELTA_COLORS[key])
        if role == _TOOLTIP:
            return _delta_tooltip(d, field)
        if d.status == ADDED:
            return f"new +{fmt.si(after)}" if after else "new"
        return fmt.delta(after, before) if diff else "="

    def _training_data(self, row: int, col: int, role: int) -> Any:
        return None if role == _FOREGROUND else training_cell(self.training, self.document.row_cost(row),
                                                              _FIGURE[col], role)

    def _texts(self, row: int) -> tuple[Any, ...]:
        """The texts of `row`'s `_CACHED` columns, formatted once per version of its node and costs (the objects
        are immutable: an edit makes new ones), so repainting a row an edit did not change formats nothing."""
        doc = self.document
        node = doc._graph.nodes[row]
        cost = doc._report.by_id.get(node.id)
        hit = self._text_cache.get(node.id)
        if hit is not None and hit[0] is node and hit[1] is cost and hit[2] == row:
            return hit[3]
        texts = tuple(self._display(row, c, cost) for c in _CACHED)
        self._text_cache[node.id] = (node, cost, row, texts)
        return texts

    def _moved_columns(self, row: int) -> list[tuple[int, int]]:
        """Runs of the columns (Arguments on) of a row the last evaluation changed whose cells may now read
        otherwise: the cached texts that differ (a new in_channels leaves the shape alone), and the derived
        columns (shares, latency, deltas) always. A row never shown is repainted whole when it shows."""
        hit = self._text_cache.get(self.document._graph.nodes[row].id)
        new = self._texts(row)
        if hit is None or hit[2] != row:
            return [(ARGS, COLUMN_COUNT - 1)]
        old = hit[3]
        return row_runs(tuple(c for c in range(ARGS, COLUMN_COUNT)
                              if _CACHED_SLOT[c] < 0 or old[_CACHED_SLOT[c]] != new[_CACHED_SLOT[c]]))

    def _args_for_display(self, row: int, cost: LayerCost | None) -> tuple[str, dict[str, Any]]:
        doc = self.document
        spec = doc.spec(row)
        # resolved (inferred filled) values from the last valid costs, overridden by what the user typed
        base = dict(cost.args) if cost is not None and cost.type == spec.type else {}
        return spec.type, {**base, **spec.args}

    def _display(self, row: int, col: int, cost: LayerCost | None) -> Any:
        doc = self.document
        if col == NAME:
            return doc.spec(row).display_name(row)
        if col == TYPE:
            return doc.node(row).type_label
        if col == ARGS:
            type_, args = self._args_for_display(row, cost)
            try:
                return fmt.key_args(type_, args)
            except (TypeError, ValueError, KeyError, IndexError):  # a half-typed value must not break painting
                return format_args(args)
        if cost is None:
            return "—"
        if col == SHAPE:
            return fmt.shape(cost.output_shape)
        if col == PARAMS:
            return fmt.si(cost.params)
        if col == MACS:
            return fmt.si(cost.macs)
        if col == CONV:
            return fmt.si(convention_value(cost.totals, doc.convention))
        if col in (PCT_CONV, PCT_PARAMS):
            report = doc.report
            return share_text(cost.totals, report.totals if report.complete else None, self._share_metric(col))
        if col == MEMORY:
            return fmt.nbytes(cost.activation_bytes)
        if col == LATENCY:
            lat = self.latency.row_latency(row)
            return fmt.duration(lat.seconds) if lat is not None else ""
        return None

    def _share(self, cost: LayerCost, col: int, totals: Totals | None = None) -> float | None:
        """The row's fraction of the model's params or chosen measure (of `totals`, else the report's); None while
        the report is incomplete (a share of a partial total)."""
        if totals is None:
            if not self.document.report.complete:
                return None
            totals = self.document.report.totals
        return share(cost.totals, totals, self._share_metric(col))

    def _share_metric(self, col: int) -> str:
        return "params" if col == PCT_PARAMS else self.document.convention

    def shares_moved(self, row: int) -> bool:
        """Whether `row`'s share cells read otherwise now than under the totals before the last recompute. A new
        total moves every share, but most still round to the same text: those cells need no repaint."""
        cost = self.document.row_cost(row)
        before = self._totals_before
        if cost is None or before is None or not self.document.report.complete:
            return True
        now = self.document.report.totals
        return any(share_text(cost.totals, before, self._share_metric(c)) != share_text(cost.totals, now,
                                                                                        self._share_metric(c))
                   for c in (PCT_CONV, PCT_PARAMS))

    def _sort_value(self, row: int, col: int, cost: LayerCost | None) -> Any:
        if col in (NAME, TYPE, ARGS):
            return str(self._display(row, col, cost)).lower()
        if cost is None:
            return -1
        if col == LATENCY:
            lat = self.latency.row_latency(row)
            return lat.seconds if lat is not None else -1.0
        return {SHAPE: float(sum(cost.output_shape)), PARAMS: cost.params, MACS: cost.macs,
                CONV: convention_value(cost.totals, self.document.convention),
                PCT_CONV: self._share(cost, PCT_CONV) or 0.0, PCT_PARAMS: self._share(cost, PCT_PARAMS) or 0.0,
                MEMORY: cost.activation_bytes}.get(col, 0)

    # ---- writing (through the document: one undo step per call) ------------------------------------------
    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        row, col = index.row(), index.column()
        doc = self.document
        if col in (TYPE, ARGS) and not doc.editable(row):
            return False
        spec = doc.spec(row)
        if col == NAME:
            return doc.rename_layer(row, str(value).strip())
        if col == TYPE:
            type_ = str(value)
            if type_ == spec.type:
                return False
            return doc.set_layer_type(row, type_, compatible_args(dict(spec.args), type_))
        if col == ARGS:
            args = value if isinstance(value, dict) else edited_args(dict(spec.args), str(value))
            return doc.replace_layer(row, replace(spec, args=args))
        return False

    # ---- document signals ----------------------------------------------------------------------------------
    def _on_document_layers_inserted(self, first: int, _last: int) -> None:
        self.endInsertRows()
        self._renumbered(first)

    def _on_document_layers_removed(self, first: int, _last: int) -> None:
        self.endRemoveRows()
        self._renumbered(first)

    def _on_document_layers_moved(self, first: int, _last: int, dest: int) -> None:
        self.endMoveRows()
        self._renumbered(min(first, dest))

    def _renumbered(self, first: int) -> None:
        """Unnamed layers are called by their row (`ReLU-5`, as the engine names them): rows below a structural
        change get new names."""
        self._text_cache.clear()  # (entries are keyed by row too: only to drop removed nodes' texts)
        n = self.rowCount()
        if first < n:
            self.dataChanged.emit(self.index(first, NAME), self.index(n - 1, NAME))

    def _on_document_reset(self) -> None:
        self._text_cache.clear()
        self._shown_totals = self.document.report.totals
        self._error_row = self.document.error_row()
        self.endResetModel()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, COLUMN_COUNT - 1)

    def _on_document_layer_changed(self, row: int, field: str) -> None:
        self.dataChanged.emit(self.index(row, NAME), self.index(row, ARGS))

    def _on_document_report_changed(self, first: int) -> None:
        n = self.rowCount()
        if n == 0:
            return
        first = max(0, min(first, n - 1))
        totals = self.document.report.totals
        rows = self.document.changed_rows()
        # only the cells that changed, so the view repaints a few rows and the share columns, not the whole table
        if rows is None:
            self.dataChanged.emit(self.index(first, ARGS), self.index(n - 1, COLUMN_COUNT - 1))
        else:
            for r in rows:
                for a, b in self._moved_columns(r):
                    self.dataChanged.emit(self.index(r, a), self.index(r, b))
        self._totals_before = self._shown_totals
        if totals != self._shown_totals and (rows is not None or first > 0):  # every row's share moved
            # SHARES_ROLE: a view may repaint only the cells whose text moved (`shares_moved`)
            self.dataChanged.emit(self.index(0, PCT_CONV), self.index(n - 1 if rows is not None else first - 1,
                                                                       PCT_PARAMS), [SHARES_ROLE])
        self._shown_totals = totals

    def _on_document_error_changed(self) -> None:
        n = self.rowCount()
        rows = [r for r in (self._error_row, self.document.error_row()) if r is not None and r < n]
        self._error_row = self.document.error_row()
        if rows:  # the error row and the stale rows below it change their look
            self.dataChanged.emit(self.index(min(rows), 0), self.index(n - 1, COLUMN_COUNT - 1))

    def _on_document_convention_changed(self, _convention: str) -> None:
        self._text_cache.clear()  # the convention's column
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, CONV, PCT_CONV)
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, DELTA_CONV, DELTA_CONV)
        if self.rowCount():
            self.dataChanged.emit(self.index(0, CONV), self.index(self.rowCount() - 1, PCT_CONV))
            self.dataChanged.emit(self.index(0, DELTA_CONV), self.index(self.rowCount() - 1, DELTA_CONV))

    def _on_document_baseline_changed(self) -> None:
        if self.rowCount():
            self.dataChanged.emit(self.index(0, DELTA_PARAMS), self.index(self.rowCount() - 1, DELTA_CONV))

    def _on_latency_changed(self) -> None:
        """Another device, peak or device list: the column's header and every value change."""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, LATENCY, LATENCY)
        if self.rowCount():
            self.dataChanged.emit(self.index(0, LATENCY), self.index(self.rowCount() - 1, LATENCY))

    def _on_training_changed(self) -> None:
        """Another optimizer, precision, batch or frozen scope: the training columns' values change."""
        if self.rowCount():
            self.dataChanged.emit(self.index(0, BACKWARD_FLOPS), self.index(self.rowCount() - 1, SAVED_ACTIVATIONS))


def _value(totals: Totals, field: str) -> int:
    return totals.params if field == "params" else convention_value(totals, field)


def _delta_tooltip(d: RowDelta, field: str) -> str:
    label = "params" if field == "params" else CONVENTIONS[field].label
    after = _value(d.totals("after"), field)
    if d.before is None:
        was = f" (replaces {', '.join(d.replaces)})" if d.replaces else ""
        return f"new since the baseline{was}: {fmt.grouped(after)} {label}"
    before = _value(d.totals("before"), field)
    return (f"{label}: {fmt.grouped(before)} → {fmt.grouped(after)} ({'+' if after > before else ''}"
            f"{fmt.grouped(after - before)})")


def _two_lines(label: str) -> str:
    """A long convention name ("torchinfo mult-adds") on two header lines, so its column stays as narrow as
    its numbers."""
    return label.replace(" ", "\n", 1) if len(label) > 10 else label


def duplicate_of_macs(convention: str) -> bool:
    """Under the MACs convention the chosen-convention column shows the MACs column's numbers again."""
    return convention == "macs"


def supported_types() -> dict[str, list[str]]:
    """Every registered layer type, grouped by category (for the type combo boxes)."""
    groups: dict[str, list[str]] = {}
    for name, k in sorted(kinds().items()):
        groups.setdefault(k.category, []).append(name)
    return groups


@cache
def error_icon() -> QIcon:
    """The red dot beside the field in error (drawn once)."""
    pix = QPixmap(12, 12)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(LIGHT.error_mark)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(1, 1, 10, 10)
    p.end()
    return QIcon(pix)
