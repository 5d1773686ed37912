"""costing.graph_edits: the layer-list edits the app makes, as graph functions (no Qt)."""

from __future__ import annotations

import pytest

from netcost.costing import LayerSpec, Network
from netcost.costing.chain import graph_from_network
from netcost.costing.graph import Ref
from netcost.costing.graph_edits import insert_layers, reorder_chain, with_inputs
from netcost.costing.graph_eval import evaluate_graph


def _chain():
    net = Network((LayerSpec("Conv2d", {"out_channels": 8, "kernel_size": 3}), LayerSpec("ReLU", {}),
                   LayerSpec("Flatten", {})), (3, 16, 16), "small")
    return graph_from_network(net)


def test_insert_rewires_the_readers_of_the_row_above() -> None:
    g = _chain()
    conv, relu = g.nodes[0].id, g.nodes[1].id
    new, dirty, ids = insert_layers(g, 1, [LayerSpec("BatchNorm2d", {}), LayerSpec("ReLU", {})])
    assert [n.id for n in new.nodes][1:3] == ids and len(set(ids)) == 2
    assert new.node(ids[0]).inputs == (Ref(conv),) and new.node(relu).inputs == (Ref(ids[1]),)
    assert set(ids) | {relu} <= dirty
    assert evaluate_graph(new).complete


def test_reorder_and_inputs() -> None:
    g = _chain()
    moved, dirty = reorder_chain(g, [1, 0, 2])
    assert [n.op for n in moved.nodes] == ["ReLU", "Conv2d", "Flatten"] and dirty == set(g.index)
    assert moved.nodes[1].inputs == (Ref(moved.nodes[0].id),)
    bigger, touched = with_inputs(g, batch_size=4, input_shape=[3, 32, 32])
    assert bigger.inputs[0].shape == (4, 3, 32, 32) and touched == {g.nodes[0].id}
    with pytest.raises(ValueError, match="batch_size"):
        with_inputs(g, batch_size=0)
