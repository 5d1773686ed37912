"""The Training view: it follows the document (freezing a layer is one undo step), its optimizer, precision and
batch what-if, the memory breakdown and "fits on DEVICE up to batch N"."""

from __future__ import annotations

from netcost.costing import Network
from netcost.costing import formatting as fmt
from netcost.costing.training import analyze_training
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.training.training_view import TrainingView

ALEXNET_PARAMS = 61_264_904  # the article's AlexNet layer list (tests/gui/conftest.py's `alexnet`)


def test_breakdown_follows_optimizer_precision_and_batch(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    view = TrainingView(doc)
    qtbot.addWidget(view)
    view.show()
    assert view.values["weights"].text() == fmt.nbytes(4 * ALEXNET_PARAMS)
    assert view.values["optimizer"].text() == fmt.nbytes(analyze_training(doc.report, "adam").totals.optimizer_bytes)
    view.optimizer.setCurrentText("sgd")
    assert view.values["optimizer"].text() == fmt.nbytes(0)
    view.precision.setCurrentText("bf16-mixed")  # 2 bytes of weights + 4 of master copy per parameter
    assert view.values["weights"].text() == fmt.nbytes(6 * ALEXNET_PARAMS)
    saved_1 = view.train.totals.saved_activation_bytes
    view.batch.setValue(64)
    assert view.values["activations"].text() == fmt.nbytes(64 * saved_1)
    assert view.values["peak"].text() == fmt.nbytes(view.train.peak_at(64))
    view.device.setCurrentText("t4")
    fit = view.train.max_batch(16 * 2 ** 30)
    assert view.values["fits"].text() == f"fits on t4 up to batch {fit:,}"


def test_freezing_is_one_undo_step(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    view = TrainingView(doc)
    qtbot.addWidget(view)
    view.show()
    before = view.train.totals.grad_bytes
    row = doc.row_of(doc.graph.nodes[-1].id)  # the last Linear
    doc.set_trainable(row, False)
    assert view.train.totals.grad_bytes < before
    doc.undo_stack.undo()
    assert view.train.totals.grad_bytes == before
    assert len(view.bars["activations"].opts["height"]) == len(view.train.rows)


def test_a_hidden_view_costs_the_step_when_shown(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    view = TrainingView(doc)
    qtbot.addWidget(view)
    before = view.train
    doc.set_trainable(doc.row_of(doc.graph.nodes[-1].id), False)
    assert view.stale and view.train is before  # hidden (a dock tab behind another): no work per edit
    view.show()
    assert not view.stale and view.train.totals.grad_bytes < before.totals.grad_bytes
