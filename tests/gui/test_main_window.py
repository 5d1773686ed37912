"""MainWindow: title and modified mark, actions through the document, prompts, files, settings, view slots."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from netcost.costing import Network
from netcost.gui.app import view_slots
from netcost.gui.app.main_window import MainWindow
from netcost.gui.table.layer_table_model import ARGS, ERROR_ROLE
from tests.gui.conftest import open_file, opened_window


@pytest.fixture(autouse=True)
def no_plugin_views(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """The diagram and charts belong to other modules (tested there); these tests check the window itself.
    `test_plugin_views_build` plugs the real ones in."""
    if "plugin" not in request.node.name:
        import netcost.gui.app.main_window as mw

        monkeypatch.setattr(mw, "VIEW_FACTORIES", [])


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet: Network) -> Iterator[MainWindow]:
    with opened_window(qtbot, tmp_path, alexnet) as w:
        yield w

def test_title_and_modified_mark(window: MainWindow) -> None:
    assert window.windowTitle().startswith("AlexNet (article)[*]")
    assert not window.isWindowModified()
    window.document.set_layer_arg(0, "out_channels", 64)
    assert window.isWindowModified()
    window.act_undo.trigger()
    assert not window.isWindowModified()  # clean state follows the undo stack


def test_status_bar_live_totals(window: MainWindow) -> None:
    assert "61.3 M params" in window.totals_label.text() and "FLOPs" in window.totals_label.text()
    window.document.set_layer_arg(15, "out_features", 1024)
    assert "61.3 M params" not in window.totals_label.text()
    window.document.set_convention("macs")
    assert "FLOPs" not in window.totals_label.text()


def test_cell_edit_updates_totals_and_shows_invalid(window: MainWindow) -> None:
    model = window.table.table_model
    params_before = window.totals.values["params"].text()
    model.setData(model.index(0, ARGS), "out_channels=48, kernel_size=11, stride=4, padding=2, bias=False")
    assert window.totals.values["params"].text() != params_before
    shown = window.totals.values["params"].text()
    model.setData(model.index(3, ARGS), "out_channels=192, kernel_size=5, groups=5")
    # the totals leave out what cannot be costed, and say so: never the old numbers as if current
    assert window.totals.values["params"].text() != shown and window.totals.incomplete.isVisible()
    assert "rows not costed (from conv2)" in window.totals.incomplete.text()
    assert "groups" in window.error_label.text()
    assert model.data(model.index(3, ARGS), ERROR_ROLE)
    assert window.document.undo_stack.count() == 2
    window.act_undo.trigger()
    assert window.error_label.text() == "" and not window.totals.incomplete.isVisible()
    assert window.totals.values["params"].text() == shown


def test_edit_actions(window: MainWindow) -> None:
    doc = window.document
    n = doc.row_count()
    doc.selection.set_rows([1])
    window.act_add.trigger()
    assert doc.row_count() == n + 1 and doc.spec(2).type == "ReLU" and doc.selection.rows == [2]
    window.act_duplicate.trigger()
    assert doc.row_count() == n + 2
    doc.selection.set_rows([2, 3])
    window.act_delete.trigger()  # multi-row delete: one step
    assert doc.row_count() == n and doc.spec(2).type == "MaxPool2d"
    doc.selection.set_rows([2])
    window.act_move_up.trigger()
    assert doc.spec(1).type == "MaxPool2d" and doc.selection.rows == [1]
    window.act_move_down.trigger()
    assert doc.spec(2).type == "MaxPool2d"
    window.add_layer("Linear")
    assert doc.spec(3).type == "Linear" and doc.spec(3).args == {"out_features": 64}


def test_copy_paste_is_one_step(window: MainWindow) -> None:
    doc = window.document
    doc.selection.set_rows([0, 1])
    window.act_copy.trigger()
    assert json.loads(QApplication.clipboard().text())["layers"][0]["type"] == "Conv2d"
    count = doc.undo_stack.count()
    window.act_paste.trigger()
    assert doc.undo_stack.count() == count + 1 and doc.spec(2).type == "Conv2d"
    QApplication.clipboard().setText("not layers")
    window.act_paste.trigger()
    assert window.message_bar.isVisible() and "Cannot paste" in window.message_bar.text.text()


def test_pin_baseline_shows_deltas(window: MainWindow) -> None:
    window.act_pin.trigger()
    assert window.totals.baseline_bar.isVisible()
    window.document.set_layer_arg(15, "out_features", 2048)
    delta = window.totals.deltas["params"].text()
    assert delta.startswith("-") and "%" in delta
    window.act_clear_pin.trigger()
    assert window.totals.deltas["params"].text() == ""


def test_unsaved_prompt_on_close_and_new(window: MainWindow) -> None:
    window.document.rename_layer(0, "changed")
    asked: list[int] = []

    def cancel() -> str:
        asked.append(1)
        return "cancel"

    window.ask_unsaved = cancel  # type: ignore[method-assign]
    assert not window.close() and window.isVisible()
    assert not window.new_document() and window.document.spec(0).name == "changed"
    assert not window.open_reference("zoo:conv3x3")
    assert len(asked) == 3
    window.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    assert window.new_document() and window.document.row_count() == 0
    assert window.empty_hint.isVisible() and not window.table.isVisible()


def test_save_open_round_trip_and_recent(qtbot, window: MainWindow, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "mine.json"
    window.ask_save_path = lambda *a: str(path)  # type: ignore[method-assign]
    window.document.set_layer_arg(0, "out_channels", 64)
    assert window.save() and path.is_file()
    assert window.windowTitle().startswith("mine.json") and not window.isWindowModified()
    assert window.new_document()
    assert open_file(qtbot, window, path)
    assert window.document.report.layers[0].args["out_channels"] == 64
    assert window.recent.entries()[0] == str(path.resolve())
    assert QSettings().value("lastFolder") == str(tmp_path.resolve())


def test_bad_project_file_keeps_document(qtbot, window: MainWindow, tmp_path: Path) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    before = window.document.network
    assert not open_file(qtbot, window, bad)
    assert window.document.network == before
    assert window.message_bar.isVisible() and "not valid JSON" in window.message_bar.text.text()


def test_export_table(window: MainWindow, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    window.ask_save_path = lambda *a: str(out)  # type: ignore[method-assign]
    assert window.export_table("csv")
    assert out.read_text().startswith("name,type")
    md = tmp_path / "t.md"
    window.ask_save_path = lambda *a: str(md)  # type: ignore[method-assign]
    assert window.export_table("markdown") and "| conv1 |" in md.read_text()


def test_drop_file_opens_it(qtbot, window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "dropped.json"
    window.document.save_file(path)
    window.new_document()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.document.row_count() == 21)


def test_settings_dialog_applies_one_step(qtbot, window: MainWindow) -> None:
    dialog = window.settings_dialog()
    dialog.batch.setValue(8)
    dialog.dtype.setCurrentText("float16")
    dialog.convention.setCurrentIndex(1)  # MACs
    dialog.accept()
    doc = window.document
    assert doc.network.batch_size == 8 and doc.network.dtype == "float16" and doc.convention == "macs"
    assert doc.undo_stack.count() == 1
    assert "(float16)" in window.totals_label.text()
    assert window.table.model().headerData(6, Qt.Orientation.Horizontal) == "MACs"


def test_geometry_and_dock_state_persist(qtbot, tmp_path: Path) -> None:
    first = MainWindow(autosave_dir=tmp_path / "r")
    qtbot.addWidget(first)
    first.show()
    first.resize(700, 500)
    first.docks["totals"].hide()
    first.close()
    second = MainWindow(autosave_dir=tmp_path / "r")
    qtbot.addWidget(second)
    second.show()
    assert second.size().width() == 700 and not second.docks["totals"].isVisible()
    second.close()


def test_editor_edits_are_undoable(window: MainWindow) -> None:
    doc = window.document
    doc.selection.set_rows([0])
    field = window.editor._fields["out_channels"][0]
    field.spin.setValue(32)  # type: ignore[attr-defined]
    assert doc.spec(0).args["out_channels"] == 32 and doc.undo_stack.count() == 1
    assert "inferred" in window.editor._fields["in_channels"][1].text()
    window.act_undo.trigger()
    assert doc.spec(0).args["out_channels"] == 96 and doc.selection.rows == [0]
    assert window.editor._fields["out_channels"][0].spin.value() == 96  # type: ignore[attr-defined]


def test_a_loaded_model_is_editable(window: MainWindow, alexnet: Network) -> None:
    from dataclasses import replace

    from netcost.costing import evaluate_graph, graph_from_network

    # a traced model's report, as the loader hands it: its graph says where it came from
    window.document.set_report(evaluate_graph(replace(graph_from_network(alexnet), source={"kind": "torch"})))
    assert window.act_add.isEnabled() and "(read-only)" not in window.windowTitle()
    params = window.document.report.totals.params
    window.document.set_layer_arg(0, "out_channels", 48)
    assert window.document.report.totals.params < params and window.act_save.isEnabled()

def test_plugin_views_build(qtbot, tmp_path: Path, alexnet: Network) -> None:
    from netcost.gui.document.cost_document import CostDocument

    w = MainWindow(CostDocument(alexnet), autosave_dir=tmp_path / "r")
    qtbot.addWidget(w)
    for title, view_class in view_slots.VIEW_FACTORIES:
        assert type(w.views[title.lower()]) is view_class  # the real view, never a placeholder
    w.document.set_layer_arg(0, "out_channels", 64)  # every plugged view follows an edit without raising
    w.document.undo_stack.setClean()
    w.close()


def test_a_broken_view_fails_loudly(qtbot, monkeypatch, tmp_path: Path) -> None:
    """A core view that cannot be built stops the window (and its tests) instead of hiding behind a placeholder."""
    class Broken(QWidget):
        def __init__(self, document: object, parent: QWidget) -> None:
            raise RuntimeError("broken view")

    import netcost.gui.app.main_window as mw

    monkeypatch.setattr(mw, "VIEW_FACTORIES", [("Broken", Broken)])
    with pytest.raises(RuntimeError, match="broken view"):
        MainWindow(autosave_dir=tmp_path / "r")


def test_no_leaked_windows(qtbot, tmp_path: Path) -> None:
    w = MainWindow(autosave_dir=tmp_path / "r")
    w.show()
    w.settings_dialog().reject()
    w.close()
    w.deleteLater()
    qtbot.wait(10)
    visible = [t for t in QApplication.topLevelWidgets() if t.isVisible() and isinstance(t, QWidget)]
    assert visible == []


def test_every_listed_action_has_a_shortcut(window: MainWindow) -> None:
    w = window
    expected = {w.act_new: "Ctrl+N", w.act_open: "Ctrl+O", w.act_save: "Ctrl+S", w.act_save_as: "Ctrl+Shift+S",
                w.act_undo: "Ctrl+Z", w.act_add: "Ctrl+Shift+A", w.act_duplicate: "Ctrl+D", w.act_delete: "Del",
                w.act_move_up: "Ctrl+Up", w.act_move_down: "Ctrl+Down", w.act_pin: "Ctrl+B",
                w.act_settings: "Ctrl+,", w.act_quit: "Ctrl+Q"}
    for act, key in expected.items():
        assert act.shortcut().toString() == key, act.text()
        assert f"({key})" in act.toolTip() or act is w.act_delete, act.text()  # Del reads "Del" natively too
    redo = [k.toString() for k in w.act_redo.shortcuts()]
    assert "Ctrl+Y" in redo and "Ctrl+Shift+Z" in redo
    assert "Ins" in [k.toString() for k in w.act_add.shortcuts()]
    w.document.rename_layer(0, "x")
    assert w.act_undo.toolTip() == "Undo Rename conv1 (Ctrl+Z)"  # follows the stack's text, keeps the shortcut


def test_keyboard_drives_the_table(qtbot, window: MainWindow) -> None:
    from PySide6.QtTest import QTest

    doc = window.document
    window.activateWindow()
    window.table.setFocus()
    doc.selection.set_rows([2])  # MaxPool2d
    QTest.keyClick(window.table, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert doc.spec(3).type == "MaxPool2d" and doc.selection.rows == [3]
    QTest.keyClick(window.table, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert doc.spec(2).type == "MaxPool2d"
    QTest.keyClick(window.table, Qt.Key.Key_Delete)
    assert doc.spec(2).type == "Conv2d" and doc.row_count() == 20
    QTest.keyClick(window.table, Qt.Key.Key_Insert)
    assert doc.row_count() == 21 and doc.selection.rows == [3]
    QTest.keyClick(window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.row_count() == 20
    QTest.keyClick(window.table, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialogs = [c for c in window.findChildren(QWidget, "settingsDialog") if c.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].reject()


def test_non_contiguous_keyboard_move_says_why(window: MainWindow) -> None:
    doc = window.document
    doc.selection.set_rows([1, 3])
    window.act_move_down.trigger()
    assert doc.undo_stack.count() == 0 and "drag" in window.statusBar().currentMessage()


def test_editor_refreshes_once_per_edit(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    doc, editor = window.document, window.editor
    doc.selection.set_rows([3])
    calls: list[int] = []
    original = editor.refresh
    monkeypatch.setattr(editor, "refresh", lambda: (calls.append(1), original()))
    for edit in (lambda: doc.set_layer_arg(3, "out_channels", 200), lambda: doc.rename_layer(3, "c2"),
                 lambda: doc.set_layer_arg(3, "groups", 7), doc.undo_stack.undo, doc.undo_stack.undo):
        calls.clear()
        edit()
        QApplication.processEvents()
        assert len(calls) == 1
    assert editor.title.text() == "Layer 3: conv2" and not editor.error_label.isVisible()  # rename undone too
    # an invalid value replaced by another with the same message: no report or error signal follows; the
    # editor still shows it (after the deferred refresh)
    doc.set_layer_arg(3, "groups", 7)
    doc.set_layer_arg(3, "out_channels", 203)
    QApplication.processEvents()
    assert editor._fields["out_channels"][0].spin.value() == 203  # type: ignore[attr-defined]
    assert "groups" in editor.error_label.text()


def test_open_recent_missing_file_is_removed(window: MainWindow, tmp_path: Path) -> None:
    gone = str(tmp_path / "gone.json")
    window.recent.add(gone)
    window.recent.add("zoo:conv3x3")
    window.recent_menu.actions()[1].trigger()  # the menu entry of gone.json
    assert window.recent.entries() == ["zoo:conv3x3"]
    assert "no longer exists" in window.message_bar.text.text()
    assert [a.text() for a in window.recent_menu.actions() if not a.isSeparator()] == ["zoo:conv3x3", "Clear list"]


def test_settings_of_a_traced_model_without_source_say_so(window: MainWindow, alexnet: Network) -> None:
    from dataclasses import replace

    from netcost.costing import evaluate_graph, graph_from_network

    # a traced model's report, as the loader hands it: its graph says where it came from
    window.document.set_report(evaluate_graph(replace(graph_from_network(alexnet), source={"kind": "torch"})))
    dialog = window.settings_dialog()
    assert not dialog.batch.isEnabled() and not dialog.dtype.isEnabled() and dialog.convention.isEnabled()
    assert "only the convention" in dialog.note.text() and not dialog.note.isHidden()
    dialog.convention.setCurrentIndex(1)
    dialog.accept()
    assert window.document.convention == "macs" and not window.loader.busy


def test_invalid_edit_is_not_hidden_behind_a_status_note(window: MainWindow) -> None:
    window.statusBar().showMessage("Loaded zoo:alexnet", 4000)
    window.document.set_layer_arg(3, "groups", 7)
    assert window.statusBar().currentMessage() == "" and "groups" in window.error_label.text()
    assert window.error_label.isVisible()


def _gnome_keys(key):  # noqa: ANN001, ANN202 - GNOME's and KDE's bindings (Qt's table): Delete is Del and Ctrl+D
    from PySide6.QtGui import QKeySequence

    extra = {QKeySequence.StandardKey.Delete: [QKeySequence("Del"), QKeySequence("Ctrl+D")]}
    return extra.get(key, list(QKeySequence.keyBindings(key)))


def test_every_shortcut_triggers_one_action_with_the_real_views(qtbot, tmp_path: Path, alexnet: Network,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Qt fires none of the actions that share a sequence ("Ambiguous shortcut overload: Ctrl+D"): across the
    whole window, with the plugged-in views' actions and shortcuts too, each sequence belongs to one action."""
    from PySide6.QtGui import QAction, QShortcut
    from PySide6.QtTest import QTest

    import netcost.gui.app.window_actions as wa

    monkeypatch.setattr(wa, "platform_keys", _gnome_keys)
    w = MainWindow(autosave_dir=tmp_path / "r")
    qtbot.addWidget(w)
    w.document.set_network(alexnet)
    owners: dict[str, list[str]] = {}
    for act in w.findChildren(QAction):
        for key in act.shortcuts():
            owners.setdefault(key.toString(), []).append(act.text())
    for sc in w.findChildren(QShortcut):
        owners.setdefault(sc.key().toString(), []).append(f"shortcut {sc.objectName()}")
    assert owners.get("Ctrl+D") == ["D&uplicate"]
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w)
    w.table.setFocus()
    w.document.selection.set_rows([2])
    QTest.keyClick(w.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert w.document.row_count() == 22 and w.document.spec(3).type == "MaxPool2d"  # duplicated, not deleted
    w.document.undo_stack.setClean()
    w.close()


def test_totals_delta_column_is_never_cut(qtbot, window: MainWindow) -> None:
    """With a baseline pinned the deltas and the category shares widen ("69.5 %  (-22.3 pp)"): the panel keeps
    room for all of them, even when the dock is dragged narrower or a scroll bar appears."""
    from PySide6.QtWidgets import QScrollArea

    doc = window.document
    doc.pin_baseline()
    doc.set_layer_arg(15, "out_features", 9000)  # fc1 more than doubles: every figure moves, shares by tens of pp
    area = window.docks["totals"].widget()
    assert isinstance(area, QScrollArea)
    def cut() -> list[tuple[str, int, int]]:
        """The shown cells whose text is cut: narrower than the text, or reaching past the viewport."""
        viewport = area.viewport()
        cells = [*window.totals.deltas.values(), *window.totals.split_heads,
                 *(c for cells in window.totals.split_rows.values() for c in cells)]
        out = []
        for cell in (c for c in cells if c.isVisible() and c.text()):
            right = cell.mapTo(viewport, cell.rect().topRight()).x()
            if cell.width() < cell.fontMetrics().horizontalAdvance(cell.text()) or right > viewport.width():
                out.append((cell.text(), right, viewport.width()))
        return out

    for width in (None, 240):
        if width is not None:
            window.resizeDocks([window.docks["totals"]], [width], Qt.Orientation.Horizontal)
        # the panel and the dock relayout in the next passes of the event loop; then nothing may be cut
        with contextlib.suppress(qtbot.TimeoutError):
            qtbot.waitUntil(lambda: not cut(), timeout=3000)
        shown = [c for c in window.totals.deltas.values() if c.isVisible() and c.text()]
        assert any("%" in c.text() for c in shown)
        assert any("pp" in c.text() for cells in window.totals.split_rows.values() for c in cells if c.isVisible())
        assert cut() == []


def test_plugin_views_follow_the_chosen_colour_scheme(qtbot, tmp_path: Path, alexnet: Network) -> None:
    """View ▸ Colour scheme: dark or light whatever the system says, remembered; the window, the table, the
    charts, the diagram and the totals all switch (named "plugin" so the real views are plugged in)."""
    from PySide6.QtGui import QPalette

    from netcost.gui.common.color_scheme import current_scheme

    def lightness(widget: QWidget, role: QPalette.ColorRole = QPalette.ColorRole.Window) -> int:
        return widget.palette().color(role).lightness()

    w = MainWindow(autosave_dir=tmp_path / "r")
    qtbot.addWidget(w)
    w.document.set_network(alexnet)
    w.document.pin_baseline()
    w.document.set_layer_arg(15, "out_features", 9000)  # the totals show red (grown) deltas
    w.show()
    charts, diagram = w.views["charts"], w.views["diagram"]
    try:
        assert [a.data() for a in w.scheme_menu.actions()] == ["system", "light", "dark"]
        assert w.scheme_actions["system"].isChecked()
        w.scheme_actions["dark"].trigger()
        qtbot.waitUntil(lambda: lightness(w) < 100)  # the new palette reaches the widgets through the event loop
        assert lightness(w.table.viewport(), QPalette.ColorRole.Base) < 100
        assert lightness(w.table, QPalette.ColorRole.Text) > 180
        assert all(chart.theme.dark for chart in charts.charts.values())
        assert diagram.scene.theme.dark
        assert "#ef7070" in w.totals.deltas["params"].styleSheet()  # the red that reads on a dark ground
        shot = w.grab().toImage()
        assert shot.pixelColor(shot.width() // 2, shot.height() - 5).lightness() < 100  # drawn dark, not just set
        again = MainWindow(autosave_dir=tmp_path / "r2")  # remembered
        qtbot.addWidget(again)
        assert again.scheme_actions["dark"].isChecked() and current_scheme() == "dark"
        w.scheme_actions["light"].trigger()
        qtbot.waitUntil(lambda: lightness(w) > 180)
        assert not any(chart.theme.dark for chart in charts.charts.values())
        assert not diagram.scene.theme.dark and "#d32f2f" in w.totals.deltas["params"].styleSheet()
    finally:
        w.set_color_scheme("system")  # the palette is the application's: leave it as other tests expect
        w.document.undo_stack.setClean()
    assert current_scheme() == "system"


def test_plugin_views_dock_tabs_show_one_bar_per_group(qtbot, tmp_path: Path, alexnet: Network) -> None:
    """Qt leaves a stale copy of the second tabbed group's bar ("Diagram | Charts") painted over the docks: the
    window hides it, on show and after Reset layout."""
    from PySide6.QtWidgets import QTabBar

    w = MainWindow(autosave_dir=tmp_path / "recovery")
    w.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    qtbot.addWidget(w)
    w.document.set_network(alexnet)
    w.resize(1280, 800)
    w.show()

    def shown_bars() -> list[list[str]]:
        return sorted([b.tabText(i) for i in range(b.count())] for b in w.findChildren(QTabBar)
                      if b.parentWidget() is w and b.isVisible())

    groups = [["Diagram", "Charts", "Latency", "Compare", "Sweep", "Training"], ["Layer", "Modules", "Rewrites"]]
    qtbot.waitUntil(lambda: shown_bars() == groups)
    w.reset_layout()
    qtbot.waitUntil(lambda: shown_bars() == groups)
    w.docks["compare"].raise_()
    qtbot.wait(20)
    assert shown_bars() == groups
    w.close()
