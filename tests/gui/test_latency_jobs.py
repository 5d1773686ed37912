"""The Latency dock's background actions end to end: measuring (a traced .py model, a layer list) and calibrating
run in child processes while the window stays responsive; results land in the table, chart and device picker."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui.cost_document import CostDocument
from gui.latency_view import LatencyView
from model_io.zoo import load_layer_list


@pytest.fixture
def doc(qtbot) -> CostDocument:
    return CostDocument(load_layer_list("alexnet"))


@pytest.fixture
def view(doc: CostDocument, qtbot) -> LatencyView:
    w = LatencyView(doc)
    qtbot.addWidget(w)
    w.resize(1200, 500)
    w.show()
    return w


def _cell(view: LatencyView, row: int, column: int) -> str:
    return view.model.data(view.model.index(row, column))


def test_measure_a_layer_list_then_edit_it(view: LatencyView, doc: CostDocument, qtbot) -> None:
    doc.set_network(load_layer_list("dws_conv3x3"))  # the rows on screen run as their exported nn.Sequential
    with qtbot.waitSignal(view.job.measured, timeout=60_000):
        view.measure_button.click()
    assert all(_cell(view, r, 3) for r in range(view.model.rowCount()))
    doc.set_layer_arg(0, "out_channels", 64)  # the model measured is gone: so is its measurement
    assert view.state.measurement is None and _cell(view, 0, 3) == ""



RESIDUAL = '''
import torch
from torch import nn

class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 128)

    def forward(self, x):
        return x + torch.relu(self.fc(x))

def example_input():
    return torch.randn(32, 128)
'''


def test_measure_and_calibrate_actions_run_in_the_background(view: LatencyView, qtbot, tmp_path: Path,
                                                             monkeypatch) -> None:
    from model_io.resolve import LoadOptions
    from model_io.worker_client import trace_in_worker

    model = tmp_path / "res.py"
    model.write_text(RESIDUAL)
    ref = f"{model}:Residual"
    report = trace_in_worker(ref, LoadOptions())
    view.document.set_report(report)
    monkeypatch.setattr(view, "window", lambda: type("W", (), {"source": (ref, LoadOptions())})())
    with qtbot.waitSignal(view.job.measured, timeout=60_000):
        view.measure_button.click()
        assert not view.measure_button.isEnabled()  # one run at a time; the window stays responsive
    assert view.measure_button.isEnabled()
    # every module row measured; functional ops (the relu and the add) are timed inside their container only
    modules = [r for r in range(view.model.rowCount()) if not view.document.report.layers[r].type.startswith("aten.")]
    assert modules and all(_cell(view, r, 3) for r in modules)
    assert "Measured" in view.summary.text() and "median of 5" in view.summary.text()
    with qtbot.waitSignal(view.job.calibrated, timeout=60_000):
        view.calibrate_button.click()
    assert view.picker.currentData() == "this-machine"
    assert view.state.device.peak_flops["fp32"] > 1e9 and _cell(view, 0, 2) != ""


def test_a_hanging_model_is_stopped_at_its_time_limit(qtbot) -> None:
    from gui.timing_jobs import TimingJob
    from model_io.resolve import LoadOptions

    job = TimingJob()
    hangs = Path(__file__).resolve().parent.parent / "fixtures" / "models" / "hangs.py"
    with qtbot.waitSignal(job.failed, timeout=30_000) as blocker:
        job.measure(f"{hangs}:Slow", LoadOptions(timeout=1.5))
    assert blocker.args[0] == f"{hangs}:Slow: no answer after 1.5 s; stopped" and not job.busy
