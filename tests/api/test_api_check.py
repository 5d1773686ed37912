"""`netcost.check`: a budget in a test suite. Over budget it raises BudgetExceeded (an AssertionError) naming the
budget, the figure and the five largest contributors; within budget it returns the report."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
from api_helpers import FILE, MODELS, live, shape_arg

import netcost
from netcost.model_io.cli.cli import main

X = torch.randn(MODELS.INPUTS["ResBlock"])


def test_within_budget_returns_the_report():
    report = netcost.check(live("ResBlock"), X, max_params="1M", max_macs=10 ** 9, max_flops="2G",
                           max_activation="1MiB")
    assert isinstance(report, netcost.Report) and report.totals.params == 14_528


def test_over_budget_names_budget_figure_and_five_largest(capsys, monkeypatch):
    monkeypatch.chdir(FILE.parent)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    with pytest.raises(netcost.BudgetExceeded) as caught:
        netcost.check(live("ResBlock"), X, max_params=10_000, max_macs="2G", name=f"{FILE.name}:ResBlock")
    e = caught.value
    assert isinstance(e, AssertionError)
    lines = str(e).splitlines()
    assert main(["check", f"{FILE.name}:ResBlock", "--input", shape_arg("ResBlock"), "--max-params", "10000",
                 "--max-macs", "2G"]) == 1
    assert lines[0] == capsys.readouterr().out.strip()  # the first line is `netcost check`'s
    assert lines[1] == "largest contributors to params (max_params=10.0 K, model 14.5 K):"
    assert lines[2:] == ["  1. conv2 (Conv2d): 9.22 K (63.4 %)", "  2. conv1 (Conv2d): 4.61 K (31.7 %)",
                         "  3. downsample.0 (Conv2d): 512 (3.5 %)", "  4. bn1 (BatchNorm2d): 64 (0.4 %)",
                         "  5. bn2 (BatchNorm2d): 64 (0.4 %)"]
    assert [r.name for r in e.contributors["params"]] == ["conv2", "conv1", "downsample.0", "bn1", "bn2"]
    assert [v.over for v in e.verdicts] == [True, False] and e.report.totals.params == 14_528


def test_every_exceeded_budget_is_named():
    with pytest.raises(netcost.BudgetExceeded) as caught:
        netcost.check(live("ResBlock"), X, max_macs="500K", max_flops=1, max_activation="1KiB")
    text = str(caught.value)
    for label in ("MACs", "FLOPs", "activation memory"):
        assert f"largest contributors to {label} (" in text
    assert set(caught.value.contributors) == {"MACs", "FLOPs", "activation memory"}


def test_a_report_is_checked_as_it_is():
    report = netcost.analyze(live("ResBlock"), X)
    assert netcost.check(report, max_params=14_528) is report
    with pytest.raises(netcost.BudgetExceeded):
        netcost.check(report.edit({"conv1.out_channels": 64}), max_params=14_528)


def test_budgets_are_amounts():
    with pytest.raises(TypeError, match="at least one budget"):
        netcost.check(live("ResBlock"), X)
    with pytest.raises(TypeError):
        netcost.check(live("ResBlock"), X, max_params=True)
    with pytest.raises(ValueError):
        netcost.check(live("ResBlock"), X, max_params=-1)
    with pytest.raises(ValueError):
        netcost.check(live("ResBlock"), X, max_params="lots")


def test_fails_a_pytest_test_with_a_useful_message(tmp_path):
    test = tmp_path / "test_budget.py"
    test.write_text(textwrap.dedent("""
        import torch
        import netcost

        def test_fits():
            model = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3), torch.nn.ReLU(), torch.nn.Conv2d(64, 64, 3))
            netcost.check(model, torch.randn(1, 3, 32, 32), max_params="20K")
    """))
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(test)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "netcost.checks.BudgetExceeded: netcost check: FAIL Sequential: params 38.7 K > 20.0 K" in run.stdout
    assert "1. 2 (Conv2d): 36.9 K" in run.stdout
