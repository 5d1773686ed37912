"""`Report.latency(device)` is `netcost summary --device`: the same roofline estimate in every format, on references
and on live models; an unknown device is refused as the CLI refuses it."""

from __future__ import annotations

import json

import pytest
import torch
from api_helpers import FILE, MODELS, cli, live

import netcost


def test_every_format_equals_summary_with_a_device(capsys) -> None:
    est = netcost.analyze("zoo:resnet50").latency("a100-40gb")
    args = ["summary", "zoo:resnet50", "--device", "a100-40gb"]
    assert est.to_dict() == json.loads(cli(capsys, *args, "--format", "json"))
    assert est.to_csv() == cli(capsys, *args, "--format", "csv")
    assert est.to_markdown() == cli(capsys, *args, "--format", "markdown")
    assert str(est) == cli(capsys, *args)
    assert est.total_s == est.estimate.total.seconds > 0
    tf32 = netcost.analyze("zoo:resnet50").latency("a100-40gb", peak="tf32")
    assert tf32.to_dict() == json.loads(cli(capsys, *args, "--peak", "tf32", "--format", "json"))
    assert tf32.total_s < est.total_s  # the tensor cores' peak is 8x fp32's


def test_a_live_model_as_its_file(capsys) -> None:
    shape = MODELS.INPUTS["Inception"]
    report = netcost.analyze(live("Inception"), torch.randn(shape), name=f"{FILE.name}:Inception")
    out = cli(capsys, "summary", f"{FILE}:Inception", "--input", ",".join(map(str, shape)), "--device", "l4",
              "--format", "json")
    assert report.latency("l4").to_dict() == json.loads(out)


def test_an_unknown_device_names_the_ones_there_are() -> None:
    with pytest.raises(ValueError, match="a100-40gb"):
        netcost.analyze("zoo:alexnet").latency("a100-400gb")
