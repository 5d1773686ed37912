"""Calibration of this machine: sane figures (GEMM within 2x of numpy's, measured in the same run) and the cache."""

from __future__ import annotations

import json

import numpy as np

from netcost.costing.devices import Device
from netcost.model_io.files import device_files
from netcost.model_io.worker.calibrate import GEMM_N, best_time, copy_bandwidth, gemm_flops, threads


def test_gemm_within_2x_of_numpy():
    import torch

    torch.set_num_threads(threads())
    a = np.random.rand(GEMM_N, GEMM_N).astype(np.float32)
    b = np.random.rand(GEMM_N, GEMM_N).astype(np.float32)
    ours, numpy_ = [], []
    for _ in range(3):  # interleaved, so a burst of load from other processes hits both alike
        ours.append(gemm_flops("fp32", budget_s=0.2))
        numpy_.append(2 * GEMM_N ** 3 / best_time(lambda: a @ b, lambda: None, 0.2))
    ratio = max(ours) / max(numpy_)
    assert 0.5 <= ratio <= 2.0, f"torch GEMM {max(ours) / 1e9:.1f} GFLOP/s vs numpy {max(numpy_) / 1e9:.1f}"


def test_copy_bandwidth_is_sane():
    bw = copy_bandwidth(16 << 20, budget_s=0.2)
    assert 5e8 < bw < 5e12  # 0.5 GB/s .. 5 TB/s: any machine this runs on


def test_calibration_cache_round_trip(tmp_path):
    dev = Device("this-machine", {"fp32": 1e11}, 2e10, "calibrated: test", "cpu")
    path = device_files.save_calibration((dev,))
    assert path == tmp_path / "cache" / "netcost" / "calibration.json"
    assert device_files.lookup("this-machine") == dev
    data = json.loads(path.read_text())
    data["fingerprint"]["cpu"] = "another CPU"  # a cache copied from elsewhere is not this machine's
    path.write_text(json.dumps(data))
    assert device_files.load_calibration() == ()
    path.write_text("{broken")
    assert device_files.load_calibration() == ()


def test_calibrate_command_caches_this_machine(capsys):
    from netcost.model_io.cli.cli import main

    assert main(["devices", "--calibrate", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    mine = next(d for d in json.loads(out)["devices"] if d["name"] == "this-machine")
    assert mine["peak_flops"]["fp32"] > 1e9 and mine["memory_bandwidth"] > 5e8
    assert "calibrated this machine; cached in" in err
    assert device_files.lookup("this-machine").peak_flops["fp32"] == mine["peak_flops"]["fp32"]
