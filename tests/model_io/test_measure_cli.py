"""`summary --measure`: every row timed for real on this machine, refusals in one line."""

from __future__ import annotations

import json

import pytest

from netcost.model_io.cli.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


RESIDUAL = '''
import torch
from torch import nn

class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(256, 256)
        self.act = nn.ReLU()
        self.out = nn.Linear(256, 64)

    def forward(self, x):
        return self.out(x + self.act(self.fc(x)))  # the add is the container's own op

def example_input():
    return torch.randn(64, 256)
'''


def test_measure_times_every_row(capsys, tmp_path):
    model = tmp_path / "res.py"
    model.write_text(RESIDUAL)
    code, out, err = run(capsys, "summary", f"{model}:Residual", "--measure", "--repeats", "3", "--device",
                         "desktop-8core-avx2", "--format", "json")
    assert (code, err) == (0, "")
    d = json.loads(out)
    assert [r["name"] for r in d["layers"]] == ["fc", "act", "add", "out"]  # the add: a functional node
    # modules are timed by their hooks; a functional op is not timed on its own (null), only inside its container
    timed = [r["measured_s"] for r in d["layers"]]
    assert all(t > 0 for i, t in enumerate(timed) if i != 2) and timed[2] is None
    assert d["totals"]["measured_s"] == pytest.approx(sum(t for t in timed if t is not None))
    m = d["measurement"]
    assert (m["device"], m["repeats"], m["statistic"]) == ("cpu", 3, "median") and m["forward_s"] > 0
    assert m["rank_correlation"] is not None and -1 <= m["rank_correlation"] <= 1
    _, text, _ = run(capsys, "summary", f"{model}:Residual", "--measure", "--repeats", "1")
    assert "Measured" in text and "Measured on cpu (" in text and "Est. latency" not in text


def test_measure_refuses_clearly(capsys):
    code, out, err = run(capsys, "summary", "zoo:llama7b", "--measure")
    assert code == 2 and out == ""
    assert err.startswith("netcost: error: zoo:llama7b: not measured: ") and len(err.splitlines()) == 1
    code, _, err = run(capsys, "summary", "zoo:alexnet", "--measure", "--dtype", "int8")
    assert code == 2 and err == ("netcost: error: AlexNet (article): not measured: torch has no int8 kernels for "
                                 "these layers (measure it in float32, float16 or bfloat16)\n")


def test_layer_lists_are_measured_as_their_exported_sequential(capsys):
    # lstm_tagger exports its LSTM wrapped (SequenceOutput); the GUI test measures a composite (dws_conv3x3)
    code, out, err = run(capsys, "summary", "zoo:lstm_tagger", "--measure", "--repeats", "2", "--format", "json")
    assert (code, err) == (0, "")
    rows = json.loads(out)["layers"]
    assert [r["type"] for r in rows] == ["Embedding", "LSTM", "Linear"]
    assert all(r["measured_s"] > 0 for r in rows)  # every row matched to its module, the wrapped LSTM too


def test_a_models_message_keeps_its_reference_whole() -> None:
    """A model measured under its own reference: its message names it once (the file name is part of the
    reference, and was replaced by the whole reference again: '…/models//…/models/hangs.py:Slow')."""
    from netcost.model_io.worker.measure_client import renamed

    ref = "/x/models/hangs.py:Slow"
    assert renamed(f"{ref}: the worker died", ref, ref) == f"{ref}: the worker died"
    assert renamed("/tmp/t/net.py:Net: boom", "/tmp/t/net.py:Net", "AlexNet") == "AlexNet: boom"
