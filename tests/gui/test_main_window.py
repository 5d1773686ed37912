"""MainWindow: title and modified mark, actions through the document, prompts, files, settings, view slots."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from costing import Network
from gui import view_slots
from gui.layer_table_model import ARGS, ERROR_ROLE
from gui.main_window import MainWindow


@pytest.fixture(autouse=True)
def no_plugin_views(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """The diagram and charts belong to other modules (tested there); these tests check the window itself.
    `test_plugin_views_build` plugs the real ones in."""
    if "plugin" not in request.node.name:
        import gui.main_window as mw

        monkeypatch.setattr(mw, "VIEW_FACTORIES", [])


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet: Network) -> Iterator[MainWindow]:
    w = MainWindow(autosave_dir=tmp_path / "recovery")
    w.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    qtbot.addWidget(w)
    w.document.set_network(alexnet)
    w.show()
    yield w
    w.document.undo_stack.setClean()
    w.close()


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
    assert window.totals.values["params"].text() == shown  # last valid totals
    assert "groups" in window.error_label.text()
    assert model.data(model.index(3, ARGS), ERROR_ROLE)
    assert window.document.undo_stack.count() == 2
    window.act_undo.trigger()
    assert window.error_label.text() == ""


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


def test_save_open_round_trip_and_recent(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    window.ask_save_path = lambda *a: str(path)  # type: ignore[method-assign]
    window.document.set_layer_arg(0, "out_channels", 64)
    assert window.save() and path.is_file()
    assert window.windowTitle().startswith("mine.json") and not window.isWindowModified()
    assert window.new_document()
    assert window.open_reference(str(path))
    assert window.document.report.layers[0].args["out_channels"] == 64
    assert window.recent.entries()[0] == str(path.resolve())
    assert QSettings().value("lastFolder") == str(tmp_path.resolve())


def test_bad_project_file_keeps_document(window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    before = window.document.network
    assert not window.open_reference(str(bad))
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


def test_read_only_model_banner_and_convert(window: MainWindow, alexnet: Network) -> None:
    from dataclasses import replace

    from costing import evaluate

    window.document.set_report(replace(evaluate(alexnet), source="torch"))
    assert window.read_only_bar.isVisible() and window.convert_button.isVisible()
    assert not window.act_add.isEnabled() and "(read-only)" in window.windowTitle()
    window.convert_button.click()
    assert not window.document.read_only and window.act_add.isEnabled()
    assert not window.read_only_bar.isVisible()


def test_plugin_views_build(qtbot, tmp_path: Path, alexnet: Network) -> None:
    from gui.cost_document import CostDocument

    w = MainWindow(CostDocument(alexnet), autosave_dir=tmp_path / "r")
    qtbot.addWidget(w)
    for title, module, _ in view_slots.VIEW_FACTORIES:
        widget = w.views[title.lower()]
        available = view_slots.load_attr(module, _) is not None
        assert isinstance(widget, QWidget) and (available or isinstance(widget, QLabel))
    w.document.set_layer_arg(0, "out_channels", 64)  # every plugged view follows an edit without raising
    w.document.undo_stack.setClean()
    w.close()


def test_missing_view_module_gets_placeholder(qtbot, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(view_slots, "VIEW_FACTORIES", [("Nothing", "gui.no_such_view", "NoSuchView")])
    import gui.main_window as mw

    monkeypatch.setattr(mw, "VIEW_FACTORIES", view_slots.VIEW_FACTORIES)
    w = MainWindow(autosave_dir=tmp_path / "r")
    qtbot.addWidget(w)
    assert isinstance(w.views["nothing"], QLabel) and "not available" in w.views["nothing"].text()


def test_no_leaked_windows(qtbot, tmp_path: Path) -> None:
    w = MainWindow(autosave_dir=tmp_path / "r")
    w.show()
    w.settings_dialog().reject()
    w.close()
    w.deleteLater()
    qtbot.wait(10)
    visible = [t for t in QApplication.topLevelWidgets() if t.isVisible() and isinstance(t, QWidget)]
    assert visible == []
