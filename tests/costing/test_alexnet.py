"""The article's AlexNet (zoo:alexnet): every figure of formulas.md, per layer, in total and in each peer view."""

from __future__ import annotations

import pytest

from netcost.costing import evaluate
from netcost.costing import formatting as fmt
from netcost.model_io.files import zoo


@pytest.fixture(scope="module")
def report():
    return evaluate(zoo.load_layer_list("alexnet"))


# (name, output shape without batch, params, MACs) from formulas.md's table
ARTICLE = [
    ("conv1", (96, 55, 55), 34_848, 105_415_200),  # 11*11*3*96; 363*55*55*96
    ("conv2", (192, 27, 27), 460_800, 335_923_200),  # 5*5*96*192; 2,400*729*192
    ("conv3", (384, 13, 13), 663_552, 112_140_288),  # 3*3*192*384; 1,728*169*384
    ("conv4", (256, 13, 13), 884_736, 149_520_384),  # 3*3*384*256; 3,456*169*256
    ("conv5", (256, 13, 13), 589_824, 99_680_256),  # 3*3*256*256; 2,304*169*256
    ("fc1", (4096,), 37_752_832, 37_748_736),  # 9,216*4,096 + 4,096; 9,216*4,096
    ("fc2", (4096,), 16_781_312, 16_777_216),  # 4,096*4,096 + 4,096
    ("fc3", (1000,), 4_097_000, 4_096_000),  # 4,096*1,000 + 1,000
]


@pytest.mark.parametrize(("name", "shape", "params", "macs"), ARTICLE)
def test_article_table_rows(report, name, shape, params, macs):
    row = next(r for r in report.layers if r.name == name)
    assert row.output_shape == (1, *shape)
    assert (row.params, row.macs) == (params, macs)


def test_totals(report):
    assert report.totals.params == 61_264_904 == sum(p for _, _, p, _ in ARTICLE)
    assert report.totals.macs == 861_301_280 == sum(m for _, _, _, m in ARTICLE)
    assert report.totals.trainable_params == 61_264_904 and report.totals.frozen_params == 0
    assert report.output_shape == (1, 1000)


@pytest.mark.parametrize(("peer", "figure"), [
    ("thop", 861_301_280),  # MACs of conv + linear
    ("fvcore", 861_301_280),  # one "flop" per MAC
    ("torchinfo", 861_310_472),  # + 9,192 linear bias adds (4,096 + 4,096 + 1,000)
    # + 9,192 bias + 2 x 589,984 ReLU outputs + 2 x 473,632 max-pool inputs (module hook + functional patch)
    ("ptflops", 863_437_704),
    ("flop_counter", 1_722_602_560),  # 2 x 861,301,280
])
def test_peer_views(report, peer, figure):
    assert report.totals.peer_views()[peer] == figure


def test_ptflops_arithmetic(report):
    relu = sum(r.totals.activation_bytes // 4 for r in report.layers if r.type == "ReLU")
    pool_in = sum(r.input_shape[1] * r.input_shape[2] * r.input_shape[3] for r in report.layers
                  if r.type == "MaxPool2d")
    assert (relu, pool_in) == (589_984, 473_632)
    assert 861_301_280 + 9_192 + 2 * relu + 2 * pool_in == report.totals.ptflops


def test_torchsummary_figures(report):
    s = report.summary
    # input 3*224*224*4 B = 602,112 B = 0.57 MiB; params 61,264,904*4 B = 233.71 MiB
    assert s.input_bytes == 602_112 and s.params_bytes == 245_059_616
    assert (fmt.mib(s.input_bytes), fmt.mib(s.forward_backward_bytes), fmt.mib(s.params_bytes),
            fmt.mib(s.total_bytes)) == ("0.57", "9.96", "233.71", "244.24")


def test_conv_vs_linear_split(report):
    # conv: 2,633,760 of 61,264,904 params (4.3 %), 802,679,328 of 861,301,280 MACs (93.2 %)
    assert report.by_category["conv"].params == 2_633_760
    assert report.by_category["conv"].macs == 802_679_328
    assert fmt.percent(report.category_share("conv", "params")) == "4.3 %"
    assert fmt.percent(report.category_share("conv", "macs")) == "93.2 %"
    assert fmt.percent(report.category_share("linear", "params")) == "95.7 %"
    assert fmt.percent(report.category_share("linear", "macs")) == "6.8 %"


def test_categories_add_up_to_the_totals(report):
    total = None
    for t in report.by_category.values():
        total = t if total is None else total + t
    assert total == report.totals
