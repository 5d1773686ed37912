"""`netcost summary` accepts every reference with --input, --timeout and --trust-pickle; errors are short."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_io.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def test_summary_of_a_python_file_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    ref = f"{FIXTURES / 'tiny_net.py'}:TinyNet(width=4)"
    assert main(["summary", ref, "--input", "1,3,16,16", "--format", "json", "--timeout", "60"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["inputs"] == [{"shape": [1, 3, 16, 16], "dtype": "float32"}]
    assert data["totals"]["params"] == 4 * 27 + 4 + 8 + 4 * 10 + 10
    assert data["hierarchy"] and data["unsupported"] == []


def test_error_is_one_line_plus_the_models_frames(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", f"{FIXTURES / 'ctor_raises.py'}:Broken(width=5)"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "netcost: error: Broken(width=5) raised ValueError: width must be even, got 5"
    assert any("check_width" in line for line in err[1:]) and not any("site-packages" in line for line in err)


def test_timeout_and_trust_pickle_flags_reach_the_worker(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", f"{FIXTURES / 'hangs.py'}:Slow", "--timeout", "3"]) == 2
    assert "no answer after 3 s" in capsys.readouterr().err
    assert main(["summary", str(FIXTURES / "not_a_model.pt"), "--trust-pickle"]) == 2
    assert "not a TorchScript archive" in capsys.readouterr().err


def test_torch_zoo_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zoo"]) == 0
    out = capsys.readouterr().out
    assert "zoo:llama70b" in out and "zoo:alexnet-module" in out
