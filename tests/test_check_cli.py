"""`netcost check`: a budget gate for CI. Over budget: exit 1 and one line naming what is over and by how much;
within: exit 0; a mistyped budget or none at all: exit 2."""

from __future__ import annotations

import pytest

from netcost.costing import Totals
from netcost.model_io.cli.budget import parse_amount
from netcost.model_io.cli.cli import main
from netcost.model_io.worker.resolve import load_report


@pytest.fixture(scope="module")
def alexnet() -> Totals:
    return load_report("zoo:alexnet").totals


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", "zoo:alexnet", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_model_within_budget_passes(alexnet: Totals, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _check(capsys, "--max-params", str(alexnet.params), "--max-macs", "1G")
    assert code == 0 and out.count("\n") == 1 and out.startswith("netcost check: ok zoo:alexnet: params")


def test_one_parameter_over_fails_with_one_line(alexnet: Totals, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    code, out, _ = _check(capsys, "--max-params", str(alexnet.params - 1), "--max-macs", "5G")
    assert code == 1 and out.count("\n") == 1
    assert out.startswith("netcost check: FAIL zoo:alexnet: params 61.3 M > 61.3 M (+0.0 %); MACs 861 M <= 5.00 G")


def test_under_github_actions_the_failure_is_an_error_annotation(capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _ = _check(capsys, "--max-macs", "500M", "--max-activation", "1MiB")
    assert code == 1
    assert out.startswith("::error title=netcost check::netcost check: FAIL zoo:alexnet: MACs 861 M > 500 M (+72.3 %);"
                          " activation memory")


@pytest.mark.parametrize("args", [(), ("--max-params", "lots")])
def test_no_budget_or_a_bad_one_is_a_usage_error(args: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _check(capsys, *args)
    assert code == 2 and not out and err.startswith("netcost: error:") and err.count("\n") == 1


@pytest.mark.parametrize(("text", "value"), [("30M", 30_000_000), ("5G", 5_000_000_000), ("1.5e9", 1_500_000_000),
                                             ("25557032", 25_557_032), ("512MiB", 512 * 2**20), ("200MB", 200 * 10**6),
                                             ("2.5k", 2500)])
def test_amounts(text: str, value: int) -> None:
    assert parse_amount(text) == value
