"""`MainWindow`: composes the document's views in docks and wires menus, toolbar, status bar and file handling.

It computes nothing: figures come from the document's report, formatted by `netcost.costing.formatting`. Every question
to the user goes through an overridable `ask_*` method, so tests never block on a modal dialog. Failures are shown
in a non-modal message bar above the table; the document is only ever replaced by a completely loaded one.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import netcost.resources as resources
from netcost.costing import CONVENTIONS, FormatError, LayerSpec, Network, convention_value
from netcost.costing import formatting as fmt
from netcost.costing.args import REQUIRED
from netcost.costing.graph import Graph
from netcost.costing.registry import has_kind, kind
from netcost.model_io.escape import failure_text, printable, short_path
from netcost.model_io.files import tables
from netcost.model_io.files.layer_file import atomic_write
from netcost.model_io.files.retrace import carried_over, module_edits
from netcost.model_io.model_ref import TRUST_PICKLE_HINT, absolute_ref, is_library_ref
from netcost.model_io.worker.resolve import LoadOptions, runs_code

from .autosave import Autosave, RecoveryUnreadable
from .color_scheme import SCHEMES, apply_scheme, saved_scheme
from .cost_document import CostDocument
from .dock_tabs import hide_stale_tab_bars
from .graph_file_job import GraphFileJob, Stage, opens_in_background
from .hierarchy_tree import HierarchyTreeWidget
from .layer_editor_widget import LayerEditorWidget
from .layer_table_model import supported_types
from .layer_table_view import LayerTableView
from .model_loader import ModelLoader
from .open_model_dialog import MODEL_FILTER, OpenModelDialog
from .plain_text import plain_tip, screen_text
from .recent_files import RecentFiles
from .remeasure import Remeasurer
from .settings_dialog import SettingsDialog
from .text_line import TextLineWidget
from .totals_widget import TotalsWidget
from .view_slots import EXPORT_HOOK, VIEW_FACTORIES, build_view, load_attr

log = logging.getLogger(__name__)
STATE_VERSION = 2
ShortcutSpec = QKeySequence.StandardKey | str | list[str] | None
PROJECT_FILTER = "NetCost projects and layer lists (*.json);;All files (*)"
_ERROR_STYLE = "QLabel { color: #d32f2f; }"


def save_title(document: CostDocument) -> str:
    """The save dialog's title, by what the file will hold: a plain chain is written as a layer list, anything
    else (branches, a traced model's ops) as a graph (netcost.graph/1)."""
    return "Save layer list" if document.network is not None else "Save graph"


def template_spec(type_: str) -> LayerSpec:
    """A new layer of `type_` with its required arguments filled with ordinary values (the user edits them)."""
    if not has_kind(type_):
        return LayerSpec("Identity")
    args: dict[str, Any] = {}
    for a in kind(type_).args:
        if a.default is not REQUIRED or a.inferred:
            continue
        if a.kind == "int":
            args[a.name] = 1 if a.name in ("num_heads", "num_groups") else 64
        elif a.kind in ("ints", "padding"):
            args[a.name] = 3
        elif a.kind in ("size", "shape"):
            args[a.name] = 1
    if type_.startswith(("Conv", "DepthwiseSeparableConv")) and "kernel_size" in args:
        args["padding"] = 1  # keeps the spatial size, so an inserted conv does not break the layers below
    return LayerSpec(type_, args)


class MessageBar(QFrame):
    """A non-modal, dismissable message line above the table (load failures, save errors, notes)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        self.icon = QLabel(self)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # a message quotes user strings: never render them as HTML
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QPushButton(self)  # an optional way out offered with the message (e.g. trust a pickle)
        self.action.hide()
        self._on_action: Callable[[], None] | None = None
        self.action.clicked.connect(self._run_action)
        close = QToolButton(self)
        close.setAutoRaise(True)
        close.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(self.icon)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.action)
        lay.addWidget(close)
        self.kind = ""
        self.hide()

    def set_action(self, label: str, callback: Callable[[], None]) -> None:
        """Offer one button with the message now shown (cleared by the next message)."""
        self._on_action = callback
        self.action.setText(label)
        self.action.show()

    def _run_action(self) -> None:
        callback, self._on_action = self._on_action, None
        self.action.hide()
        if callback is not None:
            callback()

    def show_message(self, text: str, kind: str = "error") -> None:
        self._on_action = None
        self.action.hide()
        self.kind = kind
        pixmap = {"error": QStyle.StandardPixmap.SP_MessageBoxCritical,
                  "warning": QStyle.StandardPixmap.SP_MessageBoxWarning}.get(
            kind, QStyle.StandardPixmap.SP_MessageBoxInformation)
        self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(18, 18))
        self.text.setText(screen_text(text))
        self.update()
        self.show()

    def tint(self) -> QColor:
        """The background: the kind's hue over the palette's window colour (light and dark schemes alike; a style
        sheet here froze the labels' palette, leaving light-grey text on pink after a switch to the light one)."""
        hue, alpha = {"error": (QColor(220, 40, 40), 0.18), "warning": (QColor(230, 160, 0), 0.22)}.get(
            self.kind, (QColor(40, 120, 220), 0.16))
        base = self.palette().color(QPalette.ColorRole.Window)
        return QColor(*(round(b + (h - b) * alpha) for b, h in ((base.red(), hue.red()),
                                                                 (base.green(), hue.green()),
                                                                 (base.blue(), hue.blue()))))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.tint())
        painter.drawRoundedRect(self.rect(), 4, 4)
        painter.end()


class FitWidthScrollArea(QScrollArea):
    """Scrolls vertically only, and is never narrower than its widget needs (plus the scroll bar): the Totals
    panel's delta column was cut off when a pinned baseline widened it and a scroll bar took its room."""

    def setWidget(self, widget: QWidget) -> None:  # type: ignore[override]
        super().setWidget(widget)
        widget.installEventFilter(self)
        self._needed = widget.minimumSizeHint().width()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            needed = watched.minimumSizeHint().width()  # type: ignore[attr-defined]
            if needed != self._needed:  # the content's minimum width changed: the dock follows (only then: a
                self._needed = needed  # relayout of the docks and the main window on every edit cost ~1 ms)
                self.updateGeometry()
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        widget = self.widget()
        if widget is None:
            return hint
        bar = self.verticalScrollBar().sizeHint().width()
        frame = 2 * self.frameWidth()
        return QSize(max(hint.width(), widget.minimumSizeHint().width() + bar + frame), hint.height())


class LoadIndicator(QWidget):
    """Status-bar part of a background load: what is loading, for how long, and Cancel."""

    def __init__(self, loader: ModelLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # busy: the worker does not report fractions
        self.bar.setMaximumWidth(110)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("Cancel", self)
        self.cancel.clicked.connect(loader.cancel)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel)
        self.ticker = QTimer(self)
        self.ticker.setInterval(500)
        self.ticker.timeout.connect(self._update)
        self.file_busy = False  # a file opening on a thread shows its progress here (show_file_progress)
        loader.busyChanged.connect(self._on_loader_busy_changed)
        self.hide()

    def _on_loader_busy_changed(self, busy: bool) -> None:
        if self.file_busy:  # a file being opened keeps its progress on show
            return
        self.setVisible(busy)
        self.bar.setRange(0, 0)
        if busy:
            self.ticker.start()
            self._update()
        else:
            self.ticker.stop()

    def _update(self) -> None:
        self.label.setText(f"Loading {self.loader.reference} … {self.loader.elapsed():.0f} s")

    def show_file_progress(self, name: str, stage: str, percent: int) -> None:
        """A file opening on a thread (gui/graph_file_job.py): its step and how far the whole open is."""
        self.file_busy = True
        self.ticker.stop()
        self.bar.setRange(0, 100)
        self.bar.setValue(percent)
        self.label.setText(f"Opening {name} … {stage} {percent} %")
        self.show()

    def file_done(self) -> None:
        self.file_busy = False
        self.bar.setRange(0, 0)
        self.setVisible(self.loader.busy)
        if self.loader.busy:
            self.ticker.start()
            self._update()


class MainWindow(QMainWindow):
    sourceChanged = Signal()  # the reference the document was opened from changed (what can be measured)

    @property
    def source(self) -> tuple[str, LoadOptions] | None:
        """The reference and load options of the traced model on show (None: not opened from one this session)."""
        return self._source

    @source.setter
    def source(self, value: tuple[str, LoadOptions] | None) -> None:
        self._source = value
        self.sourceChanged.emit()
    def __init__(self, document: CostDocument | None = None, autosave_dir: Path | None = None,
                 worker_command: list[str] | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.document = document or CostDocument(parent=self)
        if self.document.parent() is None:
            self.document.setParent(self)
        self.loader = ModelLoader(self, worker_command)
        self.file_job: GraphFileJob | None = None  # a large file being opened on a thread
        self.recent = RecentFiles(self)
        self.autosave = Autosave(self.document, autosave_dir, parent=self)
        self.autosave.failed.connect(self._on_autosave_failed)
        self.docks: dict[str, QDockWidget] = {}
        self.views: dict[str, QWidget] = {}
        self._pending_ref = ""  # the reference of a load in flight, for recent files and the title
        self._pending_opts: LoadOptions | None = None  # its load options
        self._reload_pending = False  # the load in flight traces the current model again (Settings)
        self._reload_graph: Graph | None = None  # the edited graph that reload applies the layer edits of
        # where a traced (read-only) model came from: Settings reloads it with a new batch size / dtype
        self._source: tuple[str, LoadOptions] | None = None
        # opaque rows an edit left stale are measured again by tracing the model with the edits (gui/remeasure.py)
        # the models whose code this session may run again: those the user opened here, or allowed when asked
        # (a graph file's `source.ref` is data: opening the file must never run the model it names)
        self.trusted_refs: set[str] = set()
        self._declined_refs: set[str] = set()  # asked and refused: not asked again for this document
        self.document.documentReset.connect(self._declined_refs.clear)
        self.remeasurer = Remeasurer(self.document, lambda: self.source[1] if self.source else None,
                                     worker_command, self, consent=self.consent_to_trace)
        self.remeasurer.message.connect(self._on_remeasure_message)
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._wire()
        self._restore_settings()
        for clash in drop_shortcut_clashes(self.findChildren(QAction)):
            log.warning("shortcut %s", clash)
        self._on_document_reset()

    # ---- construction -------------------------------------------------------------------------------------------
    def _build_central(self) -> None:
        central = QWidget(self)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 0)
        lay.setSpacing(4)
        self.message_bar = MessageBar(central)
        lay.addWidget(self.message_bar)
        self.table = LayerTableView(self.document, central)
        lay.addWidget(self.table, 1)
        self.empty_hint = QLabel(central)
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setEnabled(False)
        self.empty_hint.setText("No layers yet.\n\nAdd a layer (Ctrl+Shift+A), paste layers (Ctrl+V), "
                                "open a model (Ctrl+O) or drop a file here.")
        lay.addWidget(self.empty_hint, 1)
        self.setCentralWidget(central)

    def _add_dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea, scroll: bool = False
                  ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        if scroll:  # a tall panel scrolls instead of forcing the window taller than a 800 px screen
            area_widget = FitWidthScrollArea(dock)
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.Shape.NoFrame)
            area_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            area_widget.setWidget(widget)
            dock.setWidget(area_widget)
        else:
            dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        self.views[key] = widget
        return dock

    def _build_docks(self) -> None:
        right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self.editor = LayerEditorWidget(self.document, self)
        self.totals = TotalsWidget(self.document, self)
        # the banner above the table offers the conversion, so the tree does not repeat the button
        self.hierarchy = HierarchyTreeWidget(self.document, self, show_convert=False)
        # the right column spans the full height; the diagram and charts share the bottom under the table
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        totals = self._add_dock("totals", "Totals", self.totals, right, scroll=True)
        editor = self._add_dock("editor", "Layer", self.editor, right)
        hierarchy = self._add_dock("hierarchy", "Modules", self.hierarchy, right)
        self.splitDockWidget(totals, editor, Qt.Orientation.Vertical)
        self.tabifyDockWidget(editor, hierarchy)
        from .rewrites_panel import RewritesPanel

        self.rewrites = RewritesPanel(self.document, self)
        self.tabifyDockWidget(hierarchy, self._add_dock("rewrites", "Rewrites", self.rewrites, right))
        editor.raise_()
        previous: QDockWidget | None = None
        for title, module, class_name in VIEW_FACTORIES:
            widget = build_view(title, module, class_name, self.document, self)
            dock = self._add_dock(title.lower(), title, widget, bottom)
            if previous is not None:
                self.tabifyDockWidget(previous, dock)
            previous = dock
        if VIEW_FACTORIES:
            self.docks[VIEW_FACTORIES[0][0].lower()].raise_()

    def _action(self, text: str, slot: Any, shortcut: ShortcutSpec = None, tip: str = "",
                icon: QStyle.StandardPixmap | None = None, fallback: str = "") -> QAction:
        """An action with `shortcut` (a standard key falls back to `fallback` where the platform defines none,
        as Linux does for Preferences and often Quit) and a tooltip naming its shortcut."""
        action = QAction(text, self)
        keys = shortcuts_for(shortcut, fallback)
        if keys:
            action.setShortcuts(keys)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        _name_shortcut_in_tooltip(action)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.triggered.connect(lambda *_: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        SP, K = QStyle.StandardPixmap, QKeySequence.StandardKey
        self.act_new = self._action("&New", self.new_document, K.New, "New empty layer list", SP.SP_FileIcon)
        self.act_open = self._action("&Open…", self.open_dialog, K.Open, "Open a project or a model",
                                     SP.SP_DialogOpenButton)
        self.act_save = self._action("&Save", self.save, K.Save, "Save the layer list", SP.SP_DialogSaveButton)
        self.act_save_as = self._action("Save &As…", self.save_as, K.SaveAs, "Save under a new name")
        self.act_quit = self._action("&Quit", self.close, K.Quit, "Quit NetCost", fallback="Ctrl+Q")
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)
        self.act_undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts(shortcuts_for(K.Undo, "Ctrl+Z"))
        self.act_undo.setIcon(edit_icon(QIcon.ThemeIcon.EditUndo, "edit-undo.svg"))
        self.act_redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts(_unique([*shortcuts_for(K.Redo, "Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]))
        self.act_redo.setIcon(edit_icon(QIcon.ThemeIcon.EditRedo, "edit-redo.svg"))
        # the stack renames them ("Undo Set out_channels …"); the tooltips follow, naming the shortcut
        self.document.undo_stack.undoTextChanged.connect(self._on_undo_stack_text_changed)
        self.document.undo_stack.redoTextChanged.connect(self._on_undo_stack_text_changed)
        self._on_undo_stack_text_changed()
        self.act_add = self._action("&Add layer", self.add_layer, ["Ctrl+Shift+A", "Ins"],
                                    "Insert a layer after the selection")
        self.act_duplicate = self._action("D&uplicate", self.duplicate, "Ctrl+D", "Duplicate the selected layers")
        self.act_delete = self._action("&Delete", self.delete, K.Delete, "Delete the selected layers",
                                       SP.SP_TrashIcon)
        self.act_move_up = self._action("Move &up", lambda: self.move_selection(-1), "Ctrl+Up",
                                        "Move the selected layers up", SP.SP_ArrowUp)
        self.act_move_down = self._action("Move do&wn", lambda: self.move_selection(1), "Ctrl+Down",
                                          "Move the selected layers down", SP.SP_ArrowDown)
        self.act_copy = self._action("&Copy layers", self.copy, K.Copy, "Copy the selected layers")
        self.act_paste = self._action("&Paste layers", self.paste, K.Paste, "Paste layers after the selection")
        self.act_pin = self._action("&Pin baseline", self.document.pin_baseline, "Ctrl+B",
                                    "Freeze the current totals and show every change against them",
                                    SP.SP_DialogApplyButton)
        self.act_clear_pin = self._action("C&lear baseline", self.document.clear_baseline, "Ctrl+Shift+B",
                                          "Stop comparing with the pinned baseline")
        self.act_rewrites = self._action("&Rewrites…", self.show_rewrites, "Ctrl+Shift+R",
                                         "The article's design tricks that apply here, with their savings")
        self.act_sweep = self._action("Input-size s&weep", lambda: self._raise_dock("sweep"), "Ctrl+Shift+W",
                                      "Params, MACs and activation memory against the input size")
        self.act_settings = self._action("Se&ttings…", self.settings_dialog, K.Preferences,
                                         "Batch size, dtype, input shape and counting convention",
                                         SP.SP_FileDialogDetailedView, fallback="Ctrl+,")
        self.act_settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.act_cancel = self._action("Cancel loading", self._cancel_loading, "Esc", "Stop the model being loaded",
                                       SP.SP_BrowserStop)
        self.act_cancel.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.act_csv = self._action("Table as &CSV…", lambda: self.export_table("csv"), None)
        self.act_json = self._action("Table as &JSON…", lambda: self.export_table("json"), None)
        self.act_md = self._action("Table as &Markdown…", lambda: self.export_table("markdown"), None)
        self.act_help = self._action("NetCost &help", self.show_user_guide, K.HelpContents,
                                     "The user guide: what each view shows and how to use it", fallback="F1")
        self.act_shortcuts = self._action("&Keyboard shortcuts", lambda: self._show_dialog("shortcuts"),
                                          "Ctrl+/", "Every shortcut of the window, as bound now")
        self.act_conventions = self._action("&Conventions", lambda: self._show_dialog("conventions"), None,
                                            "What each counting convention counts, with the formulas")
        self.act_about = self._action("&About NetCost", lambda: self._show_dialog("about"), None,
                                      "NetCost's version and those of torch, Qt and Python")
        self.act_about.setMenuRole(QAction.MenuRole.AboutRole)

    def _on_undo_stack_text_changed(self, *_: Any) -> None:
        for act in (self.act_undo, self.act_redo):
            _name_shortcut_in_tooltip(act)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addAction(self.act_new)
        m.addAction(self.act_open)
        self.recent_menu = m.addMenu("Open &Recent")
        self.zoo_menu = m.addMenu("Open &Built-in")
        from .open_model_dialog import zoo_entries

        for ref, description in zoo_entries():
            act = self.zoo_menu.addAction(f"{ref[4:]} — {description}")
            act.triggered.connect(lambda *_, r=ref: self.open_reference(r))
        self._add_library_entries(self.zoo_menu)
        m.addSeparator()
        m.addAction(self.act_save)
        m.addAction(self.act_save_as)
        self.export_menu = m.addMenu("&Export")
        self.export_menu.setObjectName("exportMenu")
        table_menu = self.export_menu.addMenu("&Table")
        for act in (self.act_csv, self.act_json, self.act_md):
            table_menu.addAction(act)
        hook = load_attr(*EXPORT_HOOK)
        if callable(hook):
            try:
                hook(self, self.export_menu, self.document)
            except Exception:  # noqa: BLE001 - a broken export plug-in must not stop the window
                log.exception("export menu hook failed")
        m.addSeparator()
        m.addAction(self.act_quit)
        e = bar.addMenu("&Edit")
        for act in (self.act_undo, self.act_redo, None, self.act_copy, self.act_paste, None, self.act_add):
            e.addSeparator() if act is None else e.addAction(act)
        self.add_menu = e.addMenu("Add layer of &type")
        for category, names in supported_types().items():
            sub = self.add_menu.addMenu(category)
            for name in names:
                act = sub.addAction(name)
                act.triggered.connect(lambda *_, t=name: self.add_layer(t))
        for act in (self.act_duplicate, self.act_delete, None, self.act_move_up, self.act_move_down):
            e.addSeparator() if act is None else e.addAction(act)
        mm = bar.addMenu("&Model")
        for act in (self.act_pin, self.act_clear_pin, None, self.act_rewrites, self.act_sweep, None,
                    self.act_settings, None, self.act_cancel):
            mm.addSeparator() if act is None else mm.addAction(act)
        self.conv_menu = mm.addMenu("Co&nvention")
        for key, conv in CONVENTIONS.items():
            act = self.conv_menu.addAction(conv.label)
            act.setCheckable(True)
            act.setData(key)
            act.setToolTip(conv.description)
            act.triggered.connect(lambda *_, k=key: self.document.set_convention(k))
        v = bar.addMenu("&View")
        for dock in self.docks.values():
            v.addAction(dock.toggleViewAction())
        v.addSeparator()
        self.scheme_menu = v.addMenu("&Colour scheme")
        self.scheme_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for key, text in SCHEMES.items():
            act = self.scheme_menu.addAction(text)
            act.setCheckable(True)
            act.setData(key)
            group.addAction(act)
            act.triggered.connect(lambda *_, k=key: self.set_color_scheme(k))
            self.scheme_actions[key] = act
        v.addSeparator()
        reset = v.addAction("Reset layout")
        reset.triggered.connect(self.reset_layout)
        self.help_menu = bar.addMenu("&Help")
        for act in (self.act_help, self.act_shortcuts, self.act_conventions, None, self.act_about):
            self.help_menu.addSeparator() if act is None else self.help_menu.addAction(act)
        self._update_recent_menu()

    def _build_toolbar(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        # icons alone for the universal actions; words beside the ones no stock icon says clearly
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in (self.act_new, self.act_open, self.act_save, self.act_undo, self.act_redo, self.act_delete,
                    self.act_move_up, self.act_move_down):
            act.setPriority(QAction.Priority.LowPriority)
        for act in (self.act_pin, self.act_settings):
            act.setIcon(QIcon())
        for act in (self.act_new, self.act_open, self.act_save, None, self.act_undo, self.act_redo, None):
            tb.addSeparator() if act is None else tb.addAction(act)
        add_button = QToolButton(tb)
        add_button.setDefaultAction(self.act_add)
        add_button.setMenu(self.add_menu)
        add_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        tb.addWidget(add_button)
        for act in (self.act_delete, self.act_move_up, self.act_move_down, None, self.act_pin, self.act_settings):
            tb.addSeparator() if act is None else tb.addAction(act)
        self.toolbar = tb

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.error_label = QLabel(self)
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.setObjectName("statusError")
        self.load_indicator = LoadIndicator(self.loader, self)
        self.load_indicator.cancel.clicked.connect(self._cancel_file_job)
        # a new figure repaints this line alone (a QLabel would lay the whole window out again on each edit)
        self.totals_label = TextLineWidget(self, min_chars=62, alignment=Qt.AlignmentFlag.AlignRight)
        self.totals_label.setObjectName("statusTotals")
        # wide enough for params and MACs; the rest is elided (whole in the tooltip) on a narrow screen
        self.totals_label.setMinimumWidth(self.totals_label.fontMetrics().horizontalAdvance("0" * 30))
        sb.addWidget(self.error_label, 1)
        sb.addPermanentWidget(self.load_indicator)
        sb.addPermanentWidget(self.totals_label)

    def _wire(self) -> None:
        d = self.document
        d.reportChanged.connect(lambda _first: self._update_status_totals())
        d.conventionChanged.connect(self._on_document_convention_changed)
        d.settingsChanged.connect(self._update_status_totals)
        d.errorChanged.connect(self._on_document_error_changed)
        d.documentReset.connect(self._on_document_reset)
        d.pathChanged.connect(self._update_title)
        d.settingsChanged.connect(self._update_title)
        d.modifiedChanged.connect(lambda _m: self._update_title())
        d.layersInserted.connect(lambda *_: self._update_actions())
        d.layersRemoved.connect(lambda *_: self._update_actions())
        d.selection.changed.connect(lambda *_: self._update_actions())
        d.baselineChanged.connect(self._update_actions)
        d.baselineChanged.connect(self._show_delta_columns)
        self.rewrites.applied.connect(self._on_rewrites_applied)
        self._show_delta_columns()
        self.loader.loadedNetwork.connect(self._on_loader_network)
        self.loader.loadedReport.connect(self._on_loader_report)
        self.loader.failed.connect(self._on_loader_failed)
        self.loader.canceled.connect(self._on_loader_canceled)
        self.loader.busyChanged.connect(lambda busy: self.act_cancel.setEnabled(busy))
        self.recent.changed.connect(self._update_recent_menu)
        self.act_cancel.setEnabled(False)

    # ---- settings persistence ------------------------------------------------------------------------------------
    def set_color_scheme(self, scheme: str) -> None:
        """Light, dark or the system's, for the whole app and remembered; every view follows the palette."""
        apply_scheme(scheme)
        for key, act in self.scheme_actions.items():
            act.setChecked(key == scheme)

    def _restore_settings(self) -> None:
        s = QSettings()
        scheme = saved_scheme()
        apply_scheme(scheme, remember=False)
        self.scheme_actions[scheme].setChecked(True)
        self.resize(1280, 800)
        self._default_state = self.saveState(STATE_VERSION)
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state, STATE_VERSION)
        else:
            self._default_sizes()

    def _default_sizes(self) -> None:
        self.resizeDocks([self.docks["totals"]], [410], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["totals"], self.docks["editor"]], [300, 470], Qt.Orientation.Vertical)
        bottoms = [self.docks[t.lower()] for t, _, _ in VIEW_FACTORIES]
        if bottoms:  # the diagram is the point of the app: give it half the height, the table the rest
            self.resizeDocks(bottoms[:1], [max(260, self.height() // 2)], Qt.Orientation.Vertical)

    def save_settings(self) -> None:
        s = QSettings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(STATE_VERSION))

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, STATE_VERSION)
        for dock in self.docks.values():
            dock.show()
        self._default_sizes()
        QTimer.singleShot(0, self, lambda: hide_stale_tab_bars(self))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        QTimer.singleShot(0, self, lambda: hide_stale_tab_bars(self))  # once laid out (gui/dock_tabs.py)

    # ---- help ----------------------------------------------------------------------------------------------------
    def _show_dialog(self, which: str) -> QDialog:
        """A Help dialog, non-modal (the window stays usable beside it); built when asked, so the shortcut list
        is the one bound now. Returned for tests."""
        from .help_dialogs import AboutDialog, ConventionsDialog, ShortcutsDialog

        dialog: QDialog = {"shortcuts": ShortcutsDialog, "conventions": ConventionsDialog,
                           "about": AboutDialog}[which](self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_user_guide(self) -> QDialog:
        from .help_dialogs import UserGuideDialog

        dialog = UserGuideDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def last_folder(self) -> str:
        return str(QSettings().value("lastFolder", str(Path.home())))

    def _remember_folder(self, path: str | Path) -> None:
        QSettings().setValue("lastFolder", str(Path(path).resolve().parent))

    # ---- questions (overridable: tests answer them without a modal dialog) --------------------------------------
    def ask_unsaved(self) -> str:
        """'save', 'discard' or 'cancel' for a modified document about to be replaced or closed."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"{self.document.display_name} has unsaved changes.", parent=self)
        box.setInformativeText("Save them first?")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")

    def ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Open", self.last_folder(), MODEL_FILTER)
        return path

    def ask_save_path(self, title: str, suggestion: str, filter_: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path(self.last_folder()) / suggestion), filter_)
        return path

    def ask_restore_recovery(self, path: Path | None = None) -> bool:
        when = ""
        if path is not None:
            with contextlib.suppress(OSError):
                when = f" (autosaved {time.strftime('%Y-%m-%d %H:%M', time.localtime(path.stat().st_mtime))})"
        answer = QMessageBox.question(
            self, "Restore unsaved work?",
            f"NetCost did not close cleanly last time. Restore the unsaved work you were editing{when}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def offer_recovery(self) -> bool:
        """At start: offer the newest recovery file left by a session that did not end cleanly (never one of a
        copy of NetCost still running). True when it was restored; declining deletes it."""
        path = self.autosave.newest_orphan()
        if path is None:
            return False
        if not self.ask_restore_recovery(path):
            self.autosave.discard_orphan(path)
            return False
        try:
            restored = self.autosave.restore(path)
        except RecoveryUnreadable as e:  # never deleted: the user may still want what is in it
            self.show_message(f"The recovery file could not be read ({e.reason}); it was kept as {e.kept}",
                              "warning")
            return False
        if restored:
            self.source = None  # a restored model's reference was not opened in this session
            name = self.document.display_name
            self.statusBar().showMessage(f"Restored your unsaved work on {name}; save it to keep it", 8000)
        return restored

    def maybe_discard(self) -> bool:
        """True when the current document may be replaced (saved, discarded, or not modified)."""
        if not self.document.modified:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save()
        return answer == "discard"

    # ---- files ---------------------------------------------------------------------------------------------------
    def new_document(self) -> bool:
        if not self.maybe_discard():
            return False
        self.loader.cancel()
        self.document.set_network(Network((), (3, 224, 224), "untitled"))
        self.source = None
        self.message_bar.hide()
        return True

    def open_dialog(self) -> None:
        dialog = OpenModelDialog(self, self.last_folder())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.open_reference(*dialog.selection()))
        dialog.open()  # window-modal but non-blocking: the event loop keeps running

    def _add_library_entries(self, menu: QMenu) -> None:
        """One entry per installed model library (torchvision, timm: a searchable list; transformers: a config),
        looked up again each time the menu opens: a library installed while the app runs appears without a
        restart (and one removed disappears)."""
        self._library_actions: list[QAction] = []
        menu.aboutToShow.connect(lambda: self._refresh_library_entries(menu))
        self._refresh_library_entries(menu)

    def _refresh_library_entries(self, menu: QMenu) -> None:
        from .library_browser_dialog import library_menu_entries

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
            path, _ = QFileDialog.getOpenFileName(self, "Open a Hugging Face config", self.last_folder(),
                                                  "Transformers config (config.json *.json);;All files (*)")
            if path:
                self.open_reference(f"hf:{path}")
            return
        from .library_browser_dialog import LibraryBrowserDialog

        dialog = LibraryBrowserDialog(prefix, self)
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
                self.show_message(f"{path} no longer exists; it was removed from Open Recent.", "warning")
            else:
                self.show_message(f"{path}: no such file")
            return
        if path.endswith(".py") and ":" not in Path(path).name:
            dialog = OpenModelDialog(self, str(Path(path).parent))
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
        self._cancel_file_job()
        if opens_in_background(path):
            self._start_file_job(path)
            return True
        try:
            self.document.load_file(path)  # parses fully before replacing anything
        except FormatError as e:
            self.show_message(f"Cannot open {short_path(Path(path).name, 60)}: {e}")
            return False
        except OSError as e:  # a name over the file-name limit, a folder it may not read: said, never raised into Qt
            self.show_message(f"Cannot open {short_path(Path(path).name, 60)}: {failure_text(e)}")
            return False
        self._project_opened(path)
        return True

    def _project_opened(self, path: str) -> None:
        self.loader.cancel()
        self.source = None
        self._remember_folder(path)
        self.recent.add(str(Path(path).resolve()))
        self.message_bar.hide()

    # ---- large files: read, checked and costed on a thread, the window answering meanwhile ----------------------
    def _start_file_job(self, path: str) -> None:
        job = GraphFileJob(path, self)
        name = Path(path).name
        self.file_job = job
        job.progress.connect(lambda stage, percent: self.load_indicator.show_file_progress(name, stage, percent))
        job.loaded.connect(lambda graph, extra, report: self._on_file_job_loaded(job, graph, extra, report))
        job.failed.connect(lambda message: self._on_file_job_failed(job, message))
        job.canceled.connect(lambda: self._on_file_job_ended(job))
        job.finished.connect(job.deleteLater)
        self.load_indicator.show_file_progress(name, Stage.READ.label, 0)
        self.act_cancel.setEnabled(True)
        job.start()

    def _cancel_loading(self) -> None:
        self.loader.cancel()
        self._cancel_file_job()

    def _cancel_file_job(self) -> None:
        job, self.file_job = self.file_job, None
        if job is not None:
            job.cancel()  # it stops at its next progress point and is deleted when its thread ends
            self.load_indicator.file_done()
            self.act_cancel.setEnabled(self.loader.busy)

    def _on_file_job_ended(self, job: GraphFileJob) -> bool:
        """True when `job` is still the open the window waits for (a cancelled or replaced one is ignored)."""
        if job is not self.file_job:
            return False
        self.file_job = None
        self.load_indicator.file_done()
        self.act_cancel.setEnabled(self.loader.busy)
        return True

    def _on_file_job_loaded(self, job: GraphFileJob, graph: Graph, extra: dict[str, Any], report: Any) -> None:
        if not self._on_file_job_ended(job) or not self.maybe_discard():  # edited while opening: ask again
            return
        self.document.set_graph(graph, job.path, extra, report=report)
        self._project_opened(str(job.path))

    def _on_file_job_failed(self, job: GraphFileJob, message: str) -> None:
        if self._on_file_job_ended(job):
            self.show_message(f"Cannot open {job.path.name}: {message}")

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        stem = self.document.path.name if self.document.path else _file_stem(self.document.name) + ".json"
        path = self.ask_save_path(save_title(self.document), stem, PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(".json"):
            path += ".json"
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            self.document.save_file(path)
        except Exception as e:  # any failure (a full disk, an unwritable value) is said, never swallowed
            self.show_message(f"Cannot save {path.name}: {failure_text(e)}")
            return False
        self._remember_folder(path)
        self.recent.add(str(path.resolve()))
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def export_table(self, fmt_key: str) -> bool:
        suffix = {"csv": ".csv", "json": ".json", "markdown": ".md"}[fmt_key]
        path = self.ask_save_path("Export table", _file_stem(self.document.name) + suffix,
                                  f"{fmt_key.upper()} (*{suffix});;All files (*)")
        if not path:
            return False
        text = tables.FORMATS[fmt_key](self.document.report, self.document.convention)
        try:
            atomic_write(path, text.encode("utf-8"))
        except OSError as e:
            self.show_message(f"Cannot export to {Path(path).name}: {e.strerror or e}")
            return False
        self._remember_folder(path)
        self.statusBar().showMessage(f"Exported {path}", 4000)
        return True

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        entries = self.recent.entries()
        for ref in entries:
            act = self.recent_menu.addAction(ref)
            act.triggered.connect(lambda *_, r=ref: self.open_path(r))
        if entries:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list").triggered.connect(self.recent.clear)
        self.recent_menu.setEnabled(bool(entries))

    # ---- loader results ---------------------------------------------------------------------------------------
    def _on_loader_network(self, ref: str, network: Network | Graph) -> None:
        if not self.maybe_discard():  # edited while loading: ask again before replacing
            return
        if isinstance(network, Graph):
            self.document.set_graph(network, None)
        else:
            self.document.set_network(network, None)
        self.source = None
        self._loaded(ref)

    def _on_loader_report(self, ref: str, report: Any) -> None:
        if not self.maybe_discard():
            return
        reload = self._reload_pending and self.document.traced
        edited, self._reload_graph = (self._reload_graph if reload else None), None
        self.document.set_report(report, keep_baseline=reload)
        if report.graph is not None and report.graph.source.get("ref"):
            self.trusted_refs.add(str(report.graph.source["ref"]))  # the user opened it: may be traced again
        opts = self._pending_opts if ref == self._pending_ref and self._pending_opts is not None else LoadOptions()
        self.source = (ref, replace(opts, module_edits=()))
        self._loaded(ref)
        if edited is not None and report.graph is not None:
            self.statusBar().showMessage(carried_over(edited, report.graph), 10000)

    def _loaded(self, ref: str) -> None:
        self.message_bar.hide()
        if not ref.startswith("zoo:"):
            self._remember_folder(ref.split(":")[0])
        self.recent.add(ref)
        self.statusBar().showMessage(f"Loaded {ref}", 4000)

    def _on_loader_failed(self, ref: str, message: str) -> None:
        if self.loader.failure_kind != "pickle":
            self.show_message(message)
            return
        # the CLI's way out is --trust-pickle; the window offers the same choice, with its warning, as a button
        self.show_message(message.replace(TRUST_PICKLE_HINT, "choose Trust and load"))
        opts = self._pending_opts if ref == self._pending_ref and self._pending_opts is not None else LoadOptions()
        self.message_bar.set_action("Trust and load…", lambda: self.trust_pickle_and_load(ref, opts))

    def trust_pickle_and_load(self, ref: str, opts: LoadOptions) -> bool:
        """Load a pickled file after the user confirmed they trust it (unpickling runs the file's code)."""
        if not self.ask_trust_pickle(ref):
            return False
        return self.open_reference(ref, replace(opts, trust_pickle=True))

    def ask_trust_pickle(self, ref: str) -> bool:
        answer = QMessageBox.warning(
            self, "Run the code in this file?",
            f"Loading {printable(ref)} unpickles it, which runs code from the file with your rights (it can read, "
            "change or delete your files). Only continue for a file you made yourself or fully trust.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def consent_to_trace(self, ref: str) -> bool:
        """Whether the model `ref` may be traced again (its code run) for an edit: yes for built-in models and
        those opened in this session; a reference that came from a file is asked about once per document."""
        if not runs_code(ref) or ref in self.trusted_refs:
            return True
        if ref in self._declined_refs:
            return False
        if self.ask_trust_source(ref):
            self.trusted_refs.add(ref)
            return True
        self._declined_refs.add(ref)
        return False

    def ask_trust_source(self, ref: str) -> bool:
        answer = QMessageBox.warning(
            self, "Run the model this file names?",
            f"This edit needs the model traced again, and this file names {printable(ref)} as its model. Tracing "
            "runs that file's code with your rights (it can read, change or delete your files). Only continue for "
            "a model you made yourself or fully trust.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _on_loader_canceled(self, ref: str) -> None:
        self.show_message(f"Loading {ref} was cancelled; the current document is unchanged.", "info")

    def _on_autosave_failed(self, message: str) -> None:
        self.show_message(message, "warning")

    def _on_remeasure_message(self, text: str, kind: str) -> None:
        if kind == "info":
            self.statusBar().showMessage(text, 8000)
        else:
            self.show_message(text, kind)

    def show_message(self, text: str, kind: str = "error") -> None:
        """Non-modal: the message bar above the table and the status bar."""
        self.message_bar.show_message(text, kind)
        shown = screen_text(text)
        self.statusBar().showMessage(shown.splitlines()[0] if shown else "", 8000)

    # ---- edits (through the document: one undo step each) ---------------------------------------------------
    def _insert_row(self) -> int:
        rows = self.document.selection.rows
        return rows[-1] + 1 if rows else self.document.row_count()

    def add_layer(self, type_: str | None = None) -> None:
        if type_ is None:
            current = self.document.selection.current
            type_ = self.document.spec(current).type if current is not None else "Conv2d"
        self._structural(lambda: self.document.insert_layers(self._insert_row(), [template_spec(type_)],
                                                             f"Add {type_}"))
        self.table.setFocus()

    def duplicate(self) -> None:
        self._structural(lambda: self.document.duplicate_layers(self.document.selection.rows))

    def delete(self) -> None:
        self._structural(lambda: self.document.remove_layers(self.document.selection.rows))

    def _structural(self, edit: Any) -> None:
        """An insert, delete or move the graph cannot take (a deleted source that others read, a reorder of a
        graph with branches) is refused with its reason; the document stays as it was."""
        try:
            edit()
        except ValueError as e:
            self.show_message(f"Not done: {e}", "warning")

    def move_selection(self, step: int) -> None:
        rows = self.document.selection.rows
        if not rows:
            return
        if rows != list(range(rows[0], rows[-1] + 1)):
            self.statusBar().showMessage("Move up/down moves one block of adjacent rows; drag scattered rows to "
                                         "gather them", 5000)
            return
        if step < 0 and rows[0] > 0:
            self._structural(lambda: self.document.move_layers(rows[0], rows[-1], rows[0] - 1))
        elif step > 0 and rows[-1] + 1 < self.document.row_count():
            self._structural(lambda: self.document.move_layers(rows[0], rows[-1], rows[-1] + 2))

    def copy(self) -> None:
        n = self.table.copy_selection()
        if n:
            self.statusBar().showMessage(f"Copied {n} layer{'s' * (n > 1)}", 3000)

    def paste(self) -> None:
        try:
            self.table.paste()
        except FormatError as e:
            self.show_message(f"Cannot paste: {e}", "warning")

    def settings_dialog(self) -> SettingsDialog:
        dialog = SettingsDialog(self.document, self, reloadable=self.document.traced and self.source is not None)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_settings(dialog))
        dialog.open()
        return dialog

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
            self.show_message(f"Settings not applied: {e}")

    def reload_with(self, batch_size: int, dtype: str, edits: tuple[dict[str, Any], ...] = ()) -> bool:
        """Trace the current read-only model again with a new batch size / dtype, in the worker (same progress
        and Cancel as any load). The model stays on screen until the new report has arrived."""
        if self.source is None:
            self.show_message("This model's source is unknown: open it again to change its batch size or dtype.",
                              "warning")
            return False
        ref, opts = self.source
        opts = replace(opts, batch_size=batch_size, dtype=dtype, module_edits=edits)
        self._pending_ref, self._pending_opts, self._reload_pending = ref, opts, True
        self.loader.load(ref, opts)
        self.statusBar().showMessage(f"Reloading {ref} with batch size {batch_size}, {dtype} …", 4000)
        return True

    def show_rewrites(self) -> None:
        self._raise_dock("rewrites")
        self.rewrites.tree.setFocus()

    def _on_rewrites_applied(self, _rewrite_id: str) -> None:
        self._show_delta_columns()
        self._raise_dock("compare")

    def _raise_dock(self, key: str) -> None:
        dock = self.docks.get(key)
        if dock is not None:
            dock.show()
            dock.raise_()

    def _show_delta_columns(self) -> None:
        """The table's Δ columns only while a baseline is pinned."""
        self.table.show_delta_columns(self.document.baseline is not None)

    # ---- document signals ------------------------------------------------------------------------------------
    def _on_document_reset(self) -> None:
        doc = self.document
        self._update_title()
        self._update_status_totals()
        self._on_document_error_changed()
        self._on_document_convention_changed(doc.convention)
        self._update_actions()
        self.docks["hierarchy" if doc.graph.scopes else "editor"].raise_()
        if doc.row_count() and not doc.selection.rows:
            doc.selection.set_rows([0])

    def _update_actions(self) -> None:
        doc = self.document
        editable = True
        has_rows = bool(doc.selection.rows)
        for act in (self.act_add, self.act_paste):
            act.setEnabled(editable)
        self.add_menu.setEnabled(editable)
        for act in (self.act_duplicate, self.act_delete, self.act_move_up, self.act_move_down, self.act_copy):
            act.setEnabled(editable and has_rows)
        self.act_save.setEnabled(editable)
        self.act_save_as.setEnabled(editable)
        self.act_clear_pin.setEnabled(doc.baseline is not None)
        empty = doc.row_count() == 0
        self.table.setVisible(not empty)
        self.empty_hint.setVisible(empty)

    def _update_title(self) -> None:
        doc = self.document
        self.setWindowTitle(f"{doc.display_name}[*] — NetCost")
        self.setWindowModified(doc.modified)

    def _update_status_totals(self) -> None:
        doc = self.document
        t = doc.report.totals
        conv = CONVENTIONS[doc.convention]
        if not doc.report.complete:  # a partial sum is no total
            self.totals_label.setText(f"— params   ·   — MACs   ·   {doc.report.incomplete_note}")
            self.totals_label.setToolTip("the totals are shown once every node is costed")
            self._update_actions()
            return
        parts = [f"{fmt.si(t.params)} params", f"{fmt.si(t.macs)} MACs"]
        if doc.convention != "macs":
            parts.append(f"{fmt.si(convention_value(t, doc.convention))} {conv.label}")
        parts.append(f"{fmt.nbytes(t.param_bytes)} ({doc.report.dtype})")
        self.totals_label.setText("   ·   ".join(parts))
        self.totals_label.setToolTip(f"{fmt.grouped(t.params)} parameters; {conv.label}: {conv.description}")
        self._update_actions()

    def _on_document_error_changed(self) -> None:
        error = self.document.error
        if error is not None:  # a transient note ("Loaded …") would hide the error label behind it
            self.statusBar().clearMessage()
        self.error_label.setText(f"⚠ {error}" if error is not None else "")
        self.error_label.setToolTip(plain_tip(str(error)) if error is not None else "")

    def _on_document_convention_changed(self, convention: str) -> None:
        for act in self.conv_menu.actions():
            act.setChecked(act.data() == convention)
        self._update_status_totals()

    # ---- window events ---------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not files:
            super().dropEvent(event)
            return
        event.acceptProposedAction()
        # after the drop returns: a prompt inside a drop handler would block the drag source
        QTimer.singleShot(0, lambda: self.open_path(files[0]))

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_discard():
            event.ignore()
            return
        self.loader.shutdown()  # the load in flight and the spare worker
        self._cancel_file_job()
        for job in self.findChildren(GraphFileJob):  # cancelled ones too: a thread must not outlive its window
            job.cancel()
            job.wait()
        self.save_settings()
        self.autosave.timer.stop()
        self.autosave.discard()  # a clean exit leaves no recovery file behind
        event.accept()


def shortcuts_for(shortcut: ShortcutSpec, fallback: str = "") -> list[QKeySequence]:
    """Key sequences for a standard key, a text or a list of texts; `fallback` where the platform has none."""
    if shortcut is None:
        keys: list[QKeySequence] = []
    elif isinstance(shortcut, QKeySequence.StandardKey):
        keys = platform_keys(shortcut)
    elif isinstance(shortcut, (list, tuple)):
        keys = [QKeySequence(k) for k in shortcut]
    else:
        keys = [QKeySequence(shortcut)]
    keys = [k for k in keys if not k.isEmpty()]
    return keys or ([QKeySequence(fallback)] if fallback else [])


def platform_keys(key: QKeySequence.StandardKey) -> list[QKeySequence]:
    """The platform's bindings of a standard key (GNOME and KDE bind Delete to Del *and* Ctrl+D)."""
    return list(QKeySequence.keyBindings(key))


def drop_shortcut_clashes(actions: list[QAction]) -> list[str]:
    """Make every key sequence trigger one action: Qt fires none of the actions sharing a sequence ("Ambiguous
    shortcut overload"). A sequence that is an action's primary shortcut wins over the same sequence as another
    action's alternative (Ctrl+D: Duplicate, not GNOME's second binding of Delete). Returns the clashes left
    between two primaries (a bug to fix where the actions are made)."""
    primary: dict[str, QAction] = {}
    for act in actions:
        keys = act.shortcuts()
        if keys:
            primary.setdefault(keys[0].toString(), act)
    clashes = []
    for act in actions:
        keys = act.shortcuts()
        kept = [k for i, k in enumerate(keys) if i == 0 or primary.get(k.toString(), act) is act]
        if len(kept) != len(keys):
            act.setShortcuts(kept)
            _name_shortcut_in_tooltip(act)
        if keys and primary[keys[0].toString()] is not act:
            clashes.append(f"{keys[0].toString()}: {act.text()} and {primary[keys[0].toString()].text()}")
    return clashes


def _unique(keys: list[QKeySequence]) -> list[QKeySequence]:
    out: list[QKeySequence] = []
    for k in keys:
        if k not in out:
            out.append(k)
    return out


def _name_shortcut_in_tooltip(action: QAction) -> None:
    """`Save the layer list (Ctrl+S)`: the tooltip names the primary shortcut, if there is one."""
    base = action.statusTip() or action.text().replace("&", "").rstrip("…")
    key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    tip = f"{base} ({key})" if key else base
    if action.toolTip() != tip:
        action.setToolTip(tip)


def _file_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("_.")
    return stem or "untitled"


def edit_icon(theme: QIcon.ThemeIcon, resource: str) -> QIcon:
    """The icon theme's undo/redo arrow, else NetCost's own (Fusion on Linux often has no theme: its stock
    back/forward arrows read as navigation, not as undo and redo)."""
    icon = QIcon.fromTheme(theme)
    return icon if not icon.isNull() else QIcon(str(Path(resources.__file__).resolve().parent / resource))


def application_icon() -> QIcon:
    app = QApplication.instance()
    style = app.style() if isinstance(app, QApplication) else None
    return style.standardIcon(QStyle.StandardPixmap.SP_ComputerIcon) if style is not None else QIcon()


def _exists(path: str) -> bool:
    """Whether `path` may exist: a name the OS refuses to look up (over the file-name limit) is left to the opener,
    which says why in the message bar, instead of raising into Qt here."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return True
