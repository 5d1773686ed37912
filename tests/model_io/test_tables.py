"""Report tables: the `netcost.report/1` JSON schema, CSV, Markdown and the terminal table."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pytest

from netcost.costing import CATEGORIES, PEERS, LayerSpec, Network, evaluate, evaluate_graph, graph_from_network
from netcost.costing.graph import Scope
from netcost.model_io.files import tables, zoo

TOTAL_KEYS = ("params", "trainable_params", "frozen_params", "buffers", "macs", "flops", "param_bytes",
              "activation_bytes", "memory_access_bytes")
LAYER_KEYS = ("name", "type", "category", "depth", "output_shape", "params", "macs", "flops", "memory_access_bytes")


@pytest.fixture(scope="module")
def alexnet():
    return evaluate(zoo.load_layer_list("alexnet"))


def test_json_schema(alexnet):
    d = json.loads(tables.to_json(alexnet, "macs"))
    assert d["schema"] == "netcost.report/1"
    assert d["model"] == "AlexNet (article)"
    assert d["inputs"] == [{"name": "input", "shape": [1, 3, 224, 224], "dtype": "float32"}]
    assert d["convention"]["key"] == "macs" and d["convention"]["value"] == 861_301_280
    t = d["totals"]
    for key in TOTAL_KEYS:
        assert type(t[key]) is int, key
    assert (t["params"], t["macs"]) == (61_264_904, 861_301_280)
    assert t["param_bytes"] == 245_059_616  # 61,264,904 x 4 B
    assert t["peer_views"] == {"thop": 861_301_280, "fvcore": 861_301_280, "torchinfo": 861_310_472,
                               "ptflops": 863_437_704, "flop_counter": 1_722_602_560}
    assert set(d["by_category"]) == set(CATEGORIES)
    for cat in d["by_category"].values():
        assert set(TOTAL_KEYS) | {"peer_views"} == set(cat) and set(cat["peer_views"]) == set(PEERS)
    assert sum(c["params"] for c in d["by_category"].values()) == t["params"]
    assert len(d["layers"]) == 21
    for row in d["layers"]:
        assert set(LAYER_KEYS) <= set(row)
    assert d["layers"][0]["name"] == "conv1" and d["layers"][0]["output_shape"] == [1, 96, 55, 55]
    assert [r["name"] for r in d["layers"]][-1] == "fc3"
    assert d["unsupported"] == [] and d["warnings"] == []


def test_json_of_a_composite_lists_its_parts():
    d = tables.to_dict(evaluate(zoo.load_layer_list("dws_conv1d")))
    parts = d["layers"][0]["parts"]
    assert [(p["name"], p["params"]) for p in parts] == [("depthwise", 192), ("pointwise", 8_192)]


def test_csv(alexnet):
    rows = list(csv.DictReader(io.StringIO(tables.to_csv(alexnet, "flop_counter"))))
    assert len(rows) == 22  # 21 layers + TOTAL
    body, total = rows[:-1], rows[-1]
    assert total["name"] == "TOTAL" and int(total["params"]) == 61_264_904
    assert sum(int(r["params"]) for r in body) == 61_264_904
    assert sum(int(r["convention_value"]) for r in body) == int(total["convention_value"]) == 1_722_602_560
    assert body[0]["output_shape"] == "1x96x55x55"
    assert float(body[15]["pct_params"]) == pytest.approx(37_752_832 / 61_264_904 * 100, abs=1e-4)  # fc1


def test_markdown(alexnet):
    md = tables.to_markdown(alexnet)
    lines = md.splitlines()
    assert lines[0] == "## AlexNet (article)"
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == 2 + 21  # header, rule, 21 layers
    assert "| 15 | fc1 | Linear | 1×4096 | 37,752,832 | 37,748,736 |" in md
    assert "- Split — conv: 4.3 % of params, 93.2 % of MACs; linear: 95.7 % of params, 6.8 % of MACs" in lines


def test_markdown_escapes_pipes():
    net = Network((LayerSpec("ReLU", name="a|b"),), (2,))
    assert "a\\|b" in tables.to_markdown(evaluate(net))


def test_terminal_table(alexnet):
    text = tables.to_table(alexnet, "macs")
    assert text.startswith("AlexNet (article) — input 1×3×224×224, batch 1, float32")
    assert "Total params: 61,264,904" in text
    assert "MACs: 861,301,280 (861 M)" in text
    assert "torchsummary: input 0.57 MB, forward/backward pass 9.96 MB, params 233.71 MB, total 244.24 MB" in text
    assert "thop flops 861,301,280" in text and "ptflops MACs 863,437,704" in text
    assert "93.2 % of MACs" in text
    body = text.splitlines()
    widths = {len(line) for line in body[2:2 + 22]}  # header + rule + rows are aligned to one width
    assert len(widths) == 1


def test_depth_collapses_containers():
    net = Network((LayerSpec("Linear", {"out_features": 4}), LayerSpec("ReLU"), LayerSpec("Linear",
                                                                                          {"out_features": 2})),
                  (3,))
    chain = graph_from_network(net)  # its first two layers in a container, as a traced model's Sequential
    nodes = tuple(replace(n, scope="block") if i < 2 else n for i, n in enumerate(chain.nodes))
    traced = evaluate_graph(replace(chain, nodes=nodes, scopes=(Scope("block", "Sequential"),)))
    assert [(h.path, h.depth, h.first, h.last) for h in traced.hierarchy] == [("block", 1, 0, 1)]
    rows = tables.visible_layers(traced, 1)
    assert [r.name for r in rows] == ["block", "Linear-2"]
    assert rows[0].params == 16 + 0  # Linear 3 -> 4: 3*4 + 4
    assert tables.visible_layers(traced) == list(traced.layers)
    assert [r.totals for r in traced.layers] == [r.totals for r in evaluate(net).layers]
    d = tables.to_dict(traced, depth=1)
    assert [r["name"] for r in d["layers"]] == ["block", "Linear-2"]
    assert d["hierarchy"][0]["params"] == 16


@pytest.fixture(scope="module")
def resnet50():
    from netcost.model_io.importers.tracer import InputSpec, meta_construction, trace_module
    from netcost.resources.zoo_models import ZOO

    with meta_construction():
        model = ZOO["resnet50"].build()
    return trace_module(model, [InputSpec((1, 3, 224, 224))])


# depth 4: 126 leaf modules + 32 repeated ReLU calls (each Bottleneck calls its ReLU 3 times) + 16 residual adds
# + the root's flatten = 175; depth 3 folds the 4 downsample Sequentials (2 rows each) into one row each
@pytest.mark.parametrize("depth,count", [(0, 1), (1, 11), (2, 23), (3, 171), (4, 175)])
def test_depth_on_a_traced_resnet50_adds_up(resnet50, depth, count):
    rows = tables.visible_layers(resnet50, depth)
    assert len(rows) == count
    total = sum((r.totals for r in rows), type(resnet50.totals)())
    assert total == resnet50.totals  # every figure, peer views included: nothing lost or counted twice
    assert all(r.depth <= depth for r in rows)
    d = tables.to_dict(resnet50, depth=depth)
    assert len(d["layers"]) == count
    for key in TOTAL_KEYS:
        assert sum(r[key] for r in d["layers"]) == d["totals"][key], key
    for node in d["hierarchy"]:  # spans index the collapsed rows, and hold their subtotals
        assert node["depth"] <= depth
        span = d["layers"][node["first"]:node["last"] + 1]
        assert sum(r["params"] for r in span) == node["params"] and sum(r["macs"] for r in span) == node["macs"]


def test_depth_rows_of_a_traced_resnet50(resnet50):
    (whole,) = tables.visible_layers(resnet50, 0)
    assert (whole.name, whole.type, whole.category) == ("ResNet", "ResNet", "conv")
    assert whole.output_shape == (1, 1000) and whole.params == 25_557_032 and whole.macs == 4_089_184_256
    top = tables.visible_layers(resnet50, 1)
    assert [r.name for r in top] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                                     "avgpool", "view", "fc"]  # "view": the root's own op (torch.flatten)
    assert [r.inputs for r in top[4:]] == [("maxpool",), ("layer1",), ("layer2",), ("layer3",), ("layer4",),
                                           ("avgpool",), ("view",)]  # edges between the folded rows
    layer4 = top[7]
    assert (layer4.type, layer4.output_shape, layer4.params) == ("Sequential", (1, 2048, 7, 7), 14_964_736)
    blocks = [r for r in tables.visible_layers(resnet50, 2) if r.type == "Bottleneck"]
    assert len(blocks) == 3 + 4 + 6 + 3
    table = tables.to_table(resnet50, depth=1)
    assert "layer4" in table and "layer4.0" not in table and "Total params: 25,557,032" in table
