"""`LibraryBrowserDialog`: pick a model of an installed library (torchvision, timm) from a searchable list.

The names come from `python -m netcost.model_io.importers.library_models LIBRARY`, run in a QProcess: listing them
imports the library (and torch), which the app never does itself. They are kept for the rest of the session. Hugging
Face configs are files: File › Open Built-in asks for a `config.json` instead (see `library_menu_entries`).
"""

from __future__ import annotations

import importlib
import json
import sys

from PySide6.QtCore import QProcess, QProcessEnvironment, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from netcost.model_io.model_ref import LIBRARY_KINDS, library_installed
from netcost.model_io.worker import orphans, worker_client

TITLES = {"torchvision": "torchvision models…", "timm": "timm models…", "hf": "Hugging Face config…"}
_NAMES: dict[str, list[str]] = {}  # library -> its model names, once listed in this session


def library_menu_entries() -> list[tuple[str, str]]:
    """(reference prefix, menu title) for each library installed here now, in a fixed order (the import system's
    folder caches are dropped first, so a library pip-installed since start-up is found)."""
    importlib.invalidate_caches()
    return [(prefix, TITLES[prefix]) for prefix, library in LIBRARY_KINDS.items() if library_installed(library)]


def catalogue_command(library: str) -> list[str]:
    return [sys.executable, "-m", "netcost.model_io.importers.library_models", library]


class LibraryBrowserDialog(QDialog):
    def __init__(self, library: str, parent: QWidget | None = None, command: list[str] | None = None) -> None:
        """`command` replaces the catalogue's command line (tests list a few names without the library)."""
        super().__init__(parent)
        self.library = library
        self.setWindowTitle(f"Open a {library} model")
        self.setObjectName("libraryBrowserDialog")
        lay = QVBoxLayout(self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(f"Search {library} models (e.g. resnet, vit, convnext)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.list = QListWidget(self)
        self.list.itemDoubleClicked.connect(lambda _i: self.accept())
        self.list.currentItemChanged.connect(lambda *_: self._update_ok())
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Open)
        for w in (self.search, self.list, self.status, buttons):
            lay.addWidget(w)
        self.resize(460, 560)
        self._process: QProcess | None = None
        if library in _NAMES:
            self._show(_NAMES[library])
        else:
            self._list_names(command or catalogue_command(library))
        self._update_ok()

    def _list_names(self, command: list[str]) -> None:
        self.status.setText(f"Listing the {self.library} models…")
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        for key, value in worker_client.worker_env().items():
            env.insert(key, value)
        proc.setProcessEnvironment(env)
        proc.finished.connect(self._on_process_finished)
        self._process = proc
        proc.start(command[0], command[1:])
        orphans.spawned(int(proc.processId()))  # the window may be a subreaper: this child is its own, no orphan

    def _on_process_finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        proc, self._process = self._process, None
        if proc is None:
            return
        out = bytes(proc.readAllStandardOutput().data()).decode("utf-8", "replace")
        err = bytes(proc.readAllStandardError().data()).decode("utf-8", "replace").strip()
        try:
            names = json.loads(out) if code == 0 else None
        except json.JSONDecodeError:
            names = None
        if not isinstance(names, list):
            last = err.splitlines()[-1] if err else f"exit code {code}"
            self.status.setText(f"Could not list the {self.library} models: {last[:200]}")
            return
        _NAMES[self.library] = [str(n) for n in names]
        self._show(_NAMES[self.library])

    def _show(self, names: list[str]) -> None:
        self.list.clear()
        for name in names:
            QListWidgetItem(name, self.list).setData(Qt.ItemDataRole.UserRole, name)
        self._on_search_text_changed(self.search.text())

    def _on_search_text_changed(self, text: str) -> None:
        words = text.lower().split()
        shown = 0
        for i in range(self.list.count()):
            item = self.list.item(i)
            hide = not all(w in item.text().lower() for w in words)
            item.setHidden(hide)
            shown += not hide
        if self.list.count():
            self.status.setText(f"{shown} of {self.list.count()} models")
            current = self.list.currentItem()
            if current is None or current.isHidden():
                first = next((self.list.item(i) for i in range(self.list.count())
                              if not self.list.item(i).isHidden()), None)
                self.list.setCurrentItem(first)
        self._update_ok()

    def _update_ok(self) -> None:
        item = self.list.currentItem()
        self.ok_button.setEnabled(item is not None and not item.isHidden())

    def reference(self) -> str:
        """`torchvision:resnet50` for the chosen model, or '' when none is."""
        item = self.list.currentItem()
        if item is None or item.isHidden():
            return ""
        return f"{self.library}:{item.data(Qt.ItemDataRole.UserRole)}"

    def done(self, result: int) -> None:
        if self._process is not None:  # closed before the list came: stop listing
            proc, self._process = self._process, None
            proc.kill()
            proc.waitForFinished(1000)
        super().done(result)
