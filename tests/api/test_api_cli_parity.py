"""`netcost.analyze` on live models with real weights gives exactly `netcost summary`'s numbers for the same
architecture (traced in the worker from a .py file): every format, every field."""

from __future__ import annotations

import json

import pytest
import torch
from api_helpers import FILE, MODELS, cli, live

import netcost

NAMES = list(MODELS.INPUTS)


@pytest.mark.parametrize("name", NAMES)
def test_json_equals_netcost_summary(capsys, name):
    shape = MODELS.INPUTS[name]
    report = netcost.analyze(live(name), torch.randn(shape), name=f"{FILE.name}:{name}")
    out = cli(capsys, "summary", f"{FILE}:{name}", "--input", ",".join(map(str, shape)), "--format", "json")
    assert report.to_json() == out
    assert report.to_dict() == json.loads(out)


@pytest.mark.parametrize("name", ["ResBlock", "Branchy"])
def test_every_format_equals_netcost_summary(capsys, name):
    shape = MODELS.INPUTS[name]
    label = f"{FILE.name}:{name}"
    report = netcost.analyze(live(name), torch.randn(shape), name=label)
    args = ["summary", f"{FILE}:{name}", "--input", ",".join(map(str, shape))]
    assert report.to_csv() == cli(capsys, *args, "--format", "csv")
    assert report.to_markdown() == cli(capsys, *args, "--format", "markdown")
    assert str(report) == cli(capsys, *args)
    folded = netcost.analyze(live(name), torch.randn(shape), name=label, depth=1, convention="thop")
    assert folded.to_json() == cli(capsys, *args, "--format", "json", "--depth", "1", "--convention", "thop")


def test_typed_records_hold_the_json_figures():
    report = netcost.analyze(live("ResBlock"), torch.randn(MODELS.INPUTS["ResBlock"]))
    d = report.to_dict()
    t = report.totals
    assert (t.params, t.macs, t.flops, t.activation_bytes) == (d["totals"]["params"], d["totals"]["macs"],
                                                               d["totals"]["flops"], d["totals"]["activation_bytes"])
    assert t.value == d["convention"]["value"] and t.convention == "flops" and t.convention_label == "FLOPs"
    assert t.peer_views == d["totals"]["peer_views"]
    assert [r.name for r in report.rows] == [r["name"] for r in d["layers"]]
    assert sum(r.params for r in report.rows) == t.params and sum(r.macs for r in report.rows) == t.macs
    conv1 = next(r for r in report.rows if r.name == "conv1")
    assert conv1.type == "Conv2d" and conv1.output_shape == (1, 32, 8, 8) and conv1.params == 16 * 32 * 9
    assert conv1.value_share == pytest.approx(conv1.flops / t.flops)


def test_shapes_and_input_size_give_the_same_report():
    shape = MODELS.INPUTS["Inception"]
    by_tensor = netcost.analyze(live("Inception"), torch.randn(shape))
    assert netcost.analyze(live("Inception"), input_size=shape).to_dict() == by_tensor.to_dict()
    assert netcost.analyze(live("Inception"), torch.empty(shape, device="meta")).to_dict() == by_tensor.to_dict()
    assert netcost.analyze(live("Inception"), shape, batch=4).totals.macs == 4 * by_tensor.totals.macs
