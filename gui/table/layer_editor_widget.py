"""`LayerEditorWidget`: a form for the current layer, built from the registry's argument schema.

Each argument gets the widget its kind calls for (spin boxes, one spin box per dimension for kernel/stride/padding,
check boxes, combos for choices, a text field for the rest). Values the user did not give show torch's default or,
for input-size arguments, the value inferred from the incoming shape, marked as such. Every commit is one call to
the document (one undo step); a value the engine rejects is kept and the engine's message is shown under the form.
"""

from __future__ import annotations

import ast
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from netcost.costing import formatting as fmt
from netcost.costing.args import REQUIRED, Arg
from netcost.costing.registry import has_kind, kind
from netcost.gui.common.on_screen import CatchUpWhenShown, out_of_sight
from netcost.gui.common.palette import error_label_style
from netcost.gui.common.plain_text import plain_tip
from netcost.gui.common.text_line import TextLineWidget
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.table.layer_table_model import compatible_args
from netcost.gui.table.layer_table_view import type_combo

_INT_MAX = 2**31 - 1


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _fits_spin(value: Any) -> bool:
    return _is_int(value) and -_INT_MAX <= value <= _INT_MAX


def field_kind(arg: Arg, dims: int, value: Any) -> str:
    """Which widget shows `value`; a given value that the natural widget cannot hold falls back to text."""
    k = arg.kind
    natural = {"int": "spin", "bool": "check", "choice": "choice", "ints": "tuple", "opt_ints": "tuple",
               "padding": "tuple"}.get(k, "text")
    if value is None:
        return natural
    if natural == "spin" and not _fits_spin(value):
        return "text"  # not an int, or one a spin box cannot hold (sizes up to int64 are valid)
    if natural == "check" and not isinstance(value, bool):
        return "text"
    if natural == "choice" and value not in arg.choices:
        return "text"
    if natural == "tuple":
        if k == "padding" and value in ("same", "valid"):
            return natural
        ok = _fits_spin(value) or (isinstance(value, (list, tuple)) and len(value) == dims
                                   and all(map(_fits_spin, value)))
        return natural if ok else "text"
    return natural


def parse_text(text: str) -> Any:
    """A text field's value: a Python literal, else the text itself (the engine names what is wrong with it)."""
    text = text.strip()
    if not text:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


class _Field(QWidget):
    edited = Signal(object)

    def set_value(self, value: Any) -> None:
        raise NotImplementedError


UNKNOWN = "—"  # a spin box's text for a value not known (an inferred size before the layer evaluates)


def _show_int(spin: QSpinBox, value: Any) -> None:
    """An int, or "—" (the spin box's minimum) for None: never a made-up 0."""
    spin.setValue(value if _is_int(value) else spin.minimum())


class _SpinField(_Field):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.spin = _spin(-_INT_MAX - 1, self)
        self.spin.setSpecialValueText(UNKNOWN)
        lay.addWidget(self.spin)
        self.spin.valueChanged.connect(lambda v: self.edited.emit(None if v == self.spin.minimum() else v))

    def set_value(self, value: Any) -> None:
        self.spin.blockSignals(True)
        _show_int(self.spin, value)
        self.spin.blockSignals(False)


def _spin(minimum: int, parent: QWidget) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(minimum, _INT_MAX)
    spin.setKeyboardTracking(False)  # commit on Enter / focus out / arrows: typing "128" is one undo step
    spin.setAccelerated(True)
    spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
    spin.setMinimumWidth(56)  # the ±2^31 range would otherwise ask for a very wide box
    spin.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    return spin


