"""`Session`: the main window's file and session controller.

New, open (projects, model references, large graph files on a thread, installed model libraries), save and save
as, table exports, Open Recent, the loader's results, autosave and crash recovery, the "unsaved changes?" prompt
before a document is replaced or the window closes, and which models' code this session may run again. It asks the
user only through the window's overridable `ask_*` methods and reports through the window's message bar and
status bar.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from netcost.costing import Network
from netcost.costing.graph import Graph
from netcost.gui.app.graph_file_job import GraphFileJob, Stage
from netcost.gui.app.library_browser_dialog import LibraryBrowserDialog, library_menu_entries
from netcost.gui.app.open_model_dialog import OpenModelDialog
from netcost.gui.app.settings_dialog import SettingsDialog
from netcost.gui.diagram.prepared import prepare
from netcost.gui.document.autosave import Autosave, RecoveryUnreadable
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.document_types import Loaded
from netcost.gui.document.model_loader import ModelLoader
from netcost.gui.document.recent_files import RecentFiles
from netcost.model_io.escape import failure_text, short_path
from netcost.model_io.files import tables
from netcost.model_io.files.export_torch import graph_to_torch_source
from netcost.model_io.files.layer_file import atomic_write
from netcost.model_io.files.retrace import carried_over, module_edits
from netcost.model_io.model_ref import TRUST_PICKLE_HINT, absolute_ref, is_library_ref
from netcost.model_io.worker.resolve import LoadOptions, runs_code

if TYPE_CHECKING:
    from netcost.gui.app.main_window import MainWindow

PROJECT_FILTER = "NetCost projects and layer lists (*.json);;All files (*)"


def save_title(document: CostDocument) -> str:
    """The save dialog's title, by what the file will hold: a plain chain is written as a layer list, anything
    else (branches, a traced model's ops) as a graph (netcost.graph/1)."""
    return "Save layer list" if document.network is not None else "Save graph"


def file_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("_.")
    return stem or "untitled"


def _exists(path: str) -> bool:
    """Whether `path` may exist: a name the OS refuses to look up (over the file-name limit) is left to the opener,
    which says why in the message bar, instead of raising into Qt here."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return True


class Session(QObject):
    """Files in and out of `window`'s document; owns the model loader, Open Recent and the autosave."""

    def __init__(self, window: MainWindow, worker_command: list[str] | None = None,
                 autosave_dir: Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.loader = ModelLoader(window, worker_command, preparers=(prepare,))  # the diagram, worked out ahead
        self.file_job: GraphFileJob | None = None  # a large file being opened on a thread
        self.recent = RecentFiles(window)
        self.autosave = Autosave(self.document, autosave_dir, parent=window)
        self.autosave.failed.connect(lambda message: window.show_message(message, "warning"))
        self._pending_ref = ""  # the reference of a load in flight, for recent files and the title
        self._pending_opts: LoadOptions | None = None  # its load options
        self._reload_pending = False  # the load in flight traces the current model again (Settings)
        self._reload_graph: Graph | None = None  # the edited graph that reload applies the layer edits of
        # the models whose code this session may run again: those the user opened here, or allowed when asked
        # (a graph file's `source.ref` is data: opening the file must never run the model it names)
        self.trusted_refs: set[str] = set()
        self._declined_refs: set[str] = set()  # asked and refused: not asked again for this document
        self.document.documentReset.connect(self._declined_refs.clear)
        self._library_actions: list[QAction] = []

    def wire(self) -> None:
        """Connect the loader and Open Recent once the window's actions and menus exist."""
        w = self.window
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_loader_failed)
        self.loader.canceled.connect(lambda ref: w.show_message(
            f"Loading {ref} was cancelled; the current document is unchanged.", "info"))
        self.loader.busyChanged.connect(lambda busy: w.act_cancel.setEnabled(busy))
        self.recent.changed.connect(self.update_recent_menu)
        w.load_indicator.cancel.clicked.connect(self._cancel_file_job)

    # ---- folders -------------------------------------------------------------------------------------------------
    def last_folder(self) -> str:
        return str(QSettings().value("lastFolder", str(Path.home())))

    def remember_folder(self, path: str | Path) -> None:
        QSettings().setValue("lastFolder", str(Path(path).resolve().parent))

    # ---- the unsaved-changes prompt, recovery and trust ------------------------------------------------------------
    def maybe_discard(self) -> bool:
        """True when the current document may be replaced (saved, discarded, or not modified)."""
        if not self.document.modified:
            return True
        answer = self.window.ask_unsaved()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def offer_recovery(self) -> bool:
        """At start: offer the newest recovery file left by a session that did not end cleanly (never one of a
        copy of NetCost still running). True when it was restored; declining deletes it."""
        path = self.autosave.newest_orphan()
        if path is None:
            return False
        if not self.window.ask_restore_recovery(path):
            self.autosave.discard_orphan(path)
            return False
        try:
            restored = self.autosave.restore(path)
        except RecoveryUnreadable as e:  # never deleted: the user may still want what is in it
            self.window.show_message(f"The recovery file could not be read ({e.reason}); it was kept as {e.kept}",
                                     "warning")
            return False
        if restored:
            self.window.source = None  # a restored model's reference was not opened in this session
            name = self.document.display_name
            self.window.statusBar().showMessage(f"Restored your unsaved work on {name}; save it to keep it", 8000)
        return restored

    def consent_to_trace(self, ref: str) -> bool:
        """Whether the model `ref` may be traced again (its code run) for an edit: yes for built-in models and
        those opened in this session; a reference that came from a file is asked about once per document."""
        if not runs_code(ref) or ref in self.trusted_refs:
            return True
        if ref in self._declined_refs:
            return False
        if self.window.ask_trust_source(ref):
            self.trusted_refs.add(ref)
            return True
        self._declined_refs.add(ref)
        return False

    def close(self) -> None:
        """The window closes (the user agreed to lose any unsaved change): stop every load, end the threads and
        leave no recovery file behind."""
        self.loader.shutdown()  # the load in flight and the spare worker
        self._cancel_file_job()
        for job in self.window.findChildren(GraphFileJob):  # cancelled ones too: a thread must not outlive it
            job.cancel()
            job.wait()
        self.autosave.timer.stop()
        self.autosave.discard()  # a clean exit leaves no recovery file behind

    # ---- open ----------------------------------------------------------------------------------------------------
    def new_document(self) -> bool:
        if not self.maybe_discard():
            return False
        self.loader.cancel()
        self.document.set_network(Network((), (3, 224, 224), "untitled"))
        self.window.source = None
        self.window.message_bar.hide()
        return True

    def open_dialog(self) -> None:
        dialog = OpenModelDialog(self.window, self.last_folder())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.open_reference(*dialog.selection()))
        dialog.open()  # window-modal but non-blocking: the event loop keeps running

    def add_library_entries(self, menu: QMenu) -> None:
        """One entry per installed model library (torchvision, timm: a searchable list; transformers: a config),
        looked up again each time the menu opens: a library installed while the app runs appears without a
        restart (and one removed disappears)."""
        self._library_actions = []
        menu.aboutToShow.connect(lambda: self._refresh_library_entries(menu))
        self._refresh_library_entries(menu)

    def _refresh_library_entries(self, menu: QMenu) -> None:
        entries = library_menu_entries()
        if [a.objectName() for a in self._library_actions if not a.isSeparator()] == \
                [f"openLibrary_{prefix}" for prefix, _ in entries]:
            return
        for act in self._library_actions:
            menu.removeAction(act)
            act.deleteLater()
        self._library_actions = [menu.addSeparator()] if entries else []
        for prefix, title in entries:
            act = menu.addAction(title)
            act.setObjectName(f"openLibrary_{prefix}")
            act.triggered.connect(lambda *_, p=prefix: self.open_library(p))
            self._library_actions.append(act)

    def open_library(self, prefix: str) -> None:
        """Pick a model of an installed library and load it as `prefix:NAME` (`hf:` asks for its config.json)."""
        if prefix == "hf":
            path = self.window.ask_hf_config()
            if path:
                self.window.open_reference(f"hf:{path}")
            return
        dialog = LibraryBrowserDialog(prefix, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: dialog.reference() and self.open_reference(dialog.reference()))
        dialog.open()

    def open_path(self, path: str) -> None:
        """A file from Open, Open Recent or a drop: a .py asks for its class, the rest loads directly. A file that
        is gone is said so, and dropped from Open Recent."""
        if not path.startswith("zoo:") and not is_library_ref(path) and not _exists(path) \
                and not _exists(path.split(":")[0]):
            if path in self.recent.entries():
                self.recent.remove(path)
                self.window.show_message(f"{path} no longer exists; it was removed from Open Recent.", "warning")
            else:
                self.window.show_message(f"{path}: no such file")
            return
        if path.endswith(".py") and ":" not in Path(path).name:
            dialog = OpenModelDialog(self.window, str(Path(path).parent))
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.set_file(path)
            dialog.accepted.connect(lambda: self.open_reference(*dialog.selection()))
            dialog.open()
            return
        self.open_reference(path)

    def open_reference(self, ref: str, opts: LoadOptions | None = None) -> bool:
        """Open a project file or load a model reference. False when the user kept the current document or the
        file could not be read (the message bar says why)."""
        ref = ref.strip()
        if not ref or not self.maybe_discard():
            return False
        if not ref.startswith("zoo:") and not is_library_ref(ref) and Path(ref).suffix.lower() == ".json":
            return self._open_project(ref)
        # a relative file (model.py:Net, hf:llama2-7b) is the user's current folder's, as on the command line:
        # made absolute here, so the worker (in a folder of its own), Recent files and a reload all find it
        ref = absolute_ref(ref)
        self._pending_ref, self._pending_opts, self._reload_pending = ref, opts, False
        self.loader.load(ref, opts)
        return True

    def _open_project(self, path: str) -> bool:
        """Start opening a project or graph file on a thread (whatever its size: parsing, costing and laying out
        Llama-70B's 0.9 MiB graph took 0.7 s); the document is replaced when it has arrived, and a file that cannot
        be read is said then, the document kept."""
        self._cancel_file_job()
        self._start_file_job(path)
        return True

    def _project_opened(self, path: str) -> None:
        self.loader.cancel()
        self.window.source = None
        self.window.message_bar.hide()
        # Open Recent and the last folder are written to disk (two QSettings syncs, ~35 ms): in the next pass of
        # the event loop, not in the one that shows the new document
        QTimer.singleShot(0, lambda: self._remember_file(path))

    def _remember_file(self, path: str) -> None:
        self.remember_folder(path)
        self.recent.add(str(Path(path).resolve()))

    # ---- files: read, checked, costed and prepared on a thread, the window answering meanwhile ---------------
    def _start_file_job(self, path: str) -> None:
        job = GraphFileJob(path, self.window)
        name = Path(path).name
        indicator = self.window.load_indicator
        self.file_job = job
        job.progress.connect(lambda stage, percent: indicator.show_file_progress(name, stage, percent))
        job.loaded.connect(lambda loaded: self._on_file_job_loaded(job, loaded))
        job.failed.connect(lambda message: self._on_file_job_failed(job, message))
        job.canceled.connect(lambda: self._on_file_job_ended(job))
        job.finished.connect(job.deleteLater)
        indicator.show_file_progress(name, Stage.READ.label, 0)
        self.window.act_cancel.setEnabled(True)
        job.start()

    def cancel_loading(self) -> None:
        self.loader.cancel()
        self._cancel_file_job()

    def _cancel_file_job(self) -> None:
        job, self.file_job = self.file_job, None
        if job is not None:
            job.cancel()  # it stops at its next progress point and is deleted when its thread ends
            self.window.load_indicator.file_done()
            self.window.act_cancel.setEnabled(self.loader.busy)

    def _on_file_job_ended(self, job: GraphFileJob) -> bool:
        """True when `job` is still the open the window waits for (a cancelled or replaced one is ignored)."""
        if job is not self.file_job:
            return False
        self.file_job = None
        self.window.load_indicator.file_done()
        self.window.act_cancel.setEnabled(self.loader.busy)
        return True

    def _on_file_job_loaded(self, job: GraphFileJob, loaded: Loaded) -> None:
        if not self._on_file_job_ended(job) or not self.maybe_discard():  # edited while opening: ask again
            return
        self.document.set_loaded(loaded, job.path)
        self._project_opened(str(job.path))

    def _on_file_job_failed(self, job: GraphFileJob, message: str) -> None:
        if self._on_file_job_ended(job):
            self.window.show_message(f"Cannot open {short_path(job.path.name, 60)}: {message}")

    # ---- save and export -----------------------------------------------------------------------------------------
    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        stem = self.document.path.name if self.document.path else file_stem(self.document.name) + ".json"
        path = self.window.ask_save_path(save_title(self.document), stem, PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(".json"):
            path += ".json"
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            self.document.save_file(path)
        except Exception as e:  # any failure (a full disk, an unwritable value) is said, never swallowed
            self.window.show_message(f"Cannot save {path.name}: {failure_text(e)}")
            return False
        self.remember_folder(path)
        self.recent.add(str(path.resolve()))
        self.window.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def export_table(self, fmt_key: str) -> bool:
        suffix = {"csv": ".csv", "json": ".json", "markdown": ".md"}[fmt_key]
        path = self.window.ask_save_path("Export table", file_stem(self.document.name) + suffix,
                                         f"{fmt_key.upper()} (*{suffix});;All files (*)")
        if not path:
            return False
        text = tables.FORMATS[fmt_key](self.document.report, self.document.convention)
        return self._write_export(path, text)

    def export_torch(self) -> bool:
        """The model as runnable PyTorch source (`Model`, `build()`, `example_input()`), edits included: what
        `netcost export-torch` writes. A graph that cannot be written as code (opaque nodes, tied weights) says why
        and writes nothing."""
        try:
            source = graph_to_torch_source(self.document.graph)
        except ValueError as e:
            self.window.show_message(f"Cannot export as PyTorch code: {e}")
            return False
        path = self.window.ask_save_path("Export as PyTorch code", file_stem(self.document.name) + ".py",
                                         "Python (*.py);;All files (*)")
        if not path:
            return False
        return self._write_export(path, source)

    def _write_export(self, path: str, text: str) -> bool:
        """Write an export atomically; a failure is a message naming the file, and nothing is half-written."""
        try:
            atomic_write(path, text.encode("utf-8"))
        except OSError as e:
            self.window.show_message(f"Cannot export to {Path(path).name}: {e.strerror or e}")
            return False
        self.remember_folder(path)
        self.window.statusBar().showMessage(f"Exported {path}", 4000)
        return True

    def update_recent_menu(self) -> None:
        menu = self.window.recent_menu
        menu.clear()
        entries = self.recent.entries()
        for ref in entries:
            act = menu.addAction(ref)
            act.triggered.connect(lambda *_, r=ref: self.open_path(r))
        if entries:
            menu.addSeparator()
            menu.addAction("Clear list").triggered.connect(self.recent.clear)
        menu.setEnabled(bool(entries))

    # ---- settings that trace the model again -------------------------------------------------------------------
    def apply_settings(self, dialog: SettingsDialog) -> None:
        self.document.set_convention(dialog.convention_key())
        if self.document.traced:
            settings = dialog.network_settings()
            report = self.document.report
            if settings["batch_size"] != report.batch_size or settings["dtype"] != report.dtype:
                # tracing again starts from the model's code: the layer edits made here are applied to it
                edits = module_edits(report) if self.document.modified else ()
                self._reload_graph = self.document.graph if edits else None
                self.reload_with(settings["batch_size"], settings["dtype"], edits)
            return
        try:
            self.document.set_settings(**dialog.network_settings())
        except ValueError as e:
            self.window.show_message(f"Settings not applied: {e}")

    def reload_with(self, batch_size: int, dtype: str, edits: tuple[dict[str, Any], ...] = ()) -> bool:
        """Trace the current read-only model again with a new batch size / dtype, in the worker (same progress
        and Cancel as any load). The model stays on screen until the new report has arrived."""
        if self.window.source is None:
            self.window.show_message("This model's source is unknown: open it again to change its batch size or "
                                     "dtype.", "warning")
            return False
        ref, opts = self.window.source
        opts = replace(opts, batch_size=batch_size, dtype=dtype, module_edits=edits)
        self._pending_ref, self._pending_opts, self._reload_pending = ref, opts, True
        self.loader.load(ref, opts)
        self.window.statusBar().showMessage(f"Reloading {ref} with batch size {batch_size}, {dtype} …", 4000)
        return True

    # ---- loader results ---------------------------------------------------------------------------------------
    def _pending_options(self, ref: str) -> LoadOptions:
        return self._pending_opts if ref == self._pending_ref and self._pending_opts is not None else LoadOptions()

    def _on_loaded(self, ref: str, loaded: Loaded) -> None:
        if not self.maybe_discard():  # edited while loading: ask again before replacing
            return
        report = loaded.report
        if report is None:  # a layer list or graph file, read here
            self.document.set_loaded(loaded)
            self.window.source = None
            self._loaded(ref)
            return
        reload = self._reload_pending and self.document.traced
        edited, self._reload_graph = (self._reload_graph if reload else None), None
        self.document.set_loaded(loaded, keep_baseline=reload)
        if report.graph is not None and report.graph.source.get("ref"):
            self.trusted_refs.add(str(report.graph.source["ref"]))  # the user opened it: may be traced again
        self.window.source = (ref, replace(self._pending_options(ref), module_edits=()))
        self._loaded(ref)
        if edited is not None and report.graph is not None:
            self.window.statusBar().showMessage(carried_over(edited, report.graph), 10000)

    def _loaded(self, ref: str) -> None:
        self.window.message_bar.hide()
        if not ref.startswith("zoo:"):
            self.remember_folder(ref.split(":")[0])
        self.recent.add(ref)
        self.window.statusBar().showMessage(f"Loaded {ref}", 4000)

    def _on_loader_failed(self, ref: str, message: str) -> None:
        if self.loader.failure_kind != "pickle":
            self.window.show_message(message)
            return
        # the CLI's way out is --trust-pickle; the window offers the same choice, with its warning, as a button
        self.window.show_message(message.replace(TRUST_PICKLE_HINT, "choose Trust and load"))
        opts = self._pending_options(ref)
        self.window.message_bar.set_action("Trust and load…", lambda: self.trust_pickle_and_load(ref, opts))

    def trust_pickle_and_load(self, ref: str, opts: LoadOptions) -> bool:
        """Load a pickled file after the user confirmed they trust it (unpickling runs the file's code)."""
        if not self.window.ask_trust_pickle(ref):
            return False
        return self.open_reference(ref, replace(opts, trust_pickle=True))
