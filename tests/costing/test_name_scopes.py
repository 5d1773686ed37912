"""A layer list's dotted names give its graph module scopes (costing.name_scopes), and saving drops them again."""

from __future__ import annotations

from netcost.costing import LayerSpec, Network
from netcost.costing.chain import graph_from_network, network_of
from netcost.costing.graph import Scope
from netcost.costing.graph_eval import evaluate_graph
from netcost.costing.name_scopes import NAME_GROUP, scopes_of_names


def _vgg_like() -> Network:
    return Network((LayerSpec("Conv2d", {"in_channels": 3, "out_channels": 8, "kernel_size": 3}, "features.0"),
                    LayerSpec("ReLU", {}, "features.1"),
                    LayerSpec("MaxPool2d", {"kernel_size": 2}, "features.2"),
                    LayerSpec("Flatten", {}, "flatten"),
                    LayerSpec("Linear", {"in_features": 8 * 15 * 15, "out_features": 10}, "classifier.0"),
                    LayerSpec("ReLU", {}, "classifier.1"),
                    LayerSpec("Linear", {"in_features": 10, "out_features": 2}, "classifier.2")), (3, 32, 32))


def test_common_prefixes_of_consecutive_rows_are_scopes() -> None:
    rows, scopes = scopes_of_names(["layer1.0.conv1", "layer1.0.bn1", "layer1.1.conv1", "fc", "x.a", "y.b", "x.c",
                                    "head.fc"])
    # layer1.1 and head hold one row each; x's rows are not consecutive: no frame says anything there
    assert scopes == (Scope("layer1", NAME_GROUP), Scope("layer1.0", NAME_GROUP))
    assert rows == ("layer1.0", "layer1.0", "layer1", "", "", "", "", "")


def test_a_layer_lists_graph_has_the_frames_and_their_subtotals() -> None:
    net = _vgg_like()
    graph = graph_from_network(net)
    assert [s.path for s in graph.scopes] == ["features", "classifier"]
    assert [n.scope for n in graph.nodes] == ["features"] * 3 + [""] + ["classifier"] * 3
    report = evaluate_graph(graph)
    sub = {h.path: h.totals for h in report.hierarchy}
    assert sub["features"].flops == sum(r.totals.flops for r in report.layers[:3])
    assert sub["classifier"].params == 8 * 15 * 15 * 10 + 10 + 10 * 2 + 2
    assert network_of(graph) == net  # saved as the layer list it is: the scopes come from the names again


def test_names_without_common_prefixes_leave_the_chain_flat() -> None:
    net = Network((LayerSpec("Linear", {"in_features": 4, "out_features": 4}, "fc1"),
                   LayerSpec("ReLU", {}, "act.relu")), (4,))
    assert graph_from_network(net).scopes == ()
