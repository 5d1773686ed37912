"""The window's Inference | Training switch (issue 21): the toolbar's switch and boxes, the layer table's training
columns, the Totals panel's memory bar and "fits on DEVICE", checked against `netcost train --format json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from netcost.costing import Network
from netcost.costing import formatting as fmt
from netcost.gui.document.training_state import Mode, TrainingState
from netcost.gui.table.layer_table_model import BACKWARD_FLOPS, SAVED_ACTIVATIONS
from netcost.model_io.cli.cli import main

from tests.gui.conftest import opened_window


def train_json(capsys: pytest.CaptureFixture[str], *options: str) -> dict:
    assert main(["train", "zoo:alexnet", "--format", "json", *options]) == 0
    return json.loads(capsys.readouterr().out)


def test_switching_to_training_adds_the_columns_with_the_cli_numbers(qtbot, tmp_path: Path, alexnet: Network,
                                                                     monkeypatch, capsys) -> None:
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=()) as w:
        table, model = w.table, w.table.model()
        assert table.isColumnHidden(BACKWARD_FLOPS) and table.isColumnHidden(SAVED_ACTIVATIONS)
        controls = w.training_controls
        assert not controls.settings.isVisibleTo(w)  # optimizer, precision and batch only in Training mode
        controls.mode_buttons[Mode.TRAINING].click()
        assert not table.isColumnHidden(BACKWARD_FLOPS) and not table.isColumnHidden(SAVED_ACTIVATIONS)
        assert controls.settings.isVisibleTo(w)
        controls.optimizer.setCurrentText("sgd")
        controls.precision.setCurrentText("bf16-mixed")
        rows = train_json(capsys, "--optimizer", "sgd", "--precision", "bf16-mixed")["layers"]
        assert len(rows) == w.document.row_count()
        for r, row in enumerate(rows):
            saved = model.index(r, SAVED_ACTIVATIONS)
            assert saved.data() == fmt.nbytes(row["saved_activation_bytes"])
            assert saved.data(Qt.ItemDataRole.UserRole) == row["saved_activation_bytes"]
            tip = model.index(r, BACKWARD_FLOPS).data(Qt.ItemDataRole.ToolTipRole)
            assert f"backward MACs {fmt.grouped(row['backward_macs'])}" in tip
        controls.mode_buttons[Mode.INFERENCE].click()
        assert table.isColumnHidden(BACKWARD_FLOPS)


def test_the_totals_bar_equals_the_cli_totals(qtbot, tmp_path: Path, alexnet: Network, monkeypatch,
                                              capsys) -> None:
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=("Training",)) as w:
        section = w.totals.training
        assert not section.isVisibleTo(w)
        state = TrainingState.of(w.document)
        state.set_mode(Mode.TRAINING)
        state.set_device("t4")
        assert section.isVisibleTo(w)
        cli = train_json(capsys, "--device", "t4")["totals"]["training"]
        assert section.bar.parts == {"weights": cli["param_bytes"], "gradients": cli["grad_bytes"],
                                     "optimizer": cli["optimizer_bytes"], "activations": cli["saved_activation_bytes"]}
        assert section.values["peak"].text() == fmt.nbytes(cli["peak_bytes"])
        assert section.fits.text() == f"fits on t4 up to batch {cli['max_batch']:,}"
        tab = w.views["training"]  # one state: the Training tab shows the toolbar's settings
        w.training_controls.optimizer.setCurrentText("momentum")
        assert tab.optimizer.currentText() == "momentum"
        assert section.bar.parts["optimizer"] == train_json(capsys, "--optimizer", "momentum")["totals"][
            "training"]["optimizer_bytes"]


def test_the_mode_is_remembered(qtbot, tmp_path: Path, alexnet: Network, monkeypatch) -> None:
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=()) as w:
        w.training_controls.mode_buttons[Mode.TRAINING].click()
        w.training_controls.optimizer.setCurrentText("adafactor")
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=()) as w:
        assert w.training_controls.mode_buttons[Mode.TRAINING].isChecked()
        assert w.training_controls.optimizer.currentText() == "adafactor"
        assert not w.table.isColumnHidden(SAVED_ACTIVATIONS)
