"""The Latency dock: device picker, roofline chart and per-layer table follow the document, the device and the
shared selection; measurements show beside the estimate; the roofline exports through the app's exporters. Its
background actions end to end: measuring (a traced .py model, a layer list) and calibrating run in child processes
while the window stays responsive; results land in the table, chart and device picker."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, QPointF, QSettings
from PySide6.QtGui import QImage

from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.latency_state import LatencyState
from netcost.gui.latency.latency_view import LatencyView
from netcost.gui.report.roofline_export import export_roofline
from netcost.model_io.files.zoo import load_layer_list
from netcost.model_io.worker.measure_client import Measurement


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


def test_picking_a_device_fills_chart_table_and_summary(view: LatencyView, doc: CostDocument) -> None:
    assert view.chart.points.data.size == 0 and "choose a device" in view.summary.text().lower()
    assert _cell(view, 0, 2) == ""
    view.picker.setCurrentIndex(view.picker.findData("a100-40gb"))
    assert view.state.device is not None and view.state.device.name == "a100-40gb"
    # conv1: 210,830,400 FLOPs / 19.5e12 FLOP/s = 10.8 µs, compute-bound; fc1: 151 MB / 1555 GB/s = 97.1 µs
    assert (_cell(view, 0, 0), _cell(view, 0, 1), _cell(view, 0, 2)) == ("conv1", "compute", "10.8 µs")
    assert (_cell(view, 15, 0), _cell(view, 15, 1), _cell(view, 15, 2)) == ("fc1", "memory", "97.1 µs")
    # one point per layer that does work and moves bytes (Flatten and the Dropouts move nothing)
    report = doc.report
    working = [i for i, r in enumerate(report.layers) if r.flops and r.memory_access_bytes]
    assert view.chart.indices.tolist() == working
    assert view.chart.x[0] == pytest.approx(math.log10(210_830_400 / 1_903_104))  # intensity, FLOPs per byte
    assert view.chart.y[0] == pytest.approx(math.log10(19.5e12))  # compute-bound: on the flat roof
    roof_x, roof_y = view.chart.roof.getData()
    assert roof_x[1] == pytest.approx(math.log10(19.5e12 / 1555e9)) and roof_y[1] == pytest.approx(math.log10(19.5e12))
    title = view.chart.plot_item.titleLabel.text
    assert "a100-40gb" in title and "no fusion" in title
    assert "no fusion" in view.summary.text() and "Estimated" in view.summary.text()
    assert QSettings().value("latency/device") == "a100-40gb"  # remembered for the next document
    assert LatencyState(CostDocument()).device.name == "a100-40gb"


def test_peak_box_switches_the_roof(view: LatencyView) -> None:
    view.state.set_device("a100-40gb")
    view.peak_box.setCurrentIndex(view.peak_box.findData("tf32"))
    # 210,830,400 FLOPs / 156e12 (TF32 tensor cores) = 1.35 µs: shorter than the GPU's 4 µs launch floor, so conv1
    # waits for its launch and attains 210,830,400 / 4 µs, under the roof
    assert (_cell(view, 0, 1), _cell(view, 0, 2)) == ("launch", "4.00 µs")
    assert view.state.estimate().rows[0].compute_s == pytest.approx(210_830_400 / 156e12)
    assert view.chart.y[0] == pytest.approx(math.log10(210_830_400 / 4e-6))
    assert "tf32 peak 156 TFLOP/s" in view.chart.plot_item.titleLabel.text


def test_edit_updates_the_estimate(view: LatencyView, doc: CostDocument) -> None:
    view.state.set_device("t4")
    before = _cell(view, 0, 2)
    doc.set_layer_arg(0, "out_channels", 192)  # twice the FLOPs of conv1 (and its outputs)
    assert _cell(view, 0, 2) != before
    assert view.chart.y[0] == pytest.approx(math.log10(8.1e12))


def test_selection_is_shared(view: LatencyView, doc: CostDocument) -> None:
    view.state.set_device("l4")
    doc.selection.set_rows([15])
    assert [i.row() for i in view.table.selectionModel().selectedRows()] == [15]
    k = view.chart.indices.tolist().index(15)
    assert view.chart._highlight.data["x"].tolist() == [view.chart.x[k]]
    # a click on row 3 (explicit flags: selectRow() would read whatever key modifiers an earlier test left)
    view.table.selectionModel().select(view.table.model().index(3, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                       | QItemSelectionModel.SelectionFlag.Rows)
    assert doc.selection.rows == [3]
    assert view.chart._indices_at(QPointF(view.chart.x[0], view.chart.y[0])) == [0]


def test_measurement_shows_beside_the_estimate(view: LatencyView, doc: CostDocument) -> None:
    view.state.set_device("desktop-8core-avx2")
    report = doc.report
    # a stand-in measurement keyed by row path (a layer list's paths are its names): 2x the estimate per row
    est = view.state.estimate()
    times = {r.path: 2 * e.seconds for r, e in zip(report.layers, est.rows, strict=True) if e.seconds}
    view.state.set_measurement(Measurement("cpu", 2, 5, sum(times.values()), times, {}), report)
    assert _cell(view, 0, 4) == "2.0×" and _cell(view, 0, 3) != ""
    assert "rank correlation with the estimate 1.00" in view.summary.text()
    measured = view.chart.my[~np.isnan(view.chart.my)]
    assert len(measured) == len(view.chart.x)  # one hollow point per layer, half the attained FLOP/s
    assert np.allclose(measured, view.chart.y - math.log10(2))
    doc.set_network(load_layer_list("gap_fc"))  # another model: the measurement no longer applies
    assert view.state.measurement is None and _cell(view, 0, 3) == ""


def test_broken_devices_file_keeps_presets(doc: CostDocument, qtbot, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "netcost").mkdir()
    (tmp_path / "netcost" / "devices.json").write_text("{oops")
    w = LatencyView(CostDocument(load_layer_list("alexnet")))
    qtbot.addWidget(w)
    assert "not valid JSON" in w.summary.text() and w.picker.findData("a100-40gb") > 0


def test_roofline_export_png(doc: CostDocument, tmp_path: Path) -> None:
    LatencyState.of(doc).set_device("h100-sxm", remember=False)
    result = export_roofline(doc, tmp_path / "roof.png", width=1000)
    image = QImage(str(result.path))
    assert (image.width(), result.pixel_size.width()) == (1000, 1000) and image.height() > 500


def test_roofline_exports_from_its_view(view: LatencyView, tmp_path: Path) -> None:
    view.state.set_device("rtx-4090")
    result = view.export_chart(str(tmp_path / "from-view"))  # no suffix: PNG
    assert result is not None and result.path == tmp_path / "from-view.png"
    assert QImage(str(result.path)).width() == 2 * view.chart.width()  # its on-screen size, at 2x


def test_roofline_cli(tmp_path: Path, capsys) -> None:
    from netcost.gui.app.entry import main

    out = tmp_path / "r.svg"
    assert main(["roofline", "zoo:alexnet", "--device", "a100-80gb", "-o", str(out)]) == 0
    svg = out.read_text()
    assert "a100-80gb" in svg and "no fusion" in svg  # the title, as text in the vector file
    assert main(["roofline", "zoo:alexnet", "--device", "nope", "-o", str(out)]) == 2
    assert "unknown device 'nope'" in capsys.readouterr().err


# ---- background actions --------------------------------------------------------------------------------------
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
    from netcost.model_io.worker.resolve import LoadOptions
    from netcost.model_io.worker.worker_client import trace_in_worker

    model = tmp_path / "res.py"
    model.write_text(RESIDUAL)
    ref = f"{model}:Residual"
    report = trace_in_worker(ref, LoadOptions())
    view.document.set_report(report)
    monkeypatch.setattr(view, "window", lambda: type("W", (), {"source": (ref, LoadOptions())})())
    view._update_measurable()  # (what the main window's sourceChanged does: a .py model can be measured)
    assert view.measure_button.isEnabled()
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
    from netcost.gui.document.timing_jobs import TimingJob
    from netcost.model_io.worker.resolve import LoadOptions

    job = TimingJob()
    hangs = Path(__file__).resolve().parent.parent / "fixtures" / "models" / "hangs.py"
    with qtbot.waitSignal(job.failed, timeout=30_000) as blocker:
        job.measure(f"{hangs}:Slow", LoadOptions(timeout=1.5))
    assert blocker.args[0] == f"{hangs}:Slow: no answer after 1.5 s; stopped" and not job.busy


def test_tiny_layers_sit_on_the_launch_floor(view: LatencyView, doc: CostDocument) -> None:
    view.picker.setCurrentIndex(view.picker.findData("a100-40gb"))
    # ReLU-1 moves 2 x 1,161,600 B: 1.49 µs at 1,555 GB/s, shorter than a kernel launch (4 µs on a GPU)
    assert (_cell(view, 1, 0), _cell(view, 1, 1), _cell(view, 1, 2)) == ("ReLU-1", "launch", "4.00 µs")
    assert (_cell(view, 0, 1), _cell(view, 0, 2)) == ("compute", "10.8 µs")  # longer kernels keep their roofline
    shown = [_cell(view, r, 2) for r in range(view.model.rowCount())]
    assert min(view.state.estimate().rows[r].seconds for r, s in enumerate(shown) if s != "0 s") == 4e-6
    assert "launch floor 4.00 µs per kernel" in view.summary.text()
