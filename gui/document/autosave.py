"""`Autosave`: after a few seconds of idle, a modified document is written to a recovery file; saving or closing
cleanly removes it. At the next start, a recovery file left behind means the app did not close cleanly, and the
window offers to restore it.

Every running window has its own recovery file, `autosave-<session>.json`, guarded by a `QLockFile` next to it
(`….json.lock`) that the session holds while the file exists. A recovery file whose lock can be taken belongs to a
session that ended without a clean exit (a crash, a kill): it is an *orphan*, and only orphans are offered for
restore or deleted by another instance. A file whose owner is still running is never touched, so two copies of the
app never share, overwrite or delete each other's recovery files. A lock left by a crashed process is recognised as
stale by its process id (`QLockFile` checks that the process is gone), never by its age.

The recovery file is the document's project file as Save would write it — a layer list, or a graph file for any
other document (a traced model with its edits, a hand-made graph), so restoring is an ordinary load — with a
`recovery` key naming the file it was edited from, the process id and the time it was written.

A recovery file is deleted only when its content was restored (it then lives on as this session's file) or the user
declined it. One that cannot be read is never deleted: it is renamed out of the way (`unreadable-….json`, no longer
offered at each start) and the window says where it is.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Signal

from netcost.costing import FormatError
from netcost.costing.graph import Graph
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.escape import failure_text
from netcost.model_io.files.graph_file import load_graph
from netcost.model_io.files.layer_file import atomic_write, remove_stale_temps

IDLE_MS = 3000
RECOVERY_KEY = "recovery"
PATTERN = "autosave*.json"  # `autosave.json` of earlier versions is recognised too
UNREADABLE_PREFIX = "unreadable-"  # a recovery file that could not be read, kept under this name (not offered again)
log = logging.getLogger(__name__)


class RecoveryUnreadable(Exception):
    """A recovery file could not be read; it was kept (`kept`: where it is now) and the message says why."""

    def __init__(self, reason: str, kept: Path) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kept = kept


def default_directory() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".netcost") / "recovery"


def _lock_for(path: Path) -> QLockFile:
    lock = QLockFile(str(path) + ".lock")
    lock.setStaleLockTime(0)  # stale only when its process is gone: a session may run for days
    return lock


def _lock_failure(lock: QLockFile, path: Path) -> OSError:
    """Why the lock could not be taken. QLockFile says only "UnknownError" when it cannot write its file (a full
    disk, a read-only folder); writing a few bytes into the same folder gets the OS's reason, which is said."""
    name = f"{path.name}.lock"
    if lock.error() == QLockFile.LockError.LockFailedError:
        return OSError(errno.EAGAIN, f"cannot lock {name}: another NetCost holds it")
    try:
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=path.parent)
        try:
            os.write(fd, b"\0" * 4096)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as e:
        reason = "the disk is full" if e.errno == errno.ENOSPC else (e.strerror or str(e)).lower()
        return OSError(e.errno, f"cannot lock {name}: {reason}")
    return OSError(errno.EIO, f"cannot lock {name} ({lock.error().name})")


