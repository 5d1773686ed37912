"""The open dialog: a file without an input shape does not inherit the previous file's, Return opens (it does not
press Browse…), classes are listed as the path is typed; the save dialog is titled by what it will write."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog

from netcost.costing import Network
from netcost.gui.app.main_window import MainWindow
from netcost.gui.app.open_model_dialog import OpenModelDialog
from netcost.model_io.files.zoo import load_model_graph

WITH_SHAPE = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        return self.conv(x)


def example_input():
    return torch.randn(1, 3, 32, 32)
'''
WITHOUT_SHAPE = WITH_SHAPE.split("\n\ndef example_input")[0] + "\n"


def _dialog(qtbot, folder: Path) -> OpenModelDialog:
    dialog = OpenModelDialog(None, str(folder))
    qtbot.addWidget(dialog)
    return dialog


def test_a_file_without_a_shape_does_not_keep_the_previous_files(qtbot, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(WITH_SHAPE)
    (tmp_path / "b.py").write_text(WITHOUT_SHAPE)
    dialog = _dialog(qtbot, tmp_path)
    dialog.set_file(str(tmp_path / "a.py"))
    assert dialog.inputs.text() == "1, 3, 32, 32"
    assert dialog.input_source.text() == "Input from a.py's example_input"
    dialog.set_file(str(tmp_path / "b.py"))
    assert dialog.inputs.text() == "" and dialog.selection()[1].inputs == ()
    assert "the model's own default" in dialog.input_source.text()
    dialog.set_file(str(tmp_path / "a.py"))
    dialog.set_file(str(tmp_path / "model.onnx"))  # a model file: its own input, not a.py's
    assert dialog.inputs.text() == ""


def test_return_after_tab_opens_and_does_not_browse(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    browsed: list[str] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (browsed.append("x"), ("", ""))[1])
    dialog = _dialog(qtbot, tmp_path)
    dialog.show()
    dialog.zoo_list.setCurrentRow(0)
    dialog.browse_button.setFocus()  # where Tab from the path field lands
    qtbot.keyClick(dialog.browse_button, Qt.Key.Key_Return)
    assert browsed == [] and dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.ok_button.isDefault() and not dialog.browse_button.autoDefault()


def test_classes_are_listed_as_the_path_is_typed(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text(WITH_SHAPE)
    dialog = _dialog(qtbot, tmp_path)
    dialog.show()
    dialog.file_edit.setFocus()
    qtbot.keyClicks(dialog.file_edit, str(path))  # typed, focus never leaves the field
    qtbot.waitUntil(lambda: dialog.class_list.count() == 1)
    assert dialog.reference.text() == f"{path}:Net" and dialog.file_edit.text() == str(path)
    qtbot.keyClicks(dialog.file_edit, "x")  # no such file: the list stays as it was, nothing said yet
    qtbot.wait(400)
    assert dialog.class_list.count() == 1 and dialog.message.text() == ""


def test_save_dialog_title_names_what_it_writes(qtbot, tmp_path: Path, alexnet: Network) -> None:
    w = MainWindow(autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(w)
    titles: list[str] = []
    w.ask_save_path = lambda title, *_: (titles.append(title), "")[1]  # type: ignore[method-assign]
    w.document.set_graph(load_model_graph("inception_naive"))  # four branches: written as a graph
    w.save_as()
    w.document.set_network(alexnet)
    w.save_as()
    assert titles == ["Save graph", "Save layer list"]
    w.document.undo_stack.setClean()
    w.close()
