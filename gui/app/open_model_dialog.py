"""`OpenModelDialog`: choose a model reference to load: a built-in zoo entry, or a file. For a `.py` file it lists
the `nn.Module` classes and functions found in it (read with `ast`: the file is never imported here, its code only
ever runs in the worker) and pre-fills the input shape from the file's `example_input(s)` when it has a literal one
(else it clears it: the model's own default, never the previous file's), saying where the shape comes from. The
classes are listed as a path is typed (once it names a file, after a short pause), not only when the field loses
focus; Return opens (Browse… is never the default button).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
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

from netcost.gui.common.palette import LIGHT, error_label_style, label_style
from netcost.model_io.files import zoo
from netcost.model_io.safe_read import SMALL_LIMIT, UnreadableFile, read_regular_text
from netcost.model_io.worker.resolve import LoadOptions

CODE_WARNING = ("Opening a .py file runs its code with your rights (it can read and change your files); NetCost "
                "runs it in a separate, limited process, but that is not a sandbox. Open files you trust.")
SETTINGS_LAST, SETTINGS_FILE = "openModel/lastReference", "openModel/lastFile"
PATH_DEBOUNCE_MS = 300  # a typed path is looked at once typing pauses this long
MODEL_FILTER = ("Models (*.py *.json *.pt *.pth *.pt2 *.onnx);;Python (*.py);;Layer lists (*.json);;"
                "TorchScript (*.pt *.pth);;torch.export (*.pt2);;ONNX (*.onnx);;All files (*)")


@dataclass(frozen=True)
class PythonScan:
    classes: tuple[str, ...]  # nn.Module subclasses (direct or through another class in the file)
    functions: tuple[str, ...]  # public top-level functions (factories)
    default_input: str  # "1, 3, 224, 224" from a literal example_input(s), else ""
    error: str = ""  # a syntax error, reported with its line
    # the arguments each candidate needs that have no default (a building block such as Block(c_in, c_out))
    required: dict[str, tuple[str, ...]] = field(default_factory=dict)
    preferred: str = ""  # the candidate to pre-select: the model the file is about, buildable as it is


def scan_python_file(path: str | Path) -> PythonScan:
    try:
        source = read_regular_text(path, SMALL_LIMIT)  # a FIFO named x.py must not freeze the dialog
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as e:
        return PythonScan((), (), "", f"{Path(path).name}, line {e.lineno}: {e.msg}")
    except UnreadableFile as e:
        return PythonScan((), (), "", str(e))
    except (OSError, ValueError) as e:
        return PythonScan((), (), "", f"cannot read {path}: {e}")
    from netcost.model_io.model_ref import list_candidates  # the resolver's own reading, so both agree on the names

    candidates = list_candidates(path)
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    default = ""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in ("example_input", "example_inputs"):
            default = default or _literal_shape(node)
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in ("example_input", "example_inputs") for t in node.targets):
            default = default or _literal_shape(node.value)
    found_classes = tuple(c for c in candidates if c in classes)
    functions = tuple(c for c in candidates if c not in classes)
    required = _required_arguments(tree, candidates)
    return PythonScan(found_classes, functions, default, required=required,
                      preferred=_preferred(tree, candidates, required))


def _required_arguments(tree: ast.Module, candidates: list[str]) -> dict[str, tuple[str, ...]]:
    """Per candidate, the constructor (class) or call (function) arguments without a default. A class without
    an `__init__` of its own takes its in-file base's (one from torch takes none)."""
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}

    def needed(fn: ast.FunctionDef, method: bool) -> tuple[str, ...]:
        positional = [*fn.args.posonlyargs, *fn.args.args][1 if method else 0:]
        without = positional[: len(positional) - len(fn.args.defaults)] if fn.args.defaults else positional
        kwonly = [a for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True) if d is None]
        return tuple(a.arg for a in [*without, *kwonly])

    def of_class(node: ast.ClassDef, seen: frozenset[str]) -> tuple[str, ...]:
        init = next((b for b in node.body if isinstance(b, ast.FunctionDef) and b.name == "__init__"), None)
        if init is not None:
            return needed(init, method=True)
        for base in node.bases:
            name = ast.unparse(base).split(".")[-1]
            if isinstance(defs.get(name), ast.ClassDef) and name not in seen:
                return of_class(defs[name], seen | {name})  # type: ignore[arg-type]
        return ()

    out: dict[str, tuple[str, ...]] = {}
    for name in candidates:
        node = defs.get(name)
        if isinstance(node, ast.ClassDef):
            out[name] = of_class(node, frozenset({name}))
        elif isinstance(node, ast.FunctionDef):
            out[name] = needed(node, method=False)
    return out


