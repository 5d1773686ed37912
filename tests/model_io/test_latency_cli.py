"""`netcost devices` and `summary --device/--measure`: the CLI contract, by hand arithmetic on real rows."""

from __future__ import annotations

import csv
import io
import json

import pytest

from netcost.model_io.cli.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_devices_json_contract_and_user_file(capsys, tmp_path):
    code, out, _ = run(capsys, "devices", "--format", "json")
    devices = json.loads(out)["devices"]
    assert code == 0 and all(set(d) == {"name", "peak_flops", "memory_bandwidth", "launch_overhead_us", "source"}
                             for d in devices)
    a100 = next(d for d in devices if d["name"] == "a100-40gb")
    assert a100["peak_flops"]["fp16"] == 312e12 and a100["memory_bandwidth"] == 1555e9
    assert not any(d["name"] == "this-machine" for d in devices)  # not calibrated in this empty cache
    mine = tmp_path / "config" / "netcost" / "devices.json"
    mine.parent.mkdir(parents=True)
    mine.write_text(json.dumps({"devices": [{"name": "lab-box", "peak_flops": {"fp32": 2e12},
                                             "memory_bandwidth": 1e11, "source": "our lab"}]}))
    _, out, _ = run(capsys, "devices", "--format", "json")
    assert json.loads(out)["devices"][-1] == {"name": "lab-box", "peak_flops": {"fp32": 2e12},
                                             "memory_bandwidth": 1e11, "launch_overhead_us": 4.0,  # a GPU's
                                             "source": "our lab"}
    _, out, _ = run(capsys, "devices")
    assert "lab-box" in out and "12.5 FLOPs/B" in out  # the A100's fp32 ridge point: 19.5e12 / 1555e9


def test_bad_user_device_file_is_one_line(capsys, tmp_path):
    mine = tmp_path / "config" / "netcost" / "devices.json"
    mine.parent.mkdir(parents=True)
    mine.write_text('{"devices": [{"name": "x", "peak_flops": {"fp32": "fast"}, "memory_bandwidth": 1}]}')
    code, out, err = run(capsys, "devices")
    assert code == 2 and out == ""
    assert err == f"netcost: error: {mine}: devices[0].peak_flops.fp32: expected a positive number of FLOP/s, " \
                  f"got 'fast'\n"


def test_summary_device_adds_latency_by_hand(capsys):
    _, plain, _ = run(capsys, "summary", "zoo:alexnet", "--format", "json")
    code, out, err = run(capsys, "summary", "zoo:alexnet", "--device", "A100-40GB", "--format", "json")
    assert (code, err) == (0, "")
    d, p = json.loads(out), json.loads(plain)
    for row, before in zip(d["layers"], p["layers"], strict=True):  # existing keys unchanged, two added
        assert {k: v for k, v in row.items() if k not in ("latency_s", "bound")} == before
    conv1, fc1 = d["layers"][0], d["layers"][15]
    # conv1 (no bias): 2 x 105,415,200 MACs = 210,830,400 FLOPs / 19.5e12 = 10.81 µs; bytes: input 150,528 +
    # weights 34,848 + output 290,400 = 475,776 x 4 B = 1,903,104 B / 1555e9 = 1.22 µs -> compute-bound
    assert (conv1["flops"], conv1["memory_access_bytes"], conv1["bound"]) == (210_830_400, 1_903_104, "compute")
    assert conv1["latency_s"] == pytest.approx(210_830_400 / 19.5e12)
    # fc1 (9216 -> 4096): 151 MB of weights moved at 1555 GB/s = 97.1 µs, far above its 75.5 MFLOPs / 19.5e12
    assert fc1["bound"] == "memory" and fc1["latency_s"] == pytest.approx(fc1["memory_access_bytes"] / 1555e9)
    assert d["totals"]["latency_s"] == pytest.approx(sum(r["latency_s"] for r in d["layers"]))
    assert d["latency"]["ridge_point"] == pytest.approx(19.5e12 / 1555e9)
    assert "no fusion" in d["latency"]["convention"] and "measurement" not in d
    assert d["totals"] == {**p["totals"], "latency_s": d["totals"]["latency_s"]}


def test_summary_device_in_text_formats(capsys):
    _, out, _ = run(capsys, "summary", "zoo:alexnet", "--device", "t4", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["bound"] == "compute" and float(rows[0]["latency_s"]) == pytest.approx(210_830_400 / 8.1e12)
    assert rows[-1]["name"] == "TOTAL" and float(rows[-1]["latency_s"]) == pytest.approx(
        sum(float(r["latency_s"]) for r in rows[:-1]))
    _, out, _ = run(capsys, "summary", "zoo:alexnet", "--device", "t4")
    assert "Est. latency" in out and "Bound" in out
    assert "Estimated latency on t4:" in out and "roofline, no fusion" in out  # the convention, on screen


def test_unknown_device_is_one_line(capsys):
    code, out, err = run(capsys, "summary", "zoo:alexnet", "--device", "a200")
    assert code == 2 and out == "" and err.startswith("netcost: error: unknown device 'a200'; known: a100-40gb")
    code, _, err = run(capsys, "summary", "zoo:alexnet", "--device", "this-machine")
    assert code == 2 and "`netcost devices --calibrate` measures this-machine" in err


def test_collapsed_rows_add_their_layers_latency(capsys):
    code, out, _ = run(capsys, "summary", "zoo:resnet18", "--device", "l4", "--format", "json", "--depth", "1")
    assert code == 0
    d = json.loads(out)
    _, full, _ = run(capsys, "summary", "zoo:resnet18", "--device", "l4", "--format", "json")
    leaves = json.loads(full)["layers"]
    layer1 = next(r for r in d["layers"] if r["name"] == "layer1")
    inside = [r["latency_s"] for r in leaves if r["path"].startswith("layer1.")]
    # 2 BasicBlocks: 5 modules, a second ReLU call and the residual add each
    assert len(inside) == 14 and layer1["latency_s"] == pytest.approx(sum(inside))  # not max() of the sums
    assert d["totals"]["latency_s"] == pytest.approx(json.loads(full)["totals"]["latency_s"])


def test_peak_option_picks_another_roof(capsys):
    code, out, _ = run(capsys, "summary", "zoo:alexnet", "--device", "a100-40gb", "--peak", "tf32", "--format", "json")
    d = json.loads(out)
    conv1 = d["layers"][0]
    # TF32 tensor cores: 210,830,400 / 156e12 = 1.35 µs, above 1,903,104 B / 1555e9 = 1.22 µs, and both under the
    # A100's 4 µs launch floor
    assert code == 0 and d["latency"]["peak_dtype"] == "tf32" and conv1["bound"] == "launch"
    assert conv1["latency_s"] == pytest.approx(4e-6)
    fc1 = next(r for r in d["layers"] if r["name"] == "fc1")  # 151 MB at 1,555 GB/s: far above the floor
    assert fc1["bound"] == "memory" and fc1["latency_s"] == pytest.approx(fc1["memory_access_bytes"] / 1555e9)
    code, _, err = run(capsys, "summary", "zoo:alexnet", "--device", "a100-40gb", "--peak", "fp64")
    assert code == 2 and "argument --peak: invalid choice: 'fp64'" in err
