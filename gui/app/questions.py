"""The questions the main window asks the user, as modal dialogs.

The window calls them through its overridable `ask_*` methods, so tests answer them without a dialog.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from netcost.gui.app.open_model_dialog import MODEL_FILTER
from netcost.model_io.escape import printable

_SB = QMessageBox.StandardButton


def ask_unsaved(parent: QWidget, name: str) -> str:
    """'save', 'discard' or 'cancel' for a modified document (`name`) about to be replaced or closed."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes", f"{name} has unsaved changes.", parent=parent)
    box.setInformativeText("Save them first?")
    box.setStandardButtons(_SB.Save | _SB.Discard | _SB.Cancel)
    box.setDefaultButton(_SB.Save)
    answer = box.exec()
    return {_SB.Save: "save", _SB.Discard: "discard"}.get(_SB(answer), "cancel")


def ask_open_path(parent: QWidget, folder: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Open", folder, MODEL_FILTER)
    return path


def ask_hf_config(parent: QWidget, folder: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Open a Hugging Face config", folder,
                                          "Transformers config (config.json *.json);;All files (*)")
    return path


def ask_save_path(parent: QWidget, folder: str, title: str, suggestion: str, filter_: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path(folder) / suggestion), filter_)
    return path


def ask_restore_recovery(parent: QWidget, path: Path | None = None) -> bool:
    when = ""
    if path is not None:
        with contextlib.suppress(OSError):
            when = f" (autosaved {time.strftime('%Y-%m-%d %H:%M', time.localtime(path.stat().st_mtime))})"
    answer = QMessageBox.question(
        parent, "Restore unsaved work?",
        f"NetCost did not close cleanly last time. Restore the unsaved work you were editing{when}?",
        _SB.Yes | _SB.No, _SB.Yes)
    return answer == _SB.Yes


def ask_trust_pickle(parent: QWidget, ref: str) -> bool:
    answer = QMessageBox.warning(
        parent, "Run the code in this file?",
        f"Loading {printable(ref)} unpickles it, which runs code from the file with your rights (it can read, "
        "change or delete your files). Only continue for a file you made yourself or fully trust.",
        _SB.Yes | _SB.Cancel, _SB.Cancel)
    return answer == _SB.Yes


def ask_trust_source(parent: QWidget, ref: str) -> bool:
    answer = QMessageBox.warning(
        parent, "Run the model this file names?",
        f"This edit needs the model traced again, and this file names {printable(ref)} as its model. Tracing "
        "runs that file's code with your rights (it can read, change or delete your files). Only continue for "
        "a model you made yourself or fully trust.",
        _SB.Yes | _SB.Cancel, _SB.Cancel)
    return answer == _SB.Yes
