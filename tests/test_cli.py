"""The `netcost` command line, called in-process: summaries in every format, export-torch, and user mistakes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from netcost.model_io.cli.cli import main
from netcost.model_io.files import zoo
from netcost.model_io.files.torch_zoo_index import TORCH_ZOO

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_json(capsys):
    code, out, err = run(capsys, "summary", "zoo:alexnet", "--format", "json")
    assert (code, err) == (0, "")
    d = json.loads(out)
    assert d["schema"] == "netcost.report/1"
    assert {"model", "inputs", "convention", "totals", "by_category", "layers", "unsupported", "warnings"} <= set(d)
    assert d["totals"]["params"] == 61_264_904 and d["totals"]["macs"] == 861_301_280
    assert set(d["totals"]["peer_views"]) == {"thop", "fvcore", "torchinfo", "ptflops", "flop_counter"}
    assert d["layers"][0] == {**d["layers"][0], "name": "conv1", "type": "Conv2d", "category": "conv", "depth": 0,
                              "output_shape": [1, 96, 55, 55], "params": 34_848, "macs": 105_415_200}


def test_summary_csv_markdown_table(capsys):
    code, out, _ = run(capsys, "summary", "zoo:alexnet", "--format", "csv")
    assert code == 0 and list(csv.reader(io.StringIO(out)))[-1][0] == "TOTAL"
    code, out, _ = run(capsys, "summary", "zoo:alexnet", "--format", "markdown")
    assert code == 0 and out.startswith("## AlexNet (article)")
    code, out, _ = run(capsys, "summary", "zoo:alexnet", "--format", "table")
    assert code == 0 and "Total params: 61,264,904" in out and "93.2 % of MACs" in out
    code, default, _ = run(capsys, "summary", "zoo:alexnet")
    assert default == out  # table is the default


def test_batch_dtype_convention_options(capsys):
    code, out, _ = run(capsys, "summary", "zoo:alexnet", "--format", "json", "--batch", "4", "--dtype", "fp16",
                       "--convention", "torchinfo")
    d = json.loads(out)
    assert d["inputs"] == [{"name": "input", "shape": [4, 3, 224, 224], "dtype": "float16"}]
    assert d["totals"]["macs"] == 4 * 861_301_280
    assert d["totals"]["param_bytes"] == 2 * 61_264_904  # fp16: 2 bytes per parameter
    assert d["convention"]["key"] == "torchinfo"


def test_output_file(capsys, tmp_path):
    target = tmp_path / "r.json"
    code, out, _ = run(capsys, "summary", "zoo:lstm_tagger", "--format", "json", "-o", str(target))
    assert (code, out) == (0, "")
    assert json.loads(target.read_text())["inputs"][0]["dtype"] == "int64"  # token ids


@pytest.mark.parametrize("argv", [
    ["summary", "missing.json"],
    ["summary", "zoo:alexnet", "--format", "xml"],
    ["summary", "zoo:alexnet", "--batch", "0"],
    ["summary", "zoo:alexnet", "--dtype", "float64"],
    ["summary", "zoo:alexnet", "--convention", "gflops"],
    ["summary"],
    ["frobnicate"],
    ["export-torch", "missing.json"],
    ["summary", "zoo:alexnet", "-o", "/nonexistent-dir/x.json"],
    ["summary", "zoo:resnet50", "--depth", "-1"],
    ["summary", "zoo:alexnet", "--input", "1,3,x"],
    ["summary", "zoo:resnet50", "--input", "1,3,,224"],
    ["summary", "model.py:Net(1)"],
])
def test_user_mistakes_exit_2_with_one_line(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("netcost: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_bad_layer_files(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "netcost.layers/1", "input_shape": [3, 8, 8], "layers": [{"type": "Conv2d", '
                   '"out_channels": 4, "kernel_size": "3"}]}')
    code, _, err = run(capsys, "summary", str(bad))
    assert code == 2 and "layers[0].kernel_size" in err and err.count("\n") == 1
    shape = tmp_path / "shape.json"
    shape.write_text('{"format": "netcost.layers/1", "input_shape": [3, 4, 4], "layers": [{"type": "Conv2d", '
                     '"name": "big", "out_channels": 4, "kernel_size": 7}]}')
    code, _, err = run(capsys, "summary", str(shape))
    assert code == 2 and "Conv2d #0 'big': kernel_size 7 is larger than the padded input 4" in err


def test_export_torch_writes_runnable_source(capsys, tmp_path):
    target = tmp_path / "model.py"
    code, _, err = run(capsys, "export-torch", "zoo:dws_conv1d", "-o", str(target))
    assert (code, err) == (0, "")
    done = subprocess.run([sys.executable, str(target)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "(1, 128, 128)"
    code, out, _ = run(capsys, "export-torch", "zoo:lstm_tagger")
    assert code == 0 and "SequenceOutput(nn.LSTM(input_size=128, hidden_size=256" in out


def test_zoo_lists_the_built_in_layer_lists(capsys):
    code, out, _ = run(capsys, "zoo")
    assert code == 0
    assert "zoo:alexnet" in out and "zoo:dws_conv1d" in out
    lines = out.splitlines()
    entries = [line for line in lines if line.startswith("  zoo:")]
    assert len(entries) == len(zoo.model_names()) + len(TORCH_ZOO)  # layer lists, hand-written graphs, models
    # one column each for the name, the default input and the description, however long the name
    assert len({line.index(line.split()[1]) for line in entries}) == 1
    rows = {line.split()[0]: line for line in entries}
    assert "  1×3×224×224  The article's AlexNet" in rows["zoo:alexnet"] and "(the default)" in rows["zoo:alexnet"]
    assert "  long 1×50  " in rows["zoo:lstm_tagger"]
    assert "  long 1×1024  GPT-2 small" in rows["zoo:gpt2"]
    assert rows["zoo:transformer_encoder"].split()[1] == "1×128×512"
    assert lines.index("Layer lists (costed directly, editable in the app):") == 0
    assert lines.index("PyTorch models (traced in the worker on the meta device):") == len(zoo.model_names()) + 1


def test_console_entry_point_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "netcost", "summary", "zoo:conv3x3", "--format", "csv"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("name,type,category")
    done = subprocess.run([sys.executable, "-m", "netcost", "summary", "nope.json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1


def test_launch_without_a_display_prints_the_summary_instead_of_aborting(capsys, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    from netcost.gui.app.entry import main as entry_main

    code = entry_main([])
    out, err = capsys.readouterr()
    assert code == 0
    assert "no display" in err and err.count("\n") == 1
    assert "AlexNet (article)" in out and "61,264,904" in out


def test_a_shape_breaking_set_is_refused_with_no_figures(capsys) -> None:
    """An edit that breaks the shapes leaves nodes not costed: `summary` and `compare` exit 2 with one line naming
    the node, and print no total, delta or "removed" (issue 22: never figures from an incomplete report)."""
    for command in ("summary", "compare"):
        assert main([command, "zoo:alexnet", "--set", "conv2.in_channels=32"]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.strip().endswith("Conv2d #3 'conv2': in_channels=32 contradicts the incoming shape, which has 96")
        assert "removed" not in err and "%" not in err


def test_devices_show_the_launch_floor(capsys, tmp_path, monkeypatch):
    code, out, _ = run(capsys, "devices")
    head, t4 = out.splitlines()[0], next(line for line in out.splitlines() if line.startswith("t4 "))
    assert code == 0 and "Launch floor" in head and "4.00 µs" in t4
    assert "1.00 µs" in next(line for line in out.splitlines() if line.startswith("xeon-8380 "))
    code, out, _ = run(capsys, "devices", "--format", "json")
    rows = {d["name"]: d for d in json.loads(out)["devices"]}
    assert rows["t4"]["launch_overhead_us"] == 4.0 and rows["epyc-9654"]["launch_overhead_us"] == 1.0
    # a devices file sets it per device, and a wrong value is named
    path = tmp_path / "config" / "netcost" / "devices.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"devices": [{"name": "mine", "peak_flops": {"fp32": 1e13}, "memory_bandwidth": 1e11,
                                             "launch_overhead_us": 12.5}]}))
    code, out, _ = run(capsys, "devices")
    assert code == 0 and "12.5 µs" in next(line for line in out.splitlines() if line.startswith("mine "))
    path.write_text(json.dumps({"devices": [{"name": "mine", "peak_flops": {"fp32": 1e13}, "memory_bandwidth": 1e11,
                                             "launch_overhead_us": -3}]}))
    code, _, err = run(capsys, "devices")
    assert code != 0 and "devices[0].launch_overhead_us: expected a number of microseconds >= 0" in err
