"""What the API tests share: the models of api_models.py (loaded as the CLI loads that file), live instances of them
with real weights, and the CLI run in-process."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from netcost.model_io.cli.cli import main

HERE = Path(__file__).resolve().parent
FILE = HERE / "api_models.py"


def _models():
    spec = importlib.util.spec_from_file_location("netcost_api_test_models", FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODELS = _models()


def cli(capsys, *argv: str) -> str:
    """`netcost ARGV` in this process: its standard output (it must succeed)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def live(name: str) -> torch.nn.Module:
    """A fresh model of api_models.py with real weights, in train mode (the count is of inference, the model stays
    as it is)."""
    torch.manual_seed(0)
    model = getattr(MODELS, name)()
    model.train()
    return model


def shape_arg(name: str) -> str:
    return ",".join(map(str, MODELS.INPUTS[name]))