class Autosave(QObject):
    saved = Signal(str)  # path of the recovery file
    failed = Signal(str)  # one line: why the recovery file could not be written (the window shows it)

    def __init__(self, document: CostDocument, directory: Path | None = None, idle_ms: int = IDLE_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.directory = Path(directory) if directory is not None else default_directory()
        self.session = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.path = self.directory / f"autosave-{self.session}.json"
        self._lock: QLockFile | None = None  # held while our recovery file exists
        self._claimed: dict[Path, QLockFile] = {}  # orphans whose locks we took (so no other instance takes them)
        self.failing = False  # the last attempt failed (the window keeps its message up until one succeeds)
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
        self.timer.start()

    def _on_document_modified_changed(self, *_: Any) -> None:
        if not self.document.modified:
            self.timer.stop()
            self.discard()

    # ---- our own recovery file ---------------------------------------------------------------------------------
    def save_now(self) -> bool:
        doc = self.document
        if not doc.modified:
            return False
        try:
            data = doc.file_data()
            data[RECOVERY_KEY] = {"path": str(doc.path) if doc.path else None, "pid": os.getpid(),
                                  "session": self.session, "time": time.time()}
            self.directory.mkdir(parents=True, exist_ok=True)
            if self._lock is None:  # lock first: another instance must never see our file unlocked
                lock = _lock_for(self.path)
                if not lock.tryLock(0):
                    raise _lock_failure(lock, self.path)
                self._lock = lock
            atomic_write(self.path, (json.dumps(data, indent=1) + "\n").encode("utf-8"))
        except Exception as e:  # a full disk must not take the editor down, nor pass unnoticed; the next idle retries
            reason = failure_text(e)
            log.warning("autosave failed: %s", reason)
            self.failing = True
            self.failed.emit(f"Autosave failed ({reason}); your unsaved changes are not protected until it works "
                             "again — save them yourself")
            return False
        self.failing = False
        self.saved.emit(str(self.path))
        return True

    def discard(self) -> None:
        """Remove this session's recovery file (a save, a clean state, a clean exit)."""
        with contextlib.suppress(OSError):  # a folder turned read-only: the lock below still goes
            self.path.unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def release_lock(self) -> None:
        """Let go of our recovery file without deleting it: what a crash leaves behind (tests use it)."""
        self.timer.stop()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    # ---- files left by sessions that did not end cleanly ------------------------------------------------------
    def orphans(self) -> list[Path]:
        """Recovery files whose session is gone (their lock could be taken), newest first. Files of running
        instances are skipped. The locks taken stay held until the file is restored or discarded."""
        # temporary files of autosaves that were killed mid-write (atomic_write cleans only its own file's)
        remove_stale_temps(self.directory, f".{PATTERN}.*.tmp")
        try:
            candidates = [p for p in self.directory.glob(PATTERN) if p.is_file() and p != self.path]
        except OSError:
            return []
        found = []
        for path in candidates:
            lock = self._claimed.get(path)
            if lock is None:
                lock = _lock_for(path)
                if not lock.tryLock(0):
                    continue  # its instance is still running (or the folder is read-only): not ours
                self._claimed[path] = lock
            found.append(path)
        return sorted(found, key=_mtime, reverse=True)

    def newest_orphan(self) -> Path | None:
        found = self.orphans()
        return found[0] if found else None

    def pending(self) -> bool:
        """A recovery file from a session that did not end cleanly."""
        return self.newest_orphan() is not None

    def read(self, path: Path | None = None) -> tuple[Graph, dict[str, Any], Path | None]:
        """(graph, extra keys, original path) of a recovery file (the newest orphan by default): a layer list or a
        graph file, as the document saved it. Raises FormatError."""
        path = path or self.newest_orphan()
        if path is None:
            raise FormatError("", "no recovery file")
        graph, extra = load_graph(path)
        info = extra.pop(RECOVERY_KEY, {}) or {}
        original = info.get("path") if isinstance(info, dict) else None
        return graph, extra, Path(original) if original else None

    def discard_orphan(self, path: Path | None = None) -> None:
        """Delete an orphaned recovery file (the newest by default): the user declined it, or it was restored."""
        path = path or self.newest_orphan()
        if path is None:
            return
        path.unlink(missing_ok=True)
        lock = self._claimed.pop(path, None)
        if lock is not None:
            lock.unlock()

    def restore(self, path: Path | None = None) -> bool:
        """Load an orphaned recovery file (the newest by default) into the document, marked modified (it is not
        saved anywhere yet). Its content moves to this session's own recovery file; until that copy is written the
        orphan stays. False when there is none; RecoveryUnreadable (the file kept, renamed) when it cannot be read
        (the document is untouched)."""
        path = path or self.newest_orphan()
        if path is None:
            return False
        try:
            graph, extra, original = self.read(path)
        except (FormatError, OSError) as e:
            reason = str(e) if isinstance(e, FormatError) else failure_text(e)
            log.warning("recovery file unreadable: %s", reason)
            raise RecoveryUnreadable(reason, self._set_aside(path)) from None
        self.document.set_graph(graph, original, extra)
        self.document.undo_stack.resetClean()  # no clean state on the stack: the title shows `*`
        if self.save_now():  # keep a recovery copy (ours now) until the user saves
            self.discard_orphan(path)
        return True

    def _set_aside(self, path: Path) -> Path:
        """Rename an unreadable orphan so it is not offered at every start, never deleting it; where it is now."""
        kept = path.with_name(UNREADABLE_PREFIX + path.name)
        try:
            path.replace(kept)
        except OSError:  # a read-only folder: it stays where it is (and is offered again next time)
            kept = path
        lock = self._claimed.pop(path, None)
        if lock is not None:
            lock.unlock()
        return kept


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
