"""The Latency dock names both devices of its measured ÷ estimated ratio, warns when they are different kinds of
device, and offers Measure only for a model that can be measured (the button says why not)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netcost.costing import Network
from netcost.gui.app.main_window import MainWindow
from netcost.gui.latency.latency_view import COLUMNS, LatencyView
from netcost.model_io.files.zoo import load_layer_list
from netcost.model_io.worker.measure_client import Measurement
from netcost.model_io.worker.resolve import LoadOptions
from tests.gui.conftest import opened_window
from tests.traced import traced_graph

MEASURED, RATIO = COLUMNS.index("Measured"), COLUMNS.index("Measured ÷ est.")


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet: Network) -> Iterator[MainWindow]:
    with opened_window(qtbot, tmp_path, alexnet) as w:
        yield w

def _latency(window: MainWindow) -> LatencyView:
    window.docks["latency"].show()
    view = window.views["latency"]
    assert isinstance(view, LatencyView)
    return view


def _header(view: LatencyView, section: int, role: int = 0) -> str:
    from PySide6.QtCore import Qt

    # a header shown on two lines reads as one
    return view.model.headerData(section, Qt.Orientation.Horizontal, Qt.ItemDataRole(role)).replace("\n", " ")


def _measure_cpu(view: LatencyView) -> None:
    report = view.document.report
    est = view.state.estimate()
    times = {r.path: 50 * e.seconds for r, e in zip(report.layers, est.rows, strict=True) if e.seconds}
    view.state.set_measurement(Measurement("cpu", 2, 5, sum(times.values()), times, {}), report)


def test_ratio_names_both_devices_and_warns_across_kinds(window: MainWindow) -> None:
    view = _latency(window)
    view.state.set_device("t4")
    _measure_cpu(view)
    assert _header(view, RATIO) == "CPU ÷ t4 est." and _header(view, MEASURED) == "Measured (CPU)"
    tip = _header(view, RATIO, 3)  # ToolTipRole
    assert tip.startswith("measured on this CPU ÷ estimate for t4")
    assert "Warning: measured on this CPU but estimated for t4 (a GPU)" in tip
    assert "Warning: Measured on this CPU but estimated for t4 (a GPU)" in view.summary.text()
    view.state.set_device("xeon-8380")  # a CPU's roofline: the same kind of device, no warning
    assert _header(view, RATIO) == "CPU ÷ xeon-8380 est."
    assert "Warning" not in _header(view, RATIO, 3) and "Warning" not in view.summary.text()


def test_measure_button_is_enabled_only_for_what_can_be_measured(window: MainWindow) -> None:
    view = _latency(window)
    button = view.measure_button
    assert button.isEnabled()  # a layer list runs as its exported nn.Sequential
    window.document.set_graph(traced_graph("zoo:resnet18"))
    window.source = ("torchvision:resnet18", LoadOptions())
    assert not button.isEnabled()
    assert button.toolTip() == ("Cannot measure this model: timing runs zoo models, .py models (file.py:Name) and "
                                "layer lists; torchvision models are counted only")
    window.source = ("zoo:resnet18", LoadOptions())
    assert button.isEnabled() and button.toolTip().startswith("Run the model for real")
    window.source = ("zoo:llama7b", LoadOptions())
    assert not button.isEnabled() and "meta device only" in button.toolTip()
    window.source = None  # restored from a recovery file: not opened from a reference in this session
    assert not button.isEnabled() and "source is not known" in button.toolTip()
    window.document.set_network(load_layer_list("alexnet"))
    window.document.set_settings(dtype="int8")
    assert not button.isEnabled() and "no int8 kernels" in button.toolTip()
    window.document.set_settings(dtype="float32")
    assert button.isEnabled()


def test_cli_footer_warns_when_the_devices_differ() -> None:
    from netcost.costing.devices import PRESETS, find_device
    from netcost.costing.graph_eval import evaluate_graph
    from netcost.costing.latency import estimate
    from netcost.model_io.cli.latency_tables import LatencySummary, footer

    report = evaluate_graph(traced_graph("zoo:resnet18"))
    m = Measurement("cpu", 2, 5, 0.1, {}, {})
    t4 = estimate(report, find_device("t4", PRESETS))
    assert "Warning: measured on this CPU but estimated for t4 (a GPU)" in footer(LatencySummary(report, t4, m))[-1]
    xeon = estimate(report, find_device("xeon-8380", PRESETS))
    assert not any("Warning" in line for line in footer(LatencySummary(report, xeon, m)))
