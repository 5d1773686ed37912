"""The main window's action and shortcut table, and the menus and toolbar built from it.

`build_actions(window)` makes every `act_*` action (text, shortcut with its platform fallback, tip, icon, slot);
`build_menus` and `build_toolbar` place them. The window's controllers (`window.session`: files; `window.edits`:
layer edits) own the slots. Every key sequence triggers one action (`drop_shortcut_clashes`), and every tooltip
names the action's shortcut.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QStyle, QToolButton

import netcost.resources as resources
from netcost.costing import CONVENTIONS
from netcost.gui.app.open_model_dialog import zoo_entries
from netcost.gui.common.color_scheme import SCHEMES
from netcost.gui.document.training_state import TrainingState
from netcost.gui.table.layer_table_model import supported_types
from netcost.gui.training.training_controls import TrainingControls

if TYPE_CHECKING:
    from netcost.gui.app.main_window import MainWindow

ShortcutSpec = QKeySequence.StandardKey | str | list[str] | None


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
            name_shortcut_in_tooltip(act)
        if keys and primary[keys[0].toString()] is not act:
            clashes.append(f"{keys[0].toString()}: {act.text()} and {primary[keys[0].toString()].text()}")
    return clashes


def _unique(keys: list[QKeySequence]) -> list[QKeySequence]:
    out: list[QKeySequence] = []
    for k in keys:
        if k not in out:
            out.append(k)
    return out


def name_shortcut_in_tooltip(action: QAction) -> None:
    """`Save the layer list (Ctrl+S)`: the tooltip names the primary shortcut, if there is one."""
    base = action.statusTip() or action.text().replace("&", "").rstrip("…")
    key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    tip = f"{base} ({key})" if key else base
    if action.toolTip() != tip:
        action.setToolTip(tip)


def edit_icon(theme: QIcon.ThemeIcon, resource: str) -> QIcon:
    """The icon theme's undo/redo arrow, else NetCost's own (Fusion on Linux often has no theme: its stock
    back/forward arrows read as navigation, not as undo and redo)."""
    icon = QIcon.fromTheme(theme)
    return icon if not icon.isNull() else QIcon(str(Path(resources.__file__).resolve().parent / resource))


def make_action(window: MainWindow, text: str, slot: Callable[[], Any], shortcut: ShortcutSpec = None,
                tip: str = "", icon: QStyle.StandardPixmap | None = None, fallback: str = "") -> QAction:
    """An action of `window` with `shortcut` (a standard key falls back to `fallback` where the platform defines
    none, as Linux does for Preferences and often Quit) and a tooltip naming its shortcut."""
    action = QAction(text, window)
    keys = shortcuts_for(shortcut, fallback)
    if keys:
        action.setShortcuts(keys)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    name_shortcut_in_tooltip(action)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    action.triggered.connect(lambda *_: slot())
    window.addAction(action)
    return action


def build_actions(w: MainWindow) -> None:
    """Every action of the window, with its shortcut: the table the menus, the toolbar and Help ▸ Keyboard
    shortcuts are made from."""
    SP, K = QStyle.StandardPixmap, QKeySequence.StandardKey
    session, edits, doc = w.session, w.edits, w.document

    def act(*args: Any, **kwargs: Any) -> QAction:
        return make_action(w, *args, **kwargs)

    w.act_new = act("&New", session.new_document, K.New, "New empty layer list", SP.SP_FileIcon)
    w.act_open = act("&Open…", session.open_dialog, K.Open, "Open a project or a model", SP.SP_DialogOpenButton)
    w.act_save = act("&Save", session.save, K.Save, "Save the layer list", SP.SP_DialogSaveButton)
    w.act_save_as = act("Save &As…", session.save_as, K.SaveAs, "Save under a new name")
    w.act_quit = act("&Quit", w.close, K.Quit, "Quit NetCost", fallback="Ctrl+Q")
    w.act_quit.setMenuRole(QAction.MenuRole.QuitRole)
    w.act_undo = doc.undo_stack.createUndoAction(w, "&Undo")
    w.act_undo.setShortcuts(shortcuts_for(K.Undo, "Ctrl+Z"))
    w.act_undo.setIcon(edit_icon(QIcon.ThemeIcon.EditUndo, "edit-undo.svg"))
    w.act_redo = doc.undo_stack.createRedoAction(w, "&Redo")
    w.act_redo.setShortcuts(_unique([*shortcuts_for(K.Redo, "Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]))
    w.act_redo.setIcon(edit_icon(QIcon.ThemeIcon.EditRedo, "edit-redo.svg"))
    # the stack renames them ("Undo Set out_channels …"); the tooltips follow, naming the shortcut (a slot of the
    # window: the connection ends with it, though the document may outlive it)
    doc.undo_stack.undoTextChanged.connect(w.name_undo_redo_shortcuts)
    doc.undo_stack.redoTextChanged.connect(w.name_undo_redo_shortcuts)
    w.name_undo_redo_shortcuts()
    w.act_add = act("&Add layer", edits.add_layer, ["Ctrl+Shift+A", "Ins"], "Insert a layer after the selection")
    w.act_duplicate = act("D&uplicate", edits.duplicate, "Ctrl+D", "Duplicate the selected layers")
    w.act_delete = act("&Delete", edits.delete, K.Delete, "Delete the selected layers", SP.SP_TrashIcon)
    w.act_move_up = act("Move &up", lambda: edits.move_selection(-1), "Ctrl+Up", "Move the selected layers up",
                        SP.SP_ArrowUp)
    w.act_move_down = act("Move do&wn", lambda: edits.move_selection(1), "Ctrl+Down",
                          "Move the selected layers down", SP.SP_ArrowDown)
    w.act_copy = act("&Copy layers", edits.copy, K.Copy, "Copy the selected layers")
    w.act_paste = act("&Paste layers", edits.paste, K.Paste, "Paste layers after the selection")
    w.act_pin = act("&Pin baseline", doc.pin_baseline, "Ctrl+B",
                    "Freeze the current totals and show every change against them", SP.SP_DialogApplyButton)
    w.act_clear_pin = act("C&lear baseline", doc.clear_baseline, "Ctrl+Shift+B",
                          "Stop comparing with the pinned baseline")
    w.act_rewrites = act("&Rewrites…", w.show_rewrites, "Ctrl+Shift+R",
                         "The article's design tricks that apply here, with their savings")
    w.act_sweep = act("Input-size s&weep", lambda: w.raise_dock("sweep"), "Ctrl+Shift+W",
                      "Params, MACs and activation memory against the input size")
    w.act_settings = act("Se&ttings…", w.settings_dialog, K.Preferences,
                         "Batch size, dtype, input shape and counting convention", SP.SP_FileDialogDetailedView,
                         fallback="Ctrl+,")
    w.act_settings.setMenuRole(QAction.MenuRole.PreferencesRole)
    w.act_cancel = act("Cancel loading", session.cancel_loading, "Esc", "Stop the model being loaded",
                       SP.SP_BrowserStop)
    w.act_cancel.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    w.act_csv = act("Table as &CSV…", lambda: session.export_table("csv"), None)
    w.act_json = act("Table as &JSON…", lambda: session.export_table("json"), None)
    w.act_md = act("Table as &Markdown…", lambda: session.export_table("markdown"), None)
    w.act_torch = act("&PyTorch code…", session.export_torch, None,
                      "The model with its edits as runnable PyTorch source (as netcost export-torch writes it)")
    w.act_help = act("NetCost &help", w.show_user_guide, K.HelpContents,
                     "The user guide: what each view shows and how to use it", fallback="F1")
    w.act_shortcuts = act("&Keyboard shortcuts", lambda: w._show_dialog("shortcuts"), "Ctrl+/",
                          "Every shortcut of the window, as bound now")
    w.act_conventions = act("&Conventions", lambda: w._show_dialog("conventions"), None,
                            "What each counting convention counts, with the formulas")
    w.act_about = act("&About NetCost", lambda: w._show_dialog("about"), None,
                      "NetCost's version and those of torch, Qt and Python")
    w.act_about.setMenuRole(QAction.MenuRole.AboutRole)


def _fill(menu: Any, actions: tuple[QAction | None, ...]) -> None:
    """Add `actions` to `menu` (a menu or a toolbar); None is a separator."""
    for act in actions:
        menu.addSeparator() if act is None else menu.addAction(act)


def build_menus(w: MainWindow, install_export_menu: Callable[..., None]) -> None:
    bar = w.menuBar()
    m = bar.addMenu("&File")
    m.addAction(w.act_new)
    m.addAction(w.act_open)
    w.recent_menu = m.addMenu("Open &Recent")
    w.zoo_menu = m.addMenu("Open &Built-in")
    for ref, description in zoo_entries():
        entry = w.zoo_menu.addAction(f"{ref[4:]} — {description}")
        entry.triggered.connect(lambda *_, r=ref: w.session.open_reference(r))
    w.session.add_library_entries(w.zoo_menu)
    m.addSeparator()
    m.addAction(w.act_save)
    m.addAction(w.act_save_as)
    w.export_menu = m.addMenu("&Export")
    w.export_menu.setObjectName("exportMenu")
    table_menu = w.export_menu.addMenu("&Table")
    _fill(table_menu, (w.act_csv, w.act_json, w.act_md))
    install_export_menu(w, w.export_menu, w.document)  # images: the report, the diagram, each chart
    w.export_menu.addAction(w.act_torch)
    m.addSeparator()
    m.addAction(w.act_quit)
    e = bar.addMenu("&Edit")
    _fill(e, (w.act_undo, w.act_redo, None, w.act_copy, w.act_paste, None, w.act_add))
    w.add_menu = e.addMenu("Add layer of &type")
    for category, names in supported_types().items():
        sub = w.add_menu.addMenu(category)
        for name in names:
            entry = sub.addAction(name)
            entry.triggered.connect(lambda *_, t=name: w.edits.add_layer(t))
    _fill(e, (w.act_duplicate, w.act_delete, None, w.act_move_up, w.act_move_down))
    mm = bar.addMenu("&Model")
    _fill(mm, (w.act_pin, w.act_clear_pin, None, w.act_rewrites, w.act_sweep, None, w.act_settings, None,
               w.act_cancel))
    w.conv_menu = mm.addMenu("Co&nvention")
    for key, conv in CONVENTIONS.items():
        entry = w.conv_menu.addAction(conv.label)
        entry.setCheckable(True)
        entry.setData(key)
        entry.setToolTip(conv.description)
        entry.triggered.connect(lambda *_, k=key: w.document.set_convention(k))
    v = bar.addMenu("&View")
    for dock in w.docks.values():
        v.addAction(dock.toggleViewAction())
    v.addSeparator()
    w.scheme_menu = v.addMenu("&Colour scheme")
    w.scheme_actions = {}
    group = QActionGroup(w)
    for key, text in SCHEMES.items():
        entry = w.scheme_menu.addAction(text)
        entry.setCheckable(True)
        entry.setData(key)
        group.addAction(entry)
        entry.triggered.connect(lambda *_, k=key: w.set_color_scheme(k))
        w.scheme_actions[key] = entry
    v.addSeparator()
    reset = v.addAction("Reset layout")
    reset.triggered.connect(w.reset_layout)
    w.help_menu = bar.addMenu("&Help")
    _fill(w.help_menu, (w.act_help, w.act_shortcuts, w.act_conventions, None, w.act_about))
    w.session.update_recent_menu()


def build_toolbar(w: MainWindow) -> None:
    tb = w.addToolBar("Main")
    tb.setObjectName("mainToolbar")
    # icons alone for the universal actions; words beside the ones no stock icon says clearly
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for act in (w.act_new, w.act_open, w.act_save, w.act_undo, w.act_redo, w.act_delete, w.act_move_up,
                w.act_move_down):
        act.setPriority(QAction.Priority.LowPriority)
    for act in (w.act_pin, w.act_settings):
        act.setIcon(QIcon())
    _fill(tb, (w.act_new, w.act_open, w.act_save, None, w.act_undo, w.act_redo, None))
    add_button = QToolButton(tb)
    add_button.setDefaultAction(w.act_add)
    add_button.setMenu(w.add_menu)
    add_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
    tb.addWidget(add_button)
    _fill(tb, (w.act_delete, w.act_move_up, w.act_move_down, None, w.act_pin, w.act_settings, None))
    # Inference | Training, with the optimizer, precision and batch beside it in Training mode (issue 21)
    w.training_controls = TrainingControls(TrainingState.of(w.document), tb)
    tb.addWidget(w.training_controls)
    w.toolbar = tb
