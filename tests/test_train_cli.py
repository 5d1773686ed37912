"""`netcost train` and `netcost check --max-train-memory` (issue 21): the JSON contract, the text formats, the
options and the mistakes (exit 2, one line)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from netcost.model_io.cli.cli import main

TRAINING_KEYS = {"optimizer", "precision", "forward_macs", "backward_macs", "recompute_macs", "step_macs",
                 "step_flops", "param_bytes", "grad_bytes", "optimizer_bytes", "saved_activation_bytes", "peak_bytes"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_contract(capsys):
    code, out, err = run(capsys, "train", "zoo:alexnet", "--format", "json")
    assert (code, err) == (0, "")
    d = json.loads(out)
    assert d["schema"] == "netcost.report/1"
    training = d["totals"]["training"]
    assert set(training) == TRAINING_KEYS
    assert (training["optimizer"], training["precision"]) == ("adam", "fp32")
    assert training["forward_macs"] == d["totals"]["macs"] == 861_301_280
    assert training["step_macs"] == training["forward_macs"] + training["backward_macs"] + training["recompute_macs"]
    assert training["param_bytes"] == training["grad_bytes"] == 4 * 61_264_904
    assert all({"backward_macs", "saved_activation_bytes"} <= set(row) for row in d["layers"])
    assert sum(r["backward_macs"] for r in d["layers"]) == training["backward_macs"]
    assert sum(r["saved_activation_bytes"] for r in d["layers"]) == training["saved_activation_bytes"]


def test_device_adds_step_time_and_max_batch(capsys):
    code, out, _ = run(capsys, "train", "zoo:alexnet", "--format", "json", "--device", "a100-80gb",
                       "--optimizer", "sgd", "--precision", "bf16-mixed", "--batch", "8")
    training = json.loads(out)["totals"]["training"]
    assert code == 0 and set(training) == TRAINING_KEYS | {"step_s", "max_batch"}
    assert training["step_s"] > 0 and training["max_batch"] > 8
    assert (training["optimizer"], training["precision"], training["optimizer_bytes"]) == ("sgd", "bf16-mixed", 0)


def test_freeze_and_checkpoint_options(capsys):
    _, base, _ = run(capsys, "train", "zoo:alexnet", "--format", "json")
    _, frozen, _ = run(capsys, "train", "zoo:alexnet", "--format", "json", "--freeze", "conv1", "conv2")
    base_t, frozen_t = json.loads(base)["totals"]["training"], json.loads(frozen)["totals"]["training"]
    assert frozen_t["backward_macs"] < base_t["backward_macs"] and frozen_t["grad_bytes"] < base_t["grad_bytes"]
    code, out, _ = run(capsys, "train", "zoo:alexnet", "--format", "json", "--checkpoint", "conv2")
    assert code == 0 and json.loads(out)["totals"]["training"]["saved_activation_bytes"] \
        <= base_t["saved_activation_bytes"]


def test_text_formats(capsys):
    code, out, _ = run(capsys, "train", "zoo:alexnet", "--device", "t4")
    assert code == 0 and "Backward MACs" in out and "Saved act." in out
    assert "Training step (adam, fp32, batch 1)" in out and "Peak (steady-state step, estimate)" in out
    assert "On t4: step" in out and "Fits 16.0 GiB" in out
    code, out, _ = run(capsys, "train", "zoo:alexnet", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows[-1]["name"] == "TOTAL" and int(rows[0]["backward_macs"]) > 0
    code, out, _ = run(capsys, "train", "zoo:alexnet", "--format", "markdown")
    assert code == 0 and "| Backward MACs | Saved act. |" in out and "- Training step" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["--freeze", "no.such.scope"], "--freeze 'no.such.scope': no module or node"),
    (["--checkpoint", "nope"], "--checkpoint 'nope': no module or node"),
    (["--optimizer", "lion"], "invalid choice: 'lion'"),
    (["--precision", "fp8"], "invalid choice: 'fp8'"),
    (["--device", "no-such-gpu"], "unknown device 'no-such-gpu'"),
])
def test_mistakes_are_one_line_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "train", "zoo:alexnet", *argv)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_check_max_train_memory(capsys):
    code, out, _ = run(capsys, "check", "zoo:alexnet", "--max-train-memory", "24GiB")
    assert code == 0 and out.startswith("netcost check: ok zoo:alexnet: training memory (adam, fp32)")
    code, out, _ = run(capsys, "check", "zoo:alexnet", "--max-train-memory", "256MiB", "--optimizer", "sgd")
    assert code == 1 and out.startswith("netcost check: FAIL zoo:alexnet: training memory (sgd, fp32)")
