"""`OpenModelDialog`: choose a model reference to load: a built-in zoo entry, or a file. For a `.py` file it lists
the `nn.Module` classes and functions found in it (read with `ast`: the file is never imported here, its code only
ever runs in the worker) and pre-fills the input shape from the file's `example_input(s)` when it has a literal one.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from model_io import zoo
from model_io.resolve import LoadOptions

CODE_WARNING = ("Opening a .py file runs its code with your rights (it can read and change your files); NetCost "
                "runs it in a separate, limited process, but that is not a sandbox. Open files you trust.")
MODEL_FILTER = ("Models (*.py *.json *.pt *.pth *.pt2 *.onnx);;Python (*.py);;Layer lists (*.json);;"
                "TorchScript (*.pt *.pth);;torch.export (*.pt2);;ONNX (*.onnx);;All files (*)")


@dataclass(frozen=True)
class PythonScan:
    classes: tuple[str, ...]  # nn.Module subclasses (direct or through another class in the file)
    functions: tuple[str, ...]  # public top-level functions (factories)
    default_input: str  # "1, 3, 224, 224" from a literal example_input(s), else ""
    error: str = ""  # a syntax error, reported with its line


def scan_python_file(path: str | Path) -> PythonScan:
    try:
        source = Path(path).read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as e:
        return PythonScan((), (), "", f"{Path(path).name}, line {e.lineno}: {e.msg}")
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return PythonScan((), (), "", f"cannot read {path}: {e}")
    from model_io.model_ref import list_candidates  # the resolver's own reading, so both agree on the names

    candidates = list_candidates(path)
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    default = ""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in ("example_input", "example_inputs"):
            default = default or _literal_shape(node)
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in ("example_input", "example_inputs") for t in node.targets):
            default = default or _literal_shape(node.value)
    return PythonScan(tuple(c for c in candidates if c in classes),
                      tuple(c for c in candidates if c not in classes), default)


def _literal_shape(node: ast.AST) -> str:
    """The sizes of the first call with only integer arguments (`torch.randn(1, 3, 224, 224)`), if any."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and sub.args:
            args = sub.args[0].elts if len(sub.args) == 1 and isinstance(sub.args[0], (ast.Tuple, ast.List)) \
                else sub.args
            if all(isinstance(a, ast.Constant) and type(a.value) is int for a in args):
                return ", ".join(str(a.value) for a in args)  # type: ignore[attr-defined]
    return ""


def zoo_entries() -> list[tuple[str, str]]:
    """(reference, description) of every built-in entry: layer lists, then traced torch models if available."""
    entries = [(f"zoo:{name}", zoo.describe(name)) for name in zoo.model_names()]
    try:
        from model_io.torch_zoo_index import TORCH_ZOO
    except ImportError:
        return entries
    seen = {ref for ref, _ in entries}
    entries += [(f"zoo:{n}", f"{d} (traced)") for n, d in TORCH_ZOO.items() if f"zoo:{n}" not in seen]
    return entries


class OpenModelDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, folder: str = "", ref: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Open model")
        self.setObjectName("openModelDialog")
        self.folder = folder
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Built-in models", self))
        self.zoo_list = QListWidget(self)
        for entry, description in zoo_entries():
            item = QListWidgetItem(f"{entry}   —   {description}", self.zoo_list)
            item.setData(Qt.ItemDataRole.UserRole, entry)
        self.zoo_list.itemSelectionChanged.connect(self._on_zoo_selected)
        self.zoo_list.itemDoubleClicked.connect(lambda _i: self.accept())
        lay.addWidget(self.zoo_list, 2)

        row = QHBoxLayout()
        self.file_edit = QLineEdit(self)
        self.file_edit.setPlaceholderText("a .py, .json, .pt/.pth, .pt2 or .onnx file")
        self.file_edit.editingFinished.connect(lambda: self.set_file(self.file_edit.text()))
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._on_browse_clicked)
        row.addWidget(self.file_edit, 1)
        row.addWidget(browse)
        lay.addWidget(QLabel("Or a file", self))
        lay.addLayout(row)

        self.class_label = QLabel("Class or factory in the file", self)
        self.class_list = QListWidget(self)
        self.class_list.itemSelectionChanged.connect(self._update_reference)
        self.class_list.itemDoubleClicked.connect(lambda _i: self.accept())
        lay.addWidget(self.class_label)
        lay.addWidget(self.class_list, 1)
        self.code_warning = QLabel(CODE_WARNING, self)  # shown with a .py: opening it runs its code
        self.code_warning.setWordWrap(True)
        self.code_warning.setStyleSheet("QLabel { color: #b26a00; }")
        lay.addWidget(self.code_warning)

        form = QFormLayout()
        self.reference = QLineEdit(ref, self)
        self.inputs = QLineEdit(self)
        self.inputs.setPlaceholderText("the model's default (e.g. 1, 3, 224, 224 or long:1, 128)")
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(1, 3600)
        self.timeout.setValue(120)
        self.timeout.setSuffix(" s")
        form.addRow("Reference", self.reference)
        form.addRow("Input (with batch)", self.inputs)
        form.addRow("Time limit", self.timeout)
        lay.addLayout(form)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("QLabel { color: #d32f2f; }")
        lay.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Open)
        self.reference.textChanged.connect(lambda t: self.ok_button.setEnabled(bool(t.strip())))
        self.ok_button.setEnabled(bool(ref))
        lay.addWidget(buttons)
        self._show_class_list(False)
        self.resize(640, 560)

    def _show_class_list(self, visible: bool) -> None:
        self.class_label.setVisible(visible)
        self.class_list.setVisible(visible)
        self.code_warning.setVisible(visible)

    def _on_zoo_selected(self) -> None:
        items = self.zoo_list.selectedItems()
        if items:
            self.reference.setText(str(items[0].data(Qt.ItemDataRole.UserRole)))
            self.inputs.clear()
            self._show_class_list(False)

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self.folder, MODEL_FILTER)
        if path:
            self.set_file(path)

    def set_file(self, path: str) -> None:
        path = path.strip()
        self.file_edit.setText(path)
        self.message.clear()
        self.class_list.clear()
        if not path:
            return
        self.zoo_list.clearSelection()
        if not path.endswith(".py"):
            self._show_class_list(False)
            self.reference.setText(path)
            return
        scan = scan_python_file(path)
        self._show_class_list(True)
        if scan.error:
            self.message.setText(scan.error)
        for name in scan.classes:
            QListWidgetItem(f"{name}   (class)", self.class_list).setData(Qt.ItemDataRole.UserRole, name)
        for name in scan.functions:
            QListWidgetItem(f"{name}()   (function)", self.class_list).setData(Qt.ItemDataRole.UserRole, name)
        if not scan.error and not (scan.classes or scan.functions):
            self.message.setText(f"{Path(path).name} defines no nn.Module class or function")
        if scan.default_input:
            self.inputs.setText(scan.default_input)
        if self.class_list.count():
            self.class_list.setCurrentRow(0)
        self._update_reference()

    def _update_reference(self) -> None:
        items = self.class_list.selectedItems()
        path = self.file_edit.text().strip()
        if path.endswith(".py"):
            name = str(items[0].data(Qt.ItemDataRole.UserRole)) if items else ""
            self.reference.setText(f"{path}:{name}" if name else "")

    def selection(self) -> tuple[str, LoadOptions]:
        """The reference and load options the user chose."""
        inputs = tuple(s.strip().replace(" ", "") for s in self.inputs.text().split(";") if s.strip())
        return self.reference.text().strip(), LoadOptions(inputs=inputs, timeout=self.timeout.value())
