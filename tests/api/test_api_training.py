"""`Report.train(...)` gives exactly `netcost train`'s figures (every format, with a device, frozen and checkpointed
scopes), on references and on live models, and refuses what the CLI refuses with the same message."""

from __future__ import annotations

import json

import pytest
import torch
from api_helpers import FILE, MODELS, cli, live

import netcost


def test_every_format_equals_netcost_train(capsys) -> None:
    step = netcost.analyze("zoo:alexnet").train(optimizer="adamw", precision="bf16-mixed", device="a100-40gb")
    args = ["train", "zoo:alexnet", "--optimizer", "adamw", "--precision", "bf16-mixed", "--device", "a100-40gb"]
    assert step.to_dict() == json.loads(cli(capsys, *args, "--format", "json"))
    assert step.totals == step.to_dict()["totals"]["training"]
    assert {"step_s", "max_batch", "peak_bytes", "optimizer_bytes"} <= set(step.totals)
    assert step.to_csv() == cli(capsys, *args, "--format", "csv")
    assert step.to_markdown() == cli(capsys, *args, "--format", "markdown")
    assert str(step) == cli(capsys, *args)


def test_freeze_and_checkpoint_as_the_cli(capsys) -> None:
    report = netcost.analyze("zoo:resnet50", batch=4)
    step = report.train(optimizer="sgd", freeze=["layer1"], checkpoint=["layer3"])
    out = cli(capsys, "train", "zoo:resnet50", "--batch", "4", "--optimizer", "sgd", "--freeze", "layer1",
              "--checkpoint", "layer3", "--format", "json")
    assert step.to_dict() == json.loads(out)
    plain = report.train(optimizer="sgd").totals
    assert step.totals["recompute_macs"] > 0 == plain["recompute_macs"]
    assert step.totals["grad_bytes"] < plain["grad_bytes"]  # no gradients for the frozen stage


@pytest.mark.parametrize("name", ["ResBlock", "Encoder"])
def test_a_live_model_trains_as_its_file_does(capsys, name: str) -> None:
    shape = MODELS.INPUTS[name]
    report = netcost.analyze(live(name), torch.randn(shape), name=f"{FILE.name}:{name}")
    out = cli(capsys, "train", f"{FILE}:{name}", "--input", ",".join(map(str, shape)), "--optimizer", "momentum",
              "--format", "json")
    assert report.train(optimizer="momentum").to_dict()["totals"] == json.loads(out)["totals"]


def test_what_the_cli_refuses_raises_value_error() -> None:
    report = netcost.analyze("zoo:alexnet")
    with pytest.raises(ValueError, match="no_such_scope"):
        report.train(freeze=["no_such_scope"])
    with pytest.raises(ValueError, match="lion"):
        report.train(optimizer="lion")
