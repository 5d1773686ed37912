"""`MainWindow`: composes the document's views in docks, with menus, toolbar and status bar.

It computes nothing and handles no file itself: figures come from the document's report, formatted by
`netcost.gui.common.figures`; files and sessions are `gui/app/session.py`'s `Session`, layer edits
`gui/app/edit_actions.py`'s `EditActions`, the actions, menus and shortcuts `gui/app/window_actions.py`. Every
question to the user goes through an overridable `ask_*` method (dialogs in `gui/app/questions.py`), so tests never
block on a modal dialog. Failures are shown in a non-modal message bar above the table; the document is only ever
replaced by a completely loaded one.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import QDialog, QDockWidget, QFrame, QLabel, QMainWindow, QVBoxLayout, QWidget

from netcost.costing.graph import Graph
from netcost.gui.app import questions
from netcost.gui.app.edit_actions import EditActions
from netcost.gui.app.graph_file_job import GraphFileJob
from netcost.gui.app.help_dialogs import AboutDialog, ConventionsDialog, ShortcutsDialog, UserGuideDialog
from netcost.gui.app.session import Session
from netcost.gui.app.settings_dialog import SettingsDialog
from netcost.gui.app.view_slots import VIEW_FACTORIES, build_view, install_export_menu
from netcost.gui.app.window_actions import (
    build_actions,
    build_menus,
    build_toolbar,
    drop_shortcut_clashes,
    name_shortcut_in_tooltip,
)
from netcost.gui.app.window_parts import FitWidthScrollArea, LoadIndicator, MessageBar
from netcost.gui.common.color_scheme import apply_scheme, saved_scheme
from netcost.gui.common.dock_tabs import hide_stale_tab_bars
from netcost.gui.common.figures import status_totals
from netcost.gui.common.palette import error_label_style
from netcost.gui.common.plain_text import plain_tip, screen_text
from netcost.gui.common.text_line import TextLineWidget
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.remeasure import Remeasurer
from netcost.gui.table.hierarchy_tree import HierarchyTreeWidget
from netcost.gui.table.layer_editor_widget import LayerEditorWidget
from netcost.gui.table.layer_table_view import LayerTableView
from netcost.gui.table.totals_widget import TotalsWidget
from netcost.gui.whatif.rewrites_panel import RewritesPanel
from netcost.model_io.worker.resolve import LoadOptions

log = logging.getLogger(__name__)
STATE_VERSION = 2


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
        self.session = Session(self, worker_command, autosave_dir)
        self.edits = EditActions(self)
        self.loader, self.recent, self.autosave = self.session.loader, self.session.recent, self.session.autosave
        self.docks: dict[str, QDockWidget] = {}
        self.views: dict[str, QWidget] = {}
        # where a traced (read-only) model came from: Settings reloads it with a new batch size / dtype
        self._source: tuple[str, LoadOptions] | None = None
        # opaque rows an edit left stale are measured again by tracing the model with the edits
        # (gui/document/remeasure.py)
        self.remeasurer = Remeasurer(self.document, lambda: self.source[1] if self.source else None,
                                     worker_command, self, consent=self.session.consent_to_trace)
        self.remeasurer.message.connect(self._on_remeasure_message)
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self._build_central()
        self._build_docks()
        build_actions(self)
        build_menus(self, install_export_menu)
        build_toolbar(self)
        self._build_status_bar()
        self._wire()
        self._restore_settings()
        for clash in drop_shortcut_clashes(self.findChildren(QAction)):
            log.warning("shortcut %s", clash)
        self._on_document_reset()

    # ---- what tests and other modules call: the controllers' entry points ----------------------------------------
    @property
    def trusted_refs(self) -> set[str]:
        return self.session.trusted_refs

    @property
    def file_job(self) -> GraphFileJob | None:
        return self.session.file_job

    def open_reference(self, ref: str, opts: LoadOptions | None = None) -> bool:
        return self.session.open_reference(ref, opts)

    def open_path(self, path: str) -> None:
        self.session.open_path(path)

    def new_document(self) -> bool:
        return self.session.new_document()

    def save(self) -> bool:
        return self.session.save()

    def save_as(self) -> bool:
        return self.session.save_as()

    def export_table(self, fmt_key: str) -> bool:
        return self.session.export_table(fmt_key)

    def maybe_discard(self) -> bool:
        return self.session.maybe_discard()

    def offer_recovery(self) -> bool:
        return self.session.offer_recovery()

    def reload_with(self, batch_size: int, dtype: str, edits: tuple[dict[str, Any], ...] = ()) -> bool:
        return self.session.reload_with(batch_size, dtype, edits)

    def add_layer(self, type_: str | None = None) -> None:
        self.edits.add_layer(type_)

    def last_folder(self) -> str:
        return self.session.last_folder()

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
        self.hierarchy = HierarchyTreeWidget(self.document, self)
        # the right column spans the full height; the diagram and charts share the bottom under the table
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        totals = self._add_dock("totals", "Totals", self.totals, right, scroll=True)
        editor = self._add_dock("editor", "Layer", self.editor, right)
        hierarchy = self._add_dock("hierarchy", "Modules", self.hierarchy, right)
        self.splitDockWidget(totals, editor, Qt.Orientation.Vertical)
        self.tabifyDockWidget(editor, hierarchy)
        self.rewrites = RewritesPanel(self.document, self)
        self.tabifyDockWidget(hierarchy, self._add_dock("rewrites", "Rewrites", self.rewrites, right))
        editor.raise_()
        previous: QDockWidget | None = None
        for title, view_class in VIEW_FACTORIES:
            dock = self._add_dock(title.lower(), title, build_view(view_class, self.document, self), bottom)
            if previous is not None:
                self.tabifyDockWidget(previous, dock)
            previous = dock
        if VIEW_FACTORIES:
            self.docks[VIEW_FACTORIES[0][0].lower()].raise_()

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.error_label = QLabel(self)
        self.error_label.setStyleSheet(error_label_style())
        self.error_label.setObjectName("statusError")
        self.load_indicator = LoadIndicator(self.loader, self)
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
        self.session.wire()
        self.act_cancel.setEnabled(False)

    def name_undo_redo_shortcuts(self, *_: Any) -> None:
        for act in (self.act_undo, self.act_redo):
            name_shortcut_in_tooltip(act)

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
        bottoms = [self.docks[title.lower()] for title, _ in VIEW_FACTORIES]
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

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self, lambda: hide_stale_tab_bars(self))  # once laid out (gui/common/dock_tabs.py)

    # ---- dialogs -------------------------------------------------------------------------------------------------
    def _show_dialog(self, which: str) -> QDialog:
        """A Help dialog, non-modal (the window stays usable beside it); built when asked, so the shortcut list
        is the one bound now. Returned for tests."""
        dialog: QDialog = {"shortcuts": ShortcutsDialog, "conventions": ConventionsDialog,
                           "about": AboutDialog}[which](self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_user_guide(self) -> QDialog:
        dialog = UserGuideDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def settings_dialog(self) -> SettingsDialog:
        dialog = SettingsDialog(self.document, self, reloadable=self.document.traced and self.source is not None)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.session.apply_settings(dialog))
        dialog.open()
        return dialog

    def show_rewrites(self) -> None:
        self.raise_dock("rewrites")
        self.rewrites.tree.setFocus()

    def _on_rewrites_applied(self, _rewrite_id: str) -> None:
        self._show_delta_columns()
        self.raise_dock("compare")

    def raise_dock(self, key: str) -> None:
        dock = self.docks.get(key)
        if dock is not None:
            dock.show()
            dock.raise_()

    # ---- questions (overridable: tests answer them without a modal dialog) --------------------------------------
    def ask_unsaved(self) -> str:
        """'save', 'discard' or 'cancel' for a modified document about to be replaced or closed."""
        return questions.ask_unsaved(self, self.document.display_name)

    def ask_open_path(self) -> str:
        return questions.ask_open_path(self, self.last_folder())

    def ask_hf_config(self) -> str:
        return questions.ask_hf_config(self, self.last_folder())

    def ask_save_path(self, title: str, suggestion: str, filter_: str) -> str:
        return questions.ask_save_path(self, self.last_folder(), title, suggestion, filter_)

    def ask_restore_recovery(self, path: Path | None = None) -> bool:
        return questions.ask_restore_recovery(self, path)

    def ask_trust_pickle(self, ref: str) -> bool:
        return questions.ask_trust_pickle(self, ref)

    def ask_trust_source(self, ref: str) -> bool:
        return questions.ask_trust_source(self, ref)

    # ---- messages ------------------------------------------------------------------------------------------------
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

    # ---- document signals ------------------------------------------------------------------------------------
    def _on_document_reset(self) -> None:
        doc = self.document
        self._update_title()
        self._update_status_totals()
        self._on_document_error_changed()
        self._on_document_convention_changed(doc.convention)
        self._update_actions()
        self.docks["hierarchy" if doc.graph.scopes else "editor"].raise_()
        if doc.row_count() and not doc.selection.rows:  # the first row, in a pass of its own: its reveal walks
            # and scrolls (~35 ms at 100k nodes); a timer due after the Modules tree's (0 ms), so not in its round
            QTimer.singleShot(10, self, functools.partial(self._select_first_row, doc.graph))

    def _select_first_row(self, graph: Graph) -> None:
        doc = self.document
        if doc.graph is graph and doc.row_count() and not doc.selection.rows:  # (not replaced or selected since)
            doc.selection.set_rows([0])

    def _show_delta_columns(self) -> None:
        """The table's Δ columns only while a baseline is pinned."""
        self.table.show_delta_columns(self.document.baseline is not None)

    def _update_actions(self) -> None:
        doc = self.document
        self.edits.update_enabled()
        self.act_save.setEnabled(True)
        self.act_save_as.setEnabled(True)
        self.act_clear_pin.setEnabled(doc.baseline is not None)
        empty = doc.row_count() == 0
        self.table.setVisible(not empty)
        self.empty_hint.setVisible(empty)

    def _update_title(self) -> None:
        doc = self.document
        self.setWindowTitle(f"{doc.display_name}[*] — NetCost")
        self.setWindowModified(doc.modified)

    def _update_status_totals(self) -> None:
        text, tip = status_totals(self.document.report, self.document.convention)
        self.totals_label.setText(text)
        self.totals_label.setToolTip(tip)
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
        QTimer.singleShot(0, lambda: self.session.open_path(files[0]))

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.session.maybe_discard():
            event.ignore()
            return
        self.save_settings()
        self.session.close()
        event.accept()
