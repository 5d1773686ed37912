"""Number formatting shared by every view: SI counts, binary bytes, torchsummary MiB, percentages, key args."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netcost.costing import formatting as fmt


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (12, "12"), (999, "999"), (1_000, "1.00 K"), (1_234_567, "1.23 M"), (861_301_280, "861 M"),
    (1_722_602_560, "1.72 G"), (-2_500, "-2.50 K"), (0.5, "0.50"),
    (999_999, "1.00 M"),  # 999.999 K rounds to 1000 K: it must read as the next prefix
    (999.6, "1.00 K"), (999_499, "999 K"),
])
def test_si(value, text):
    assert fmt.si(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (0, "0 B"), (1_023, "1023 B"), (1_024, "1.0 KiB"), (245_059_616, "233.7 MiB"),  # AlexNet's fp32 params
    (1_048_575, "1.0 MiB"),  # 1023.999 KiB rounds up: never '1024.0 KiB'
    (5 << 30, "5.0 GiB"),
])
def test_nbytes(value, text):
    assert fmt.nbytes(value) == text


@given(st.integers(0, 999 * 10**12))  # up to 999 T (T is the largest prefix)
def test_si_mantissa_stays_below_1000(value):
    number = fmt.si(value).split(" ")[0]
    assert float(number) < 1000


def test_mib_percent_grouped_delta_shape():
    assert fmt.mib(245_059_616) == "233.71"  # / 2**20
    assert fmt.percent(0.932) == "93.2 %"
    assert fmt.grouped(61_264_904) == "61,264,904"
    assert fmt.delta(110, 100) == "+10 (+10.0 %)" and fmt.delta(5, 5) == "±0"
    assert fmt.shape((1, 96, 55, 55)) == "1×96×55×55"


def test_key_args():
    assert fmt.key_args("Conv2d", {"in_channels": 3, "out_channels": 96, "kernel_size": (11, 11), "stride": (4, 4),
                                   "padding": (2, 2), "dilation": (1, 1), "groups": 1, "bias": False}) == \
        "3→96 k11 s4 p2 no bias"
    assert fmt.key_args("LSTM", {"input_size": 128, "hidden_size": 256, "num_layers": 2, "bidirectional": True}) \
        == "128→256 ×2 bi"
