"""The report's training section (issue 21): present in Training mode with the figures of `netcost train`, absent
otherwise."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from netcost.costing import Network
from netcost.costing import formatting as fmt
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.training_state import Mode, ScopeKind, TrainingState
from netcost.gui.report.exporters import export_svg
from netcost.model_io.cli.cli import main

SVG_NS = "{http://www.w3.org/2000/svg}"


def _svg_text(path: Path) -> str:
    return "\n".join("".join(t.itertext()) for t in ET.parse(path).getroot().iter(f"{SVG_NS}text"))


def test_the_report_has_the_training_section_in_training_mode(qapp: QApplication, alexnet: Network, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    doc = CostDocument(alexnet)
    export_svg(doc, tmp_path / "inference.svg")
    assert "Training step" not in _svg_text(tmp_path / "inference.svg")
    state = TrainingState.of(doc)
    state.set_mode(Mode.TRAINING)
    state.set_optimizer("momentum")
    state.set_scope(ScopeKind.FREEZE, "fc1", True)
    export_svg(doc, tmp_path / "training.svg")
    text = _svg_text(tmp_path / "training.svg")
    assert main(["train", "zoo:alexnet", "--optimizer", "momentum", "--freeze", "fc1", "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)["totals"]["training"]
    assert "Training step" in text and "momentum, fp32, batch 1; frozen: fc1" in text
    for key in ("param_bytes", "grad_bytes", "optimizer_bytes", "saved_activation_bytes", "peak_bytes",
                "backward_macs"):
        assert fmt.grouped(cli[key]) in text, key
