"""`Autosave`: after a few seconds of idle, a modified document is written to a recovery file; saving or closing
cleanly removes it. At the next start, a recovery file left behind means the app did not close cleanly, and the
window offers to restore it.

The recovery file is a layer-list project file (so restoring is an ordinary load) with a `recovery` key naming the
file it was edited from.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from costing import FormatError, Network
from model_io.layer_file import atomic_write, load_network

from .cost_document import CostDocument

IDLE_MS = 3000
RECOVERY_KEY = "recovery"
log = logging.getLogger(__name__)


def default_directory() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".netcost") / "recovery"


class Autosave(QObject):
    saved = Signal(str)  # path of the recovery file

    def __init__(self, document: CostDocument, directory: Path | None = None, idle_ms: int = IDLE_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.directory = directory or default_directory()
        self.path = self.directory / "autosave.json"
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(idle_ms)
        self.timer.timeout.connect(self.save_now)
        # every edit (and undo/redo) restarts the idle timer; a clean document needs no recovery file
        # (document signals, not the stack's indexChanged: the stack emits that while it is being destroyed)
        for signal in (document.layerChanged, document.layersInserted, document.layersRemoved, document.layersMoved,
                       document.settingsChanged):
            signal.connect(self._on_document_changed)
        document.modifiedChanged.connect(self._on_document_modified_changed)
        document.documentReset.connect(self._on_document_modified_changed)

    def _on_document_changed(self, *_: Any) -> None:
        # the stack's clean state is updated after a command's redo emits these, so `modified` is checked at save
        if not self.document.read_only:
            self.timer.start()

    def _on_document_modified_changed(self, *_: Any) -> None:
        if not self.document.modified:
            self.timer.stop()
            self.discard()

    def save_now(self) -> bool:
        doc = self.document
        if not doc.modified or doc.read_only:
            return False
        data = doc.file_data()
        data[RECOVERY_KEY] = {"path": str(doc.path) if doc.path else None, "pid": os.getpid()}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, (json.dumps(data, indent=1) + "\n").encode("utf-8"))
        except OSError as e:  # a full disk must not take the editor down; the next idle period retries
            log.warning("autosave failed: %s", e)
            return False
        self.saved.emit(str(self.path))
        return True

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def pending(self) -> bool:
        """A recovery file from a session that did not end cleanly."""
        return self.path.is_file()

    def read(self) -> tuple[Network, dict[str, Any], Path | None]:
        """(network, extra keys, original path) of the recovery file. Raises FormatError."""
        network, extra = load_network(self.path)
        info = extra.pop(RECOVERY_KEY, {}) or {}
        original = info.get("path") if isinstance(info, dict) else None
        return network, extra, Path(original) if original else None

    def restore(self) -> bool:
        """Load the recovery file into the document, marked modified (it is not saved anywhere yet)."""
        try:
            network, extra, original = self.read()
        except FormatError as e:
            log.warning("recovery file unreadable: %s", e)
            self.discard()
            return False
        self.document.set_network(network, original, extra)
        self.document.undo_stack.resetClean()  # no clean state on the stack: the title shows `*`
        self.save_now()  # keep a recovery copy until the user saves
        return True
