"""The peak live activation figure where a user reads it: the Totals panel, the CLI table and JSON, the report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtWidgets import QApplication

from netcost.costing import Network
from netcost.costing import formatting as fmt
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report.exporters import export_svg
from netcost.gui.table.totals_widget import TotalsWidget
from netcost.model_io.cli.cli import main

# AlexNet (article): conv1's output (1×96×55×55 float32) and ReLU's, both live while ReLU runs
ALEXNET_PEAK = 2 * 96 * 55 * 55 * 4


def test_totals_panel_shows_the_peak_beside_the_torchsummary_sum(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    totals = TotalsWidget(doc)
    assert totals.labels["activations"].text() == "Activations (forward)"  # the sum keeps its name
    assert totals.values["activations"].text() == fmt.nbytes(doc.report.totals.activation_bytes)
    assert totals.labels["peak"].text() == "Peak activations (inference)"
    assert totals.values["peak"].text() == fmt.nbytes(ALEXNET_PEAK) == "2.2 MiB"
    doc.pin_baseline()
    doc.set_layer_arg(doc.row_of("conv1"), "out_channels", 48)  # now the input and conv1's output peak
    peak = 3 * 224 * 224 * 4 + 48 * 55 * 55 * 4
    assert totals.values["peak"].text() == fmt.nbytes(peak)
    assert totals.deltas["peak"].text() == fmt.delta(peak, ALEXNET_PEAK, fmt.nbytes) == "-1.1 MiB (-49.1 %)"
    doc.set_layer_arg(doc.row_of("conv1"), "kernel_size", 500)  # cannot be costed: no figure, no delta
    assert not doc.report.complete
    assert (totals.values["peak"].text(), totals.deltas["peak"].text()) == ("—", "not costed")


def test_cli_table_and_json(capsys) -> None:
    assert main(["summary", "zoo:alexnet", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["peak_activation_bytes"] == ALEXNET_PEAK
    assert d["totals"]["activation_bytes"] == 5_223_712 and "torchsummary" in d  # existing fields kept
    assert main(["summary", "zoo:alexnet"]) == 0
    out = capsys.readouterr().out
    assert "Activations (forward): 5.0 MiB   Peak activations (inference): 2.2 MiB" in out


def test_report_lists_the_peak(qapp: QApplication, alexnet: Network, tmp_path: Path) -> None:
    out = tmp_path / "report.svg"
    export_svg(CostDocument(alexnet), out)
    ns = "{http://www.w3.org/2000/svg}"
    texts = ["".join(t.itertext()) for t in ET.parse(out).getroot().iter(f"{ns}text")]
    i = texts.index("Peak activations, inference")
    assert fmt.nbytes(ALEXNET_PEAK) in texts[i + 1:i + 3]
