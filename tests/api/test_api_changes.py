"""`Report.edit`, `rewrite`, `rewrites` and `compare` give what `--set`, `--rewrite`, `netcost rewrites` and
`netcost compare` give for the same architecture; the live model is measured again where an edit needs it."""

from __future__ import annotations

import json

import pytest
import torch
from api_helpers import FILE, MODELS, cli, live, shape_arg

import netcost

SHAPE = shape_arg("ResBlock")
REF = f"{FILE.name}:ResBlock"  # as the CLI names a model: its reference as given, from the file's folder


@pytest.fixture(autouse=True)
def _in_the_models_folder(monkeypatch):
    monkeypatch.chdir(FILE.parent)


def resblock(**options) -> netcost.Report:
    return netcost.analyze(live("ResBlock"), torch.randn(MODELS.INPUTS["ResBlock"]), name=REF,
                           **options)


def test_edit_equals_set(capsys):
    report = resblock().edit({"conv1.out_channels": 8})
    out = cli(capsys, "summary", REF, "--input", SHAPE, "--set", "conv1.out_channels=8",
              "--format", "json")
    assert report.to_dict() == json.loads(out)
    assert report.changes == ("--set conv1.out_channels=8",)
    assert resblock(edits={"conv1.out_channels": 8}).to_dict() == report.to_dict()


def test_an_edit_upstream_of_an_op_without_formula_traces_the_live_model_again(capsys):
    shape = MODELS.INPUTS["Spectral"]
    model = live("Spectral")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = netcost.analyze(model, torch.randn(shape), name=f"{FILE.name}:Spectral").edit({"conv.out_channels": 16})
    out = cli(capsys, "summary", f"{FILE.name}:Spectral", "--input", ",".join(map(str, shape)), "--set",
              "conv.out_channels=16", "--format", "json")
    assert report.to_dict() == json.loads(out)
    assert model.conv.out_channels == 8 and all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_rewrite_equals_rewrite_option(capsys):
    base = resblock()
    ids = base.rewrites().ids
    assert ids
    report = base.rewrite(ids[0])
    out = cli(capsys, "summary", REF, "--input", SHAPE, "--rewrite", ids[0], "--format", "json")
    assert report.to_dict() == json.loads(out)
    assert resblock(rewrites=ids[0]).to_dict() == report.to_dict()


def test_rewrites_equal_netcost_rewrites(capsys):
    base = resblock()
    args = ["rewrites", REF, "--input", SHAPE]
    assert str(base.rewrites()) == cli(capsys, *args)
    assert base.rewrites().to_dict() == json.loads(cli(capsys, *args, "--format", "json"))
    assert base.rewrites().to_csv() == cli(capsys, *args, "--format", "csv")
    assert base.rewrites().to_markdown() == cli(capsys, *args, "--format", "markdown")
    ranked = base.rewrites(sort="saving", by="params", top=3)
    assert ranked.to_dict() == json.loads(cli(capsys, *args, "--sort", "saving", "--by", "params", "--top", "3",
                                              "--format", "json"))


def test_compare_equals_netcost_compare(capsys):
    base = resblock()
    edited = base.edit({"conv1.out_channels": 8})
    args = ["compare", REF, "--input", SHAPE, "--set", "conv1.out_channels=8"]
    comparison = base.compare(edited)
    assert str(comparison) == cli(capsys, *args)
    assert comparison.to_dict() == json.loads(cli(capsys, *args, "--format", "json"))
    assert comparison.to_csv() == cli(capsys, *args, "--format", "csv")
    assert str(base.compare(edited, changed_only=True)) == cli(capsys, *args, "--changed-only")
    assert comparison.delta.params == edited.totals.params - base.totals.params


def test_reports_never_change():
    base = resblock()
    before = base.to_dict()
    base.edit({"conv1.out_channels": 8})
    base.rewrite(base.rewrites().ids[0])
    assert base.to_dict() == before and base.changes == ()


def test_a_bad_edit_says_why():
    with pytest.raises(netcost.EditError):
        resblock().edit({"nosuchlayer.out_channels": 3})
    with pytest.raises(netcost.EditError):
        resblock().edit({"conv1": 3})
    with pytest.raises(TypeError):
        resblock().edit("conv1.out_channels=3")


def test_to_torch_equals_export_torch(capsys, tmp_path):
    report = resblock().edit({"conv1.out_channels": 8})
    assert report.to_torch() == cli(capsys, "export-torch", REF, "--input", SHAPE, "--set", "conv1.out_channels=8")
    with pytest.raises(ValueError):
        netcost.analyze(live("Spectral"), torch.randn(MODELS.INPUTS["Spectral"])).to_torch()
