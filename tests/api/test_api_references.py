"""`netcost.analyze` on references (the CLI's path: layer lists and graph files read here, model code in the
worker), on graphs and on reports: the same figures as `netcost summary` with the same options."""

from __future__ import annotations

import json

import pytest
import torch
from api_helpers import FILE, MODELS, cli, live, shape_arg

import netcost


def test_a_zoo_reference_with_options_equals_netcost_summary(capsys):
    assert netcost.analyze("zoo:alexnet").to_json() == cli(capsys, "summary", "zoo:alexnet", "--format", "json")
    report = netcost.analyze("zoo:alexnet", batch=2, dtype=torch.float16, convention="thop")
    assert report.to_json() == cli(capsys, "summary", "zoo:alexnet", "--batch", "2", "--dtype", "float16",
                                   "--convention", "thop", "--format", "json")


def test_a_model_file_is_traced_in_the_worker_with_the_inputs_given(capsys, monkeypatch):
    monkeypatch.chdir(FILE.parent)
    ref = f"{FILE.name}:ResBlock"
    by_ref = netcost.analyze(ref, MODELS.INPUTS["ResBlock"])
    assert by_ref.to_json() == cli(capsys, "summary", ref, "--input", shape_arg("ResBlock"), "--format", "json")
    assert netcost.analyze(ref, torch.randn(MODELS.INPUTS["ResBlock"])).to_dict() == by_ref.to_dict()
    assert netcost.analyze(live("ResBlock"), torch.randn(MODELS.INPUTS["ResBlock"]), name=ref).to_dict() \
        == by_ref.to_dict()


def test_graphs_graph_files_and_reports(tmp_path):
    report = netcost.analyze(live("Branchy"), torch.randn(MODELS.INPUTS["Branchy"]))
    assert netcost.analyze(report.graph).to_dict()["totals"] == report.to_dict()["totals"]
    path = tmp_path / "branchy.json"
    report.save_graph(path)
    assert json.loads(path.read_text())["format"] == "netcost.graph/1"
    assert netcost.analyze(path).to_dict()["totals"] == report.to_dict()["totals"]
    assert netcost.analyze(str(path), batch=3).totals.macs == 3 * report.totals.macs
    again = netcost.analyze(report, convention="macs", depth=1)
    assert again.totals.value == report.totals.macs and again.totals.convention == "macs"


def test_what_analyze_does_not_take_is_a_clear_error():
    with pytest.raises(TypeError, match="nn.Module, a reference string or path"):
        netcost.analyze(42)
    with pytest.raises(TypeError, match="not both"):
        netcost.analyze(live("ResBlock"), torch.randn(1, 16, 16, 16), input_size=(1, 16, 16, 16))
    with pytest.raises(ValueError, match="convention"):
        netcost.analyze("zoo:alexnet", convention="gflops")
    with pytest.raises(netcost.ModelError):
        netcost.analyze("zoo:no_such_model")
