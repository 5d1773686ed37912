"""The roofline latency estimate and the device presets, checked by hand arithmetic."""

from __future__ import annotations

import pytest

from netcost.costing import LayerSpec, Network, cost_layer, evaluate
from netcost.costing import formatting as fmt
from netcost.costing.devices import PRESETS, Device, DeviceError, find_device, merge, parse_devices
from netcost.costing.latency import estimate, layer_latency, rank_correlation, roofline_time

# A round device: 1 TFLOP/s fp32, 2 TFLOP/s fp16, 100 GB/s -> ridge point 10 FLOPs/byte in fp32; no launch floor
# (the hand arithmetic below is the plain roofline; the floor has its own tests).
ROUND = Device("round", {"fp32": 1e12, "fp16": 2e12}, 100e9, "test", launch_overhead_us=0.0)


def test_linear_is_memory_bound_by_hand():
    # Linear 16 -> 32 on (2, 5, 7, 16): 73,920 FLOPs, 15,616 B moved (see test_formulas)
    r = cost_layer(LayerSpec("Linear", {"out_features": 32}), 0, (2, 5, 7, 16))
    lat = layer_latency(r, 1e12, 100e9)
    assert lat.compute_s == pytest.approx(73_920 / 1e12)  # 73.92 ns
    assert lat.memory_s == pytest.approx(15_616 / 100e9)  # 156.16 ns
    assert lat.seconds == pytest.approx(156.16e-9)  # the larger of the two
    assert lat.bound == "memory"  # intensity 4.73 FLOPs/B < ridge 10
    assert lat.attained_flops == pytest.approx(73_920 / 156.16e-9)  # 473 GFLOP/s, under the 1 TFLOP/s roof


def test_big_conv_is_compute_bound_by_hand():
    # Conv2d 64 -> 64, 3x3, pad 1, no bias on 1x64x56x56: MACs 56*56*64*64*9 = 115,605,504; FLOPs 231,211,008.
    # Bytes: input 200,704 + weights 36,864 read, output 200,704 written = 438,272 elements x 4 = 1,753,088 B.
    r = cost_layer(LayerSpec("Conv2d", {"out_channels": 64, "kernel_size": 3, "padding": 1, "bias": False}), 0,
                   (1, 64, 56, 56))
    assert (r.flops, r.memory_access_bytes) == (231_211_008, 1_753_088)
    lat = layer_latency(r, 1e12, 100e9)
    assert lat.seconds == pytest.approx(231.211008e-6)  # 231,211,008 / 1e12 > 1,753,088 / 1e11 = 17.5 µs
    assert lat.bound == "compute"
    assert lat.intensity == pytest.approx(131.9, abs=0.05)  # 231,211,008 / 1,753,088


def test_row_without_work_has_no_bound():
    lat = roofline_time(0, 0, 1e12, 100e9)  # a traced view moves nothing
    assert (lat.seconds, lat.bound, lat.attained_flops) == (0.0, "none", 0.0)


def _net(dtype: str = "float32") -> Network:
    return Network([LayerSpec("Linear", {"out_features": 32}), LayerSpec("ReLU", {})], (16,), "t", batch_size=4,
                   dtype=dtype)


def test_report_totals_are_the_sum_and_dtype_picks_the_peak():
    report = evaluate(_net())
    est = estimate(report, ROUND)
    assert est.peak_key == "fp32" and est.ridge_point == pytest.approx(10.0)  # 1e12 / 1e11
    # Linear 16->32 at batch 4: 4,224 FLOPs (2*2,048 MACs + 128 bias); read 64 + 544 = 608, written 128 elements
    # -> 736 x 4 = 2,944 B -> memory 29.44 ns. ReLU: 128 FLOPs; 256 elements x 4 = 1,024 B -> 10.24 ns.
    assert est.rows[0].seconds == pytest.approx(29.44e-9)
    assert est.rows[1].seconds == pytest.approx(10.24e-9)
    assert est.total_s == pytest.approx(39.68e-9)
    assert est.total.bound == "memory"
    half = estimate(evaluate(_net("float16")), ROUND)
    assert half.peak_key == "fp16" and half.ridge_point == pytest.approx(20.0)  # 2e12 / 1e11
    assert half.total_s == pytest.approx(39.68e-9 / 2)  # half the bytes, still memory-bound
    # bfloat16 has no figure on this device: the fp32 peak is used and named
    assert estimate(evaluate(_net("bfloat16")), ROUND).peak_key == "fp32"
    assert estimate(report, ROUND, "fp16").peak_key == "fp16"


def test_span_combines_rows():
    est = estimate(evaluate(_net()), ROUND)
    both = est.span(0, 1)
    assert both.seconds == pytest.approx(39.68e-9) and both.flops == 4_224 + 128
    assert est.attainable(1.0) == pytest.approx(100e9) and est.attainable(1e6) == 1e12  # the two roofs


