"""The window's Inference | Training switch (issue 21): the toolbar's switch and boxes, the layer table's training
columns, the Totals panel's memory bar and "fits on DEVICE", checked against `netcost train --format json`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

from netcost.costing import Network
from netcost.costing import formatting as fmt
from netcost.costing.chain import graph_from_network
from netcost.costing.graph import Scope
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


def _menu_action(menu, prefix: str):  # noqa: ANN001, ANN202
    return next(a for a in menu.actions() if a.text().startswith(prefix))


def right_click(qtbot, widget, pos, monkeypatch):  # noqa: ANN001, ANN201
    """The context menu a right click at `pos` opens (read instead of shown modal)."""
    import netcost.gui.document.training_scope_menu as scope_menu

    shown: list = []
    monkeypatch.setattr(scope_menu, "popup", lambda menu, _at: shown.append(menu))
    QApplication.sendEvent(widget, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, widget.mapToGlobal(pos)))
    assert shown, "no context menu"
    return shown[-1]


def test_freeze_from_the_diagram_is_one_undo_step_as_the_cli(qtbot, tmp_path: Path, alexnet: Network, monkeypatch,
                                                             capsys) -> None:
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=("Diagram",)) as w:
        state = TrainingState.of(w.document)
        state.set_mode(Mode.TRAINING)
        diagram = w.views["diagram"]
        qtbot.wait(10)  # the window installs the views' context menus, and fits the diagram, once they are built
        row = next(r for r in range(w.document.row_count()) if w.document.node(r).display_name == "fc1")
        diagram.view.show_row(row)
        block = diagram.scene.block(row)
        pos = diagram.view.mapFromScene(block.mapToScene(block.block_rect().center()))
        menu = right_click(qtbot, diagram.view.viewport(), pos, monkeypatch)
        assert _menu_action(menu, "Export diagram")  # the window's own entry stays, after the scope's
        freeze = _menu_action(menu, "Freeze fc1 for training")
        assert "gradients and states −" in freeze.text()  # its effect, before it is applied
        steps = w.document.undo_stack.count()
        bar = w.totals.training.bar
        before = dict(bar.parts)
        freeze.trigger()
        assert w.document.undo_stack.count() == steps + 1
        frozen = train_json(capsys, "--freeze", "fc1")["totals"]["training"]
        assert (bar.parts["gradients"], bar.parts["optimizer"]) == (frozen["grad_bytes"], frozen["optimizer_bytes"])
        assert block.mark  # the frozen block is marked on the diagram
        assert _menu_action(right_click(qtbot, diagram.view.viewport(), pos, monkeypatch), "Unfreeze fc1")
        w.document.undo_stack.undo()
        assert bar.parts == before and not block.mark


def test_checkpoint_from_the_modules_tree(qtbot, tmp_path: Path, alexnet: Network, monkeypatch, capsys) -> None:
    import netcost.gui.document.training_scope_menu as scope_menu

    shown: list = []
    monkeypatch.setattr(scope_menu, "popup", lambda menu, _at: shown.append(menu))  # read, not shown modal
    graph = graph_from_network(alexnet)  # AlexNet with its torchvision scopes: features, then the classifier
    nodes = tuple(replace(n, scope="classifier" if i >= 14 else "features") for i, n in enumerate(graph.nodes))
    graph = replace(graph, nodes=nodes, scopes=(Scope("", "AlexNet"), Scope("features", "Sequential"),
                                                Scope("classifier", "Sequential")))
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=()) as w:
        w.document.set_graph(graph)
        w.document.save_file(tmp_path / "alexnet.json")  # what the CLI reads
        state = TrainingState.of(w.document)
        state.set_mode(Mode.TRAINING)
        tree = w.hierarchy.tree

        def features() -> list:
            return tree.findItems("features", Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)

        qtbot.waitUntil(lambda: len(features()) == 1)  # a new model's tree is made in the pass after it shows
        (item,) = features()
        tree.customContextMenuRequested.emit(tree.visualItemRect(item).center())
        _menu_action(shown[-1], "Checkpoint features").trigger()
        assert main(["train", str(tmp_path / "alexnet.json"), "--checkpoint", "features", "--format", "json"]) == 0
        cli = json.loads(capsys.readouterr().out)["totals"]["training"]
        assert w.totals.training.bar.parts["activations"] == cli["saved_activation_bytes"]
        w.document.undo_stack.undo()
        assert state.scopes == {k: () for k in state.scopes}


def test_training_metrics_colour_the_diagram_in_training_mode(qtbot, tmp_path: Path, alexnet: Network,
                                                              monkeypatch, capsys) -> None:
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=("Diagram",)) as w:
        diagram = w.views["diagram"]
        box = diagram.metric_box
        keys = ("backward_flops", "saved_activations", "training_memory")
        assert all(box.view().isRowHidden(box.findData(k)) for k in keys)
        TrainingState.of(w.document).set_mode(Mode.TRAINING)
        assert not any(box.view().isRowHidden(box.findData(k)) for k in keys)
        box.setCurrentIndex(box.findData("saved_activations"))
        rows = train_json(capsys)["layers"]
        for r, row in enumerate(rows):
            assert diagram.scene.value(w.document.row_cost(r)) == row["saved_activation_bytes"]
        TrainingState.of(w.document).set_mode(Mode.INFERENCE)
        assert box.currentData() == "flops"


def test_frozen_and_checkpointed_scopes_are_saved_with_the_project(qapp, alexnet: Network, tmp_path: Path) -> None:
    from netcost.gui.document.cost_document import CostDocument
    from netcost.gui.document.training_state import ScopeKind

    doc = CostDocument(alexnet)
    state = TrainingState.of(doc)
    state.set_scope(ScopeKind.FREEZE, "fc1", True)
    state.set_scope(ScopeKind.CHECKPOINT, "conv2", True)
    doc.save_file(tmp_path / "alexnet.json")
    opened = CostDocument()
    opened.load_file(tmp_path / "alexnet.json")
    assert TrainingState.of(opened).scopes == {ScopeKind.FREEZE: ("fc1",), ScopeKind.CHECKPOINT: ("conv2",)}
    assert TrainingState.of(opened).train().totals == state.train().totals
    state.set_scope(ScopeKind.FREEZE, "fc1", False)
    doc.undo_stack.undo()
    assert state.scopes[ScopeKind.FREEZE] == ("fc1",)
    doc.undo_stack.undo()
    doc.undo_stack.undo()  # nothing frozen or checkpointed: the project keeps no training key
    assert "training" not in doc.file_data()
