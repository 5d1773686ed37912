"""`SettingsDialog`: batch size, dtype, input shape and counting convention of the document.

It only collects values; the main window applies them (one undo step for the network settings; the convention is a
view setting outside the undo stack). For a traced (read-only) model the batch size and dtype are inputs of the trace:
when the window knows where the model came from (`reloadable`), changing them reloads the model in the background
worker; otherwise they are disabled and the dialog says why.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from netcost.costing import CONVENTIONS
from netcost.costing.dtypes import DTYPE_BYTES
from netcost.gui.common.palette import error_label_style
from netcost.gui.document.cost_document import CostDocument


def parse_shape(text: str) -> tuple[int, ...]:
    """'3, 224, 224' or '3x224x224' -> (3, 224, 224). Raises ValueError with a readable reason."""
    parts = [p for p in text.replace("x", ",").replace("×", ",").replace(" ", ",").split(",") if p]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{text!r}: give sizes separated by commas, e.g. 3, 224, 224") from None
    if not dims or any(d < 1 for d in dims):
        raise ValueError(f"{text!r}: every size must be a positive integer")
    return dims


class SettingsDialog(QDialog):
    def __init__(self, document: CostDocument, parent: QWidget | None = None, reloadable: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        graph = document.graph
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.batch = QSpinBox(self)
        self.batch.setRange(1, 1 << 20)
        self.batch.setValue(graph.batch_size)
        self.dtype = QComboBox(self)
        self.dtype.addItems(list(DTYPE_BYTES))
        self.dtype.setCurrentText(graph.dtype)
        first = graph.inputs[0].shape[1:] if graph.inputs else ()
        self.shape = QLineEdit(", ".join(map(str, first)), self)
        self.shape.setPlaceholderText("3, 224, 224 (without the batch)")
        self.convention = QComboBox(self)
        for key, conv in CONVENTIONS.items():
            self.convention.addItem(conv.label, key)
            self.convention.setItemData(self.convention.count() - 1, conv.description, 3)  # 3 = ToolTipRole
        self.convention.setCurrentIndex(list(CONVENTIONS).index(document.convention))
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.description.setEnabled(False)
        form.addRow("Batch size", self.batch)
        form.addRow("Data type", self.dtype)
        form.addRow("Input shape", self.shape)
        form.addRow("Convention", self.convention)
        form.addRow("", self.description)
        lay.addLayout(form)
        self.error = QLabel(self)
        self.error.setStyleSheet(error_label_style())
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.note = QLabel(self)
        self.note.setObjectName("settingsNote")
        self.note.setWordWrap(True)
        self.note.hide()
        lay.insertWidget(1, self.note)
        if document.traced:  # a traced model's shapes are baked into its trace (masks, positions, reshapes)
            self.shape.setEnabled(False)
            self.shape.setToolTip("open the model again to trace it with another input shape")
            if reloadable:
                self.note.setText("This model was traced. Changing the batch size or data type traces it again in "
                                  "the background (with progress and Cancel in the status bar); the current costs "
                                  "stay until the new ones arrive.")
            else:
                self.note.setText("This model was traced and its source is unknown, so only the convention can be "
                                  "changed here. Open the model again to trace it with another batch size, data "
                                  "type or input shape.")
                for w in (self.batch, self.dtype):
                    w.setEnabled(False)
                    w.setToolTip("open the model again to change its input")
            self.note.show()
        self.shape.textChanged.connect(self._validate)
        self.convention.currentIndexChanged.connect(self._on_convention_changed)
        self._on_convention_changed()
        self._validate()
        self.setMinimumWidth(420)

    def _on_convention_changed(self, *_: Any) -> None:
        self.description.setText(CONVENTIONS[self.convention_key()].description)

    def _validate(self) -> None:
        try:
            parse_shape(self.shape.text())
            self.error.clear()
            ok = True
        except ValueError as e:
            self.error.setText(str(e))
            ok = False
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def convention_key(self) -> str:
        return str(self.convention.currentData())

    def network_settings(self) -> dict[str, Any]:
        """Keyword arguments for `CostDocument.set_settings`."""
        return {"batch_size": self.batch.value(), "dtype": self.dtype.currentText(),
                "input_shape": parse_shape(self.shape.text())}