def test_presets_are_sane():
    names = [d.name for d in PRESETS]
    assert len(names) == len(set(names))
    a100 = find_device("A100-40GB", PRESETS)
    assert a100.peak("float16") == (312e12, "fp16")  # dense tensor-core figure, data sheet
    assert a100.ridge_point("float32") == pytest.approx(19.5e12 / 1555e9)  # 12.5 FLOPs/B
    assert find_device("t4", PRESETS).peak("bfloat16")[1] == "fp32"  # Turing has no bf16
    for d in PRESETS:
        assert d.peak_flops["fp32"] > 1e11 and d.memory_bandwidth > 1e10 and d.source


def test_user_devices_validate_and_override():
    mine = parse_devices({"devices": [{"name": "t4", "peak_flops": {"fp32": 1e13}, "memory_bandwidth": 3e11,
                                       "source": "mine"}]}, "devices.json")
    merged = merge(PRESETS, mine)
    assert find_device("t4", merged).source == "mine" and len(merged) == len(PRESETS)
    with pytest.raises(DeviceError, match=r"devices.json: devices\[0\].memory_bandwidth: expected a positive"):
        parse_devices({"devices": [{"name": "x", "peak_flops": {"fp32": 1}, "memory_bandwidth": -1}]},
                      "devices.json")
    with pytest.raises(DeviceError, match=r"peak_flops.fp64: unknown dtype"):
        parse_devices({"devices": [{"name": "x", "peak_flops": {"fp32": 1, "fp64": 1}, "memory_bandwidth": 1}]},
                      "f")
    with pytest.raises(DeviceError, match="expected an object with a \"devices\" list"):
        parse_devices([], "f")
    with pytest.raises(DeviceError, match="unknown device 'nope'; known: a100-40gb"):
        find_device("nope", PRESETS)


def test_duration_format():
    assert [fmt.duration(v) for v in (0, 156.16e-9, 231.2e-6, 0.0999996, 2.5)] == \
        ["0 s", "156 ns", "231 µs", "100 ms", "2.50 s"]


def test_rank_correlation():
    assert rank_correlation([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert rank_correlation([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks x 1,2,3,4 vs y 1,3,2,4: d² = 0+1+1+0 = 2 -> 1 - 6*2 / (4*15) = 0.8
    assert rank_correlation([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    # a tie shares its average rank: y ranks 1, 2.5, 2.5, 4 -> Pearson of the ranks = 0.9487
    assert rank_correlation([1, 2, 3, 4], [5, 6, 6, 9]) == pytest.approx(0.9487, abs=1e-4)
    assert rank_correlation([1, 2], [1, 2]) is None and rank_correlation([1, 1, 1], [1, 2, 3]) is None


def test_launch_floor_is_the_shortest_a_kernel_takes():
    floored = Device("round", {"fp32": 1e12}, 100e9, "test", launch_overhead_us=5.0)
    est = estimate(evaluate(_net()), floored)
    # Linear 29.44 ns and ReLU 10.24 ns of roofline time: each waits for its 5 µs launch instead
    assert [r.seconds for r in est.rows] == [pytest.approx(5e-6)] * 2
    assert [r.bound for r in est.rows] == ["launch", "launch"] and est.total.bound == "launch"
    assert est.rows[0].memory_s == pytest.approx(29.44e-9)  # the roofline terms are kept for the tooltip
    # a kernel longer than the floor is not charged it (launches are queued while the previous kernel runs)
    assert roofline_time(231_211_008, 1_753_088, 1e12, 100e9, 5e-6).seconds == pytest.approx(231.211008e-6)
    assert roofline_time(0, 0, 1e12, 100e9, 5e-6).seconds == 0.0  # a view launches nothing


def test_launch_floor_defaults_per_kind_and_validates():
    assert find_device("t4", PRESETS).launch_overhead_us == 4.0
    assert find_device("xeon-8380", PRESETS).launch_overhead_us == 1.0
    assert find_device("apple-m1", PRESETS).launch_overhead_us == 4.0
    mine = parse_devices({"devices": [{"name": "x", "peak_flops": {"fp32": 1e13}, "memory_bandwidth": 3e11},
                                      {"name": "y", "peak_flops": {"fp32": 1e13}, "memory_bandwidth": 3e11,
                                       "kind": "cpu", "launch_overhead_us": 0}]}, "f")
    assert [d.launch_overhead_us for d in mine] == [4.0, 0.0]
    assert mine[0].as_dict()["launch_overhead_us"] == 4.0
    for bad in (-1, "5", True, float("nan")):
        with pytest.raises(DeviceError, match=r"devices\[0\].launch_overhead_us: expected a number of microseconds"):
            parse_devices({"devices": [{"name": "x", "peak_flops": {"fp32": 1}, "memory_bandwidth": 1,
                                        "launch_overhead_us": bad}]}, "f")
