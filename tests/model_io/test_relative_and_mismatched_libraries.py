"""Relative `hf:` paths resolve against the user's folder (CLI, window, worker); a torchvision built for another
torch is named as such, with versions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from netcost.model_io.model_ref import absolute_ref
from netcost.model_io.versions import package_version
from netcost.model_io.worker.resolve import LoadOptions
from netcost.model_io.worker.worker_client import request_for

ROOT = Path(__file__).resolve().parents[2]


def test_relative_hf_paths_are_made_absolute(tmp_path: Path) -> None:
    assert absolute_ref("hf:llama2-7b", cwd=tmp_path) == f"hf:{tmp_path / 'llama2-7b'}"
    assert absolute_ref("hf:cfg/config.json(num_hidden_layers=2)", cwd=tmp_path) == \
        f"hf:{tmp_path / 'cfg/config.json'}(num_hidden_layers=2)"
    assert absolute_ref("hf:/models/llama", cwd=tmp_path) == "hf:/models/llama"
    assert absolute_ref("hf:~/llama", cwd=tmp_path) == f"hf:{Path.home() / 'llama'}"
    assert absolute_ref("torchvision:resnet18", cwd=tmp_path) == "torchvision:resnet18"


def test_the_worker_is_asked_for_the_user_s_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert request_for("hf:llama2-7b", LoadOptions())["ref"] == f"hf:{tmp_path / 'llama2-7b'}"


def _fake_mismatched_torchvision(tmp_path: Path) -> Path:
    """A torchvision whose import fails as a build for another torch does ("operator torchvision::nms does not
    exist", raised while its C++ operators register)."""
    pkg = tmp_path / "site" / "torchvision"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text('raise RuntimeError("operator torchvision::nms does not exist")\n',
                                     encoding="utf-8")
    return pkg.parent


def _run(args: list[str], site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(site), str(ROOT)))}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def _says_mismatch(text: str) -> None:
    torch_v = package_version("torch")
    assert "does not match torch" in text and f"torch {torch_v}" in text, text
    assert "torchvision " in text and "operator torchvision::nms does not exist" in text


def test_a_mismatched_torchvision_is_named_when_a_model_uses_it(tmp_path: Path) -> None:
    site = _fake_mismatched_torchvision(tmp_path)
    out = _run(["-m", "netcost", "summary", "torchvision:resnet18"], site, tmp_path)
    assert out.returncode == 2
    _says_mismatch(out.stderr)
    (tmp_path / "net.py").write_text("import torch, torchvision\nclass Net(torch.nn.Module):\n"
                                     "    def forward(self, x):\n        return x\n", encoding="utf-8")
    out = _run(["-m", "netcost", "summary", "net.py:Net", "--input", "1,3,8,8"], site, tmp_path)
    assert out.returncode == 2
    _says_mismatch(out.stderr)


def test_a_mismatched_torchvision_is_named_by_the_model_list(tmp_path: Path) -> None:
    site = _fake_mismatched_torchvision(tmp_path)
    out = _run(["-m", "netcost.model_io.importers.library_models", "torchvision"], site, tmp_path)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1  # one line for the dialog's status, no traceback
    _says_mismatch(out.stderr)