def _preferred(tree: ast.Module, candidates: list[str], required: dict[str, tuple[str, ...]]) -> str:
    """The candidate a user most likely means: one that builds without arguments; of those, one the file's own
    code builds (`Net()` under `if __name__ == "__main__"`), else the one made of the most other candidates (the
    whole model rather than its blocks, or a trivial helper), the last defined on a tie."""
    buildable = [c for c in candidates if not required.get(c)]
    if not buildable:
        return candidates[0] if candidates else ""
    uses: dict[str, set[str]] = {c: set() for c in candidates}  # candidates each candidate's code calls
    outside: set[str] = set()  # names called by the rest of the file
    for node in tree.body:
        name = getattr(node, "name", None)
        calls = {ast.unparse(sub.func).split(".")[-1] for sub in ast.walk(node) if isinstance(sub, ast.Call)}
        if name in uses:
            uses[name] = (calls & set(candidates)) - {name}
        else:
            outside |= calls

    def parts(c: str) -> set[str]:
        seen: set[str] = set()
        todo = [c]
        while todo:
            for d in uses.get(todo.pop(), ()):
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return seen

    called = [c for c in buildable if c in outside]
    pool = called or buildable
    return max(reversed(pool), key=lambda c: len(parts(c)))


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
        from netcost.model_io.files.torch_zoo_index import TORCH_ZOO
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
        self.file_edit.editingFinished.connect(self._on_path_finished)
        self.path_timer = QTimer(self)
        self.path_timer.setSingleShot(True)
        self.path_timer.setInterval(PATH_DEBOUNCE_MS)
        self.path_timer.timeout.connect(self._on_path_typed)
        self.file_edit.textEdited.connect(lambda _t: self.path_timer.start())
        self._scanned = ""  # the path whose classes are listed
        browse = QPushButton("Browse…", self)
        browse.setAutoDefault(False)  # Return after Tab opens the model, it does not browse
        browse.clicked.connect(self._on_browse_clicked)
        self.browse_button = browse
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
        self.code_warning.setStyleSheet(label_style(LIGHT.warning))
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
        self.input_source = QLabel(self)
        self.input_source.setObjectName("inputSource")
        self.input_source.setWordWrap(True)
        self.input_source.setStyleSheet("QLabel { color: palette(mid); }")
        self.inputs.textEdited.connect(lambda t: self._set_input(t, "your entry" if t.strip() else ""))
        form.addRow("", self.input_source)
        form.addRow("Time limit", self.timeout)
        lay.addLayout(form)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(error_label_style())
        lay.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Open)
        self.ok_button.setDefault(True)
        self.reference.textChanged.connect(lambda t: self.ok_button.setEnabled(bool(t.strip())))
        self.ok_button.setEnabled(bool(ref))
        lay.addWidget(buttons)
        self._show_class_list(False)
        self.resize(640, 560)
        self._set_input("", "")
        if not ref:
            self._restore()

    def _show_class_list(self, visible: bool) -> None:
        self.class_label.setVisible(visible)
        self.class_list.setVisible(visible)
        self.code_warning.setVisible(visible)

    def _on_zoo_selected(self) -> None:
        items = self.zoo_list.selectedItems()
        if items:
            self.reference.setText(str(items[0].data(Qt.ItemDataRole.UserRole)))
            self._set_input("", "")
            self._show_class_list(False)

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self.folder, MODEL_FILTER)
        if path:
            self.set_file(path)

    def _set_input(self, shape: str, source: str) -> None:
        """The input shape and where it comes from; an empty one is the model's own default."""
        if self.inputs.text() != shape:
            self.inputs.setText(shape)
        self.input_source.setText(f"Input from {source}" if shape.strip() and source else
                                  "Input: the model's own default (its example input, or the built-in entry's)")

    def _on_path_typed(self) -> None:
        """A path typed (after a pause): list its classes once it names a file; say nothing while it does not."""
        path = self.file_edit.text().strip()
        if path != self._scanned and Path(path).is_file():
            self.set_file(path)

    def _on_path_finished(self) -> None:
        self.path_timer.stop()
        path = self.file_edit.text().strip()
        if path != self._scanned or not path:  # already listed while typing: keep the class the user picked
            self.set_file(path)

    def set_file(self, path: str) -> None:
        path = path.strip()
        self.path_timer.stop()
        if self.file_edit.text() != path:  # (the same text set again would move the cursor of a path being typed)
            self.file_edit.setText(path)
        self._scanned = path
        self.message.clear()
        self.class_list.clear()
        if not path:
            return
        self.zoo_list.clearSelection()
        if not path.endswith(".py"):
            self._show_class_list(False)
            self._set_input("", "")  # a model file carries its own input (or the tracer asks): not the last one
            self.reference.setText(path)
            return
        scan = scan_python_file(path)
        self._show_class_list(True)
        if scan.error:
            self.message.setText(scan.error)
        for name in (*scan.classes, *scan.functions):
            kind = "class" if name in scan.classes else "function"
            needs = scan.required.get(name, ())
            note = f"{kind}, needs {', '.join(needs)}" if needs else kind
            call = "" if kind == "class" else "()"
            item = QListWidgetItem(f"{name}{call}   ({note})", self.class_list)
            item.setData(Qt.ItemDataRole.UserRole, name)
            if needs:  # selectable (Reference can add the arguments: Block(c_in=3, c_out=8)) but not offered first
                item.setToolTip(f"{name} needs {', '.join(needs)}: add them to the reference, e.g. "
                                f"{name}({', '.join(f'{a}=…' for a in needs)})")
        if not scan.error and not (scan.classes or scan.functions):
            self.message.setText(f"{Path(path).name} defines no nn.Module class or function")
        if scan.default_input:
            self._set_input(scan.default_input, f"{Path(path).name}'s example_input")
        else:
            self._set_input("", "")  # never the previous file's shape
        if self.class_list.count():
            names = [self.class_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.class_list.count())]
            wanted = self._remembered_class(path) or scan.preferred
            self.class_list.setCurrentRow(names.index(wanted) if wanted in names else 0)
        self._update_reference()

    def _update_reference(self) -> None:
        items = self.class_list.selectedItems()
        path = self.file_edit.text().strip()
        if path.endswith(".py"):
            name = str(items[0].data(Qt.ItemDataRole.UserRole)) if items else ""
            self.reference.setText(f"{path}:{name}" if name else "")

    # ---- remembered between openings (QSettings; tests isolate them) ----------------------------------------
    def _restore(self) -> None:
        """Show what was opened last: its file and class, or its built-in entry."""
        settings = QSettings()
        last = str(settings.value(SETTINGS_LAST, "") or "")
        file = str(settings.value(SETTINGS_FILE, "") or "")
        if last.startswith("zoo:"):
            for i in range(self.zoo_list.count()):
                if self.zoo_list.item(i).data(Qt.ItemDataRole.UserRole) == last:
                    self.zoo_list.setCurrentRow(i)
                    self.zoo_list.scrollToItem(self.zoo_list.item(i))
                    break
        elif file and Path(file).exists():
            self.set_file(file)

    def _remembered_class(self, path: str) -> str:
        last = str(QSettings().value(SETTINGS_LAST, "") or "")
        prefix = f"{path}:"
        return last[len(prefix):].split("(")[0] if last.startswith(prefix) else ""

    def accept(self) -> None:
        ref = self.reference.text().strip()
        if ref:
            settings = QSettings()
            settings.setValue(SETTINGS_LAST, ref)
            file = self.file_edit.text().strip()
            if file and ref.startswith(file):
                settings.setValue(SETTINGS_FILE, file)
        super().accept()

    def selection(self) -> tuple[str, LoadOptions]:
        """The reference and load options the user chose."""
        inputs = tuple(s.strip().replace(" ", "") for s in self.inputs.text().split(";") if s.strip())
        return self.reference.text().strip(), LoadOptions(inputs=inputs, timeout=self.timeout.value())