class _TupleField(_Field):
    """One spin box per dimension (kernel 3×3). Equal entries are committed as one int, as torch users write it.
    A link toggle (on when the entries are equal) makes one value set them all: typing 5 gives a 5×5 kernel."""

    def __init__(self, dims: int, optional: bool, padding: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.optional = optional
        self.mode: QComboBox | None = None
        if padding:
            self.mode = QComboBox(self)
            self.mode.addItems(["explicit", "same", "valid"])
            self.mode.activated.connect(self._commit)
            lay.addWidget(self.mode)
        self.spins = []
        for i in range(dims):
            spin = _spin(0 if optional else -_INT_MAX - 1, self)
            # the minimum shows as "auto" (torch's None: stride = kernel_size) or as "—" (not known)
            spin.setSpecialValueText("auto" if optional else UNKNOWN)
            spin.valueChanged.connect(lambda _v, i=i: self._on_spin(i))
            lay.addWidget(spin, 1)
            self.spins.append(spin)
        self.link = QToolButton(self)
        self.link.setObjectName("linkDims")
        self.link.setText("=")
        self.link.setCheckable(True)
        self.link.setChecked(True)
        self.link.setAutoRaise(True)
        self.link.setToolTip("Linked: one value sets every dimension (a square kernel). Untick for a 5×3 one")
        self.link.setVisible(dims > 1)
        lay.addWidget(self.link)

    def set_value(self, value: Any) -> None:
        for w in [*self.spins, self.mode]:
            if w is not None:
                w.blockSignals(True)
        text_mode = isinstance(value, str)
        if self.mode is not None:
            self.mode.setCurrentText(value if text_mode else "explicit")
        values: list[Any] = [None] * len(self.spins)
        if _is_int(value):
            values = [value] * len(self.spins)
        elif isinstance(value, (list, tuple)):
            values = [v if _is_int(v) else None for v in value][:len(self.spins)]
        for spin, v in zip(self.spins, values, strict=False):
            _show_int(spin, v)
            spin.setEnabled(not text_mode)
        self.link.setChecked(len(set(values)) == 1)  # linked by default while the dimensions agree
        for w in [*self.spins, self.mode]:
            if w is not None:
                w.blockSignals(False)

    def value(self) -> Any:
        if self.mode is not None and self.mode.currentText() != "explicit":
            return self.mode.currentText()
        values = [s.value() for s in self.spins]
        if any(v == s.minimum() for v, s in zip(values, self.spins, strict=True)):
            return None  # "auto" / not known in any dimension: torch's default, or inferred
        return values[0] if len(set(values)) == 1 else values

    def _on_spin(self, i: int) -> None:
        if self.link.isChecked():  # one value sets every dimension, committed as one edit
            v = self.spins[i].value()
            for j, spin in enumerate(self.spins):
                if j != i:
                    spin.blockSignals(True)
                    spin.setValue(v)
                    spin.blockSignals(False)
        self._commit()

    def _commit(self, *_: Any) -> None:
        for s in self.spins:
            s.setEnabled(self.mode is None or self.mode.currentText() == "explicit")
        self.edited.emit(self.value())


class _CheckField(_Field):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.box = QCheckBox(self)
        lay.addWidget(self.box)
        self.box.toggled.connect(self.edited.emit)

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class _ChoiceField(_Field):
    def __init__(self, choices: tuple[Any, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox(self)
        self.choices = choices
        for c in choices:
            self.combo.addItem(str(c))
        lay.addWidget(self.combo)
        self.combo.activated.connect(lambda i: self.edited.emit(self.choices[i]))

    def set_value(self, value: Any) -> None:
        self.combo.blockSignals(True)
        if value in self.choices:
            self.combo.setCurrentIndex(self.choices.index(value))
        self.combo.blockSignals(False)


class _TextField(_Field):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText("None")
        lay.addWidget(self.line)
        self.line.editingFinished.connect(self._commit)
        self._shown = ""

    def set_value(self, value: Any) -> None:
        self._shown = "" if value is None else (value if isinstance(value, str) else repr(
            list(value) if isinstance(value, tuple) else value))
        self.line.setText(self._shown)

    def _commit(self) -> None:
        if self.line.text() != self._shown:  # focus moving away without a change is not an edit
            self._shown = self.line.text()
            self.edited.emit(parse_text(self.line.text()))


def _make_field(kind_name: str, arg: Arg, dims: int, parent: QWidget) -> _Field:
    if kind_name == "spin":
        return _SpinField(parent)
    if kind_name == "tuple":
        return _TupleField(dims, arg.kind == "opt_ints", arg.kind == "padding", parent)
    if kind_name == "check":
        return _CheckField(parent)
    if kind_name == "choice":
        return _ChoiceField(arg.choices, parent)
    return _TextField(parent)


class LayerEditorWidget(QWidget):
    """Edits the document's current layer (the first selected row)."""

    def __init__(self, document: CostDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setObjectName("layerEditor")
        self._node: str | None = None  # the id of the node on show (it keeps it while rows move)
        self._layout_key: tuple[Any, ...] | None = None
        self._fields: dict[str, tuple[_Field, QLabel, QToolButton]] = {}

        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel(self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        outer.addWidget(self.title)
        self.shape_label = TextLineWidget(self)  # changes with every edit of the row: repaints alone
        outer.addWidget(self.shape_label)

        self.head = QWidget(self)
        head_form = QFormLayout(self.head)
        head_form.setContentsMargins(0, 0, 0, 0)
        self.name_edit = QLineEdit(self.head)
        self.name_edit.setPlaceholderText("(automatic)")
        self.name_edit.editingFinished.connect(self._on_name_edited)
        self.type_box = type_combo(self.head)
        self.type_box.activated.connect(self._on_type_activated)
        self.trainable_box = QCheckBox("trainable", self.head)
        self.trainable_box.toggled.connect(self._on_trainable_toggled)
        head_form.addRow("Name", self.name_edit)
        head_form.addRow("Type", self.type_box)
        head_form.addRow("", self.trainable_box)
        outer.addWidget(self.head)

        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        outer.addWidget(line)

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self.scroll, 1)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.scroll.setWidget(self.form_host)

        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(error_label_style(bold=True))
        self.error_label.hide()
        outer.addWidget(self.error_label)

        # One refresh per edit: a change of the layer (or the list) is followed, within the same command, by the
        # recompute's reportChanged (after errorChanged when the error appeared, changed or cleared), which
        # refreshes at once; the deferred refresh only runs when nothing follows.
        self._stale = False  # a refresh was skipped while out of sight
        CatchUpWhenShown(self, lambda: self._stale, self.refresh)
        self._deferred = QTimer(self)
        self._deferred.setSingleShot(True)
        self._deferred.setInterval(0)
        self._deferred.timeout.connect(self.refresh)
        d = document
        d.selection.changed.connect(self._on_selection_changed)
        d.nodeChanged.connect(self._on_document_node_changed)
        d.reportChanged.connect(self._on_document_report_changed)
        d.errorChanged.connect(self._on_document_error_changed)
        d.documentReset.connect(self.refresh)
        d.layersInserted.connect(self._on_document_layers_changed)
        d.layersRemoved.connect(self._on_document_layers_changed)
        d.layersMoved.connect(self._on_document_layers_changed)
        self.refresh()

    # ---- document signals ------------------------------------------------------------------------------------
    def _on_selection_changed(self, *_: Any) -> None:
        self.refresh()

    def _on_document_node_changed(self, node: str, _field: str) -> None:
        if node == self._node:
            self._deferred.start()

    def _on_document_layers_changed(self, *_: Any) -> None:
        self._deferred.start()  # the row shown may have moved; the recompute or new selection refreshes first

    def _on_document_report_changed(self, first: int) -> None:
        row = None if self._node is None else self.document.row_of(self._node)
        if self._deferred.isActive() or (row is not None and row >= first):
            self.refresh()

    def _on_document_error_changed(self) -> None:
        self._deferred.start()  # the recompute's reportChanged follows at once and refreshes

    # ---- building ------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._deferred.stop()
        if self.window().isVisible() and out_of_sight(self):  # behind another dock's tab: catch up when shown
            self._stale = True
            return
        self._stale = False
        doc = self.document
        self._node = doc.selection.current_id
        row = None if self._node is None else doc.row_of(self._node)
        if row is None:
            self._show_message("Select a layer to edit its arguments." if doc.row_count() else
                               "The network is empty: add a layer (Ctrl+Shift+A).")
            return
        spec = doc.spec(row)
        cost = doc.row_cost(row)
        self.head.show()
        self.scroll.show()
        self.title.setText(f"Layer {row}: {spec.display_name(row)}")  # QLabel skips an unchanged text
        if cost is not None:
            self.shape_label.setText(f"{fmt.shape(cost.input_shape)} → {fmt.shape(cost.output_shape)}   ·   "
                                     f"{fmt.si(cost.params)} params")
        else:
            self.shape_label.setText("no valid costs yet")
        self.name_edit.blockSignals(True)
        if self.name_edit.text() != spec.name:
            self.name_edit.setText(spec.name)
        self.name_edit.setPlaceholderText(spec.display_name(row))
        self.name_edit.blockSignals(False)
        if self.type_box.currentText() != spec.type:
            self.type_box.blockSignals(True)
            self.type_box.setCurrentText(spec.type)
            self.type_box.blockSignals(False)
        if self.trainable_box.isChecked() != spec.trainable:
            self.trainable_box.blockSignals(True)
            self.trainable_box.setChecked(spec.trainable)
            self.trainable_box.blockSignals(False)
        self._build_fields(row)
        error = doc.error
        if error is not None and error.index == row:
            self.error_label.setText(f"⚠ {error.reason}" + (f"  (field: {error.field})" if error.field else ""))
        elif error is not None:
            self.error_label.setText(f"Layer {error.index} has an error: {error.reason}")
        self.error_label.setVisible(error is not None)

    def _show_message(self, text: str) -> None:
        self.title.setText(text)
        self.shape_label.clear()
        self.head.hide()
        self.scroll.hide()
        self.error_label.hide()
        self._clear_fields()

    def _clear_fields(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._fields.clear()
        self._layout_key = None

    def _build_fields(self, row: int) -> None:
        doc = self.document
        spec = doc.spec(row)
        if not has_kind(spec.type):
            self._clear_fields()
            return
        k = kind(spec.type)
        cost = doc.row_cost(row)
        resolved = dict(cost.args) if cost is not None and cost.type == spec.type else {}
        inferred = set(cost.inferred) if cost is not None and cost.type == spec.type else set()
        # the value shown decides the widget: an inferred size past a spin box's range is shown as text
        kinds_ = tuple(field_kind(a, k.dims, spec.args.get(a.name, resolved.get(a.name))) for a in k.args)
        key = (row, spec.type, kinds_)
        if key != self._layout_key:  # rebuild only when the set of widgets changes, not on every value
            self._clear_fields()
            self._layout_key = key
            if not k.args:
                self.form.addRow(QLabel("This layer has no arguments.", self.form_host))
            for arg, kind_name in zip(k.args, kinds_, strict=True):
                field = _make_field(kind_name, arg, k.dims, self.form_host)
                reset = QToolButton(self.form_host)
                reset.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DialogResetButton))
                reset.setAutoRaise(True)
                holder = QWidget(self.form_host)
                hl = QHBoxLayout(holder)
                hl.setContentsMargins(0, 0, 0, 0)
                hl.setSpacing(2)
                hl.addWidget(field, 1)
                hl.addWidget(reset)
                label = QLabel(arg.name, self.form_host)
                name = arg.name
                field.edited.connect(lambda v, n=name: self._on_field_edited(n, v))
                reset.clicked.connect(lambda _=False, n=name: self._on_field_edited(n, None))
                self.form.addRow(label, holder)
                self._fields[name] = (field, label, reset)
        error = doc.error
        for arg in k.args:
            field, label, reset = self._fields[arg.name]
            given = arg.name in spec.args
            if given:
                value = spec.args[arg.name]
            elif arg.name in resolved:
                value = resolved[arg.name]
            else:
                value = None if arg.default is REQUIRED else arg.default
            if field.property("shown") != repr(value):  # untouched widgets are not repainted on every edit
                field.set_value(value)
                field.setProperty("shown", repr(value))
            is_inferred = not given and (arg.name in inferred or (arg.inferred and arg.name not in resolved))
            suffix = " (inferred)" if is_inferred else ("" if given else " (default)")
            if not given and arg.default is REQUIRED and not arg.inferred:
                suffix = " (required)"
            if is_inferred and arg.name not in resolved:
                suffix = " (inferred, not known yet)"  # the layer did not evaluate: shown as —, never 0
            bad = error is not None and error.index == row and error.field == arg.name
            _set_label(label, arg.name + suffix, italic=not given, bad=bad)
            if bad:  # bring the field the engine complains about into view
                self.scroll.ensureWidgetVisible(field)
            tip = plain_tip(str(error)) if bad else (arg.help or _default_tip(arg))
            if field.toolTip() != tip:
                field.setToolTip(tip)
            if reset.isEnabled() != given:
                reset.setEnabled(given)
            reset.setToolTip("infer from the incoming shape" if arg.inferred else "use torch's default")

    # ---- user edits -> document (one undo step each) ---------------------------------------------------------
    def _on_field_edited(self, name: str, value: Any) -> None:
        if self._node is not None:
            self.document.set_layer_arg(self._node, name, value)

    def _on_name_edited(self) -> None:
        if self._node is not None:
            self.document.rename_layer(self._node, self.name_edit.text().strip())

    def _on_type_activated(self, _index: int) -> None:
        row = None if self._node is None else self.document.row_of(self._node)
        if row is None:
            return
        spec = self.document.spec(row)
        type_ = self.type_box.currentText()
        if type_ != spec.type:
            self.document.set_layer_type(self._node, type_, compatible_args(dict(spec.args), type_))

    def _on_trainable_toggled(self, checked: bool) -> None:
        if self._node is not None:
            self.document.set_trainable(self._node, checked)


def _set_label(label: QLabel, text: str, italic: bool, bad: bool) -> None:
    """Change only what differs: a style sheet or font set again re-polishes and re-lays out the whole form."""
    if label.text() != text:
        label.setText(text)
    if label.font().italic() != italic:
        font = QFont(label.font())
        font.setItalic(italic)
        label.setFont(font)
    style = error_label_style(bold=True) if bad else ""
    if label.styleSheet() != style:
        label.setStyleSheet(style)


def _default_tip(arg: Arg) -> str:
    if arg.inferred:
        return f"{arg.name}: inferred from the incoming shape unless given"
    if arg.default is REQUIRED:
        return f"{arg.name}: required"
    return f"{arg.name}: default {arg.default!r}"
