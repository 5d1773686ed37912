"""`netcost summary` accepts every reference with --input, --timeout and --trust-pickle; errors are short."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netcost.model_io.cli.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def test_summary_of_a_python_file_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    ref = f"{FIXTURES / 'tiny_net.py'}:TinyNet(width=4)"
    assert main(["summary", ref, "--input", "1,3,16,16", "--format", "json", "--timeout", "60"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["inputs"] == [{"name": "x", "shape": [1, 3, 16, 16], "dtype": "float32"}]
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


def test_onnx_missing_is_one_line_naming_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    hide = tmp_path / "hide"
    hide.mkdir()  # an `onnx` that fails to import, ahead of the real one on the worker's path
    (hide / "onnx.py").write_text("raise ModuleNotFoundError(\"No module named 'onnx'\", name='onnx')\n")
    monkeypatch.setenv("PYTHONPATH", str(hide))
    model = tmp_path / "m.onnx"
    model.write_bytes(b"\x08\x07")
    assert main(["summary", str(model)]) == 2
    err = capsys.readouterr().err
    assert err == "netcost: error: reading ONNX models needs the onnx package: pip install netcost[onnx]\n"


def test_mistyped_inputs_fail_before_a_worker_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", f"{FIXTURES / 'tiny_net.py'}:TinyNet", "--input", "1,x", "--timeout", "0.01"]) == 2
    assert capsys.readouterr().err == "netcost: error: --input '1,x': expected comma-separated sizes such as " \
                                      "1,3,224,224\n"
