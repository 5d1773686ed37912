"""The Latency column of the layer table and the diagram's colour-by-latency: the roofline estimate on the Latency
dock's device, found by node id, following the device and the document."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from netcost.costing.chain import graph_from_network
from netcost.costing.graph import Graph, GraphInput, Node, Ref, Scope
from netcost.costing.graph_eval import evaluate_graph
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.diagram.view import DiagramView
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.latency_state import LatencyState
from netcost.gui.table.layer_table_model import LATENCY, SORT_ROLE, LayerTableModel
from netcost.model_io.files.zoo import load_layer_list

DISPLAY, TOOLTIP = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole
# A100 40 GB (costing.devices): 19.5 TFLOP/s fp32, 1555 GB/s; T4: 8.1 TFLOP/s fp32, 320 GB/s
A100, T4 = (19.5e12, 1555e9), (8.1e12, 320e9)


@pytest.fixture
def doc(qtbot) -> CostDocument:
    return CostDocument(load_layer_list("alexnet"))


def _cell(model: LayerTableModel, row: int, role: Qt.ItemDataRole = DISPLAY) -> object:
    return model.data(model.index(row, LATENCY), role)


def test_conv_row_is_the_roofline_of_its_flops_and_bytes(doc: CostDocument) -> None:
    model = LayerTableModel(doc)
    assert model.headerData(LATENCY, Qt.Orientation.Horizontal) == "Latency"
    assert _cell(model, 0) == "" and "choose a device" in str(_cell(model, 0, TOOLTIP))
    LatencyState.of(doc).set_device("a100-40gb")
    # conv1, 3->96 k11 s4 p2 no bias on 3x224x224 -> 96x55x55:
    #   FLOPs = 2 * 96*55*55 * 3*11*11 = 210,830,400
    #   bytes = input 3*224*224*4 + weights 34,848*4 + output 96*55*55*4 = 602,112 + 139,392 + 1,161,600 = 1,903,104
    flops, nbytes = 210_830_400, 602_112 + 139_392 + 1_161_600
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"), FlopCounterMode(display=False) as counter:  # PyTorch's own count of the same conv
        torch.nn.Conv2d(3, 96, 11, 4, 2, bias=False)(torch.empty(1, 3, 224, 224))
    assert counter.get_total_flops() == flops
    expected = max(flops / A100[0], nbytes / A100[1])  # 10.81 µs compute vs 1.22 µs memory
    assert model.data(model.index(0, LATENCY), SORT_ROLE) == pytest.approx(expected)
    assert _cell(model, 0) == "10.8 µs"
    tip = str(_cell(model, 0, TOOLTIP))
    assert tip.startswith("compute-bound on a100-40gb") and "10.8 µs" in tip and "1.22 µs" in tip
    # fc1, 9216 -> 4096: 37.8 M params read = 151 MB; memory-bound on the A100
    fc1 = doc.row_cost(15)
    assert model.data(model.index(15, LATENCY), SORT_ROLE) == pytest.approx(fc1.memory_access_bytes / A100[1])
    assert str(_cell(model, 15, TOOLTIP)).startswith("memory-bound")
    assert "a100-40gb" in model.headerData(LATENCY, Qt.Orientation.Horizontal, TOOLTIP)


def test_changing_the_device_updates_the_column(doc: CostDocument, qtbot) -> None:
    model = LayerTableModel(doc)
    state = LatencyState.of(doc)
    state.set_device("a100-40gb")
    with qtbot.waitSignal(model.dataChanged) as sig:
        state.set_device("t4")
    top, bottom = sig.args[:2]
    assert (top.column(), bottom.column(), top.row(), bottom.row()) == (LATENCY, LATENCY, 0, doc.row_count() - 1)
    # conv1 on a T4: 210,830,400 / 8.1e12 = 26.0 µs (compute) vs 1,903,104 / 320e9 = 5.95 µs (memory)
    assert _cell(model, 0) == "26.0 µs"
    assert model.data(model.index(0, LATENCY), SORT_ROLE) == pytest.approx(210_830_400 / T4[0])
    state.set_device(None)
    assert _cell(model, 0) == ""


def test_column_sorts_by_seconds_and_follows_edits(doc: CostDocument, qtbot) -> None:
    from netcost.gui.table.layer_table_view import LayerTableView

    view = LayerTableView(doc)
    qtbot.addWidget(view)
    LatencyState.of(doc).set_device("a100-40gb")
    view.sortByColumn(LATENCY, Qt.SortOrder.DescendingOrder)
    proxy = view.proxy
    seconds = [proxy.data(proxy.index(r, LATENCY), SORT_ROLE) for r in range(proxy.rowCount())]
    assert seconds == sorted(seconds, reverse=True)
    assert proxy.data(proxy.index(0, 0)) == "fc1"  # 151 MB of weights: the slowest layer on an A100
    before = _cell(view.table_model, 0)
    doc.set_layer_arg(0, "out_channels", 192)  # twice conv1's FLOPs
    assert _cell(view.table_model, 0) == "21.6 µs" != before  # 421,660,800 / 19.5e12


def _branches() -> CostDocument:
    """Three convolutions reading the input; the first is broken (groups=5 does not divide 16 channels), so the
    report holds two rows while the document shows three."""
    x = (Ref("x"),)
    nodes = (Node("a", "Conv2d", {"out_channels": 10, "kernel_size": 3, "groups": 5}, x, "a", "blk"),
             Node("b", "Conv2d", {"out_channels": 8, "kernel_size": 1}, x, "b", "blk"),
             Node("c", "Conv2d", {"out_channels": 64, "kernel_size": 3}, x, "c", "blk"))
    graph = Graph(nodes, (GraphInput("x", (1, 16, 32, 32)),), (Ref("b"), Ref("c")), "branches",
                  scopes=(Scope("blk", "Block"),))
    doc = CostDocument()
    doc.set_graph(graph)
    return doc


def test_incomplete_report_maps_rows_by_node_id(qtbot) -> None:
    doc = _branches()
    assert len(doc.report.layers) == 2 and doc.row_cost(0) is None
    model = LayerTableModel(doc)
    state = LatencyState.of(doc)
    state.set_device("a100-40gb")
    assert _cell(model, 0) == "—"  # not costed
    for row in (1, 2):  # report.layers[0] is b, document row 1
        cost = doc.row_cost(row)
        expected = max(cost.flops / A100[0], cost.memory_access_bytes / A100[1], 4e-6)  # 4 µs: a GPU launch
        assert model.data(model.index(row, LATENCY), SORT_ROLE) == pytest.approx(expected)
    # the container spans rows 0..2: its latency is the sum of the rows that are costed
    (blk,) = [h for h in doc.report.hierarchy if h.path == "blk"]
    assert state.latency_of(blk).seconds == pytest.approx(state.row_latency(1).seconds + state.row_latency(2).seconds)


def test_a_container_sums_its_own_members_when_another_scope_sits_between_them(qtbot) -> None:
    """A module called twice around another one: its rows are 0 and 2, row 1 belongs to `other`; the container's
    latency is its two rows, not the span 0..2."""
    x = (Ref("x"),)
    conv = {"out_channels": 16, "kernel_size": 3, "padding": 1}
    nodes = (Node("a1", "Conv2d", conv, x, "a1", "shared"),
             Node("o", "Conv2d", {**conv, "out_channels": 16, "kernel_size": 5, "padding": 2}, (Ref("a1"),), "o",
                  "other"),
             Node("a2", "Conv2d", conv, (Ref("o"),), "a2", "shared"))
    doc = CostDocument()
    doc.set_graph(Graph(nodes, (GraphInput("x", (1, 16, 32, 32)),), (), "called twice",
                        scopes=(Scope("shared", "Block"), Scope("other", "Block"))))
    state = LatencyState.of(doc)
    state.set_device("a100-40gb")
    (shared,) = [h for h in doc.report.hierarchy if h.path == "shared"]
    assert state.latency_of(shared).seconds == pytest.approx(
        state.row_latency(0).seconds + state.row_latency(2).seconds)
    assert state.latency_of(shared).seconds < sum(state.row_latency(r).seconds for r in range(3))


def test_colour_by_latency_colours_the_most_latency_heavy_block_hottest(doc: CostDocument) -> None:
    scene = DiagramScene(doc)
    top = scene.scale.color(scene.scale.vmax)
    assert scene.block(3).color == top  # by FLOPs conv2 is hottest
    scene.set_metric("latency")
    assert {b.color.name() for b in scene.blocks()} == {scene.scale.color(0).name()}  # no device: all "none"
    assert "choose a device" in scene.metric_title()
    state = LatencyState.of(doc)
    state.set_device("a100-40gb")  # the scene follows the device
    rows = [state.row_latency(r).seconds for r in range(doc.row_count())]
    hottest = rows.index(max(rows))
    assert doc.node(hottest).display_name == "fc1"  # memory-bound: 151 MB of weights at 1555 GB/s
    assert scene.scale.vmax == pytest.approx(max(rows))
    assert scene.block(hottest).color == scene.scale.color(scene.scale.vmax) == top
    assert scene.block(3).color != top
    coldest = rows.index(min(rows))  # a ReLU of 4096 values: 32 KiB moved, 21 ns
    scene.set_scale_mode("log")  # seconds on a log scale: the fastest block is the bottom colour, not "none"
    assert scene.block(coldest).color == scene.scale.color(scene.scale.vmin) != scene.scale.color(0)
    assert "97.1 µs" in scene.block(hottest).text_lines()[-1]  # fc1: 151,011,328 bytes / 1555e9
    assert "a100-40gb" in scene.metric_title()
    state.set_device("t4")
    assert scene.scale.vmax == pytest.approx(max(state.row_latency(r).seconds for r in range(doc.row_count())))


def test_collapsed_container_is_coloured_by_its_rows_sum(qtbot) -> None:
    graph = graph_from_network(load_layer_list("alexnet"))
    nodes = tuple(replace(n, scope="classifier" if i >= 14 else "") for i, n in enumerate(graph.nodes))
    doc = CostDocument()
    doc.set_report(evaluate_graph(replace(graph, nodes=nodes, scopes=(Scope("", "AlexNet"),
                                                                        Scope("classifier", "Sequential")))))
    LatencyState.of(doc).set_device("a100-40gb")
    scene = DiagramScene(doc)
    scene.set_metric("latency")
    scene.set_collapsed("classifier", True)
    group = scene.group("classifier")
    state = LatencyState.of(doc)
    total = sum(state.row_latency(r).seconds for r in range(14, 21))
    assert scene.value(group.node) == pytest.approx(total)
    assert group.color == scene.scale.color(total)


def test_metric_combo_offers_latency(doc: CostDocument, qtbot) -> None:
    view = DiagramView(doc)
    qtbot.addWidget(view)
    LatencyState.of(doc).set_device("t4")
    view.metric_box.setCurrentIndex(view.metric_box.findData("latency"))
    assert view.scene.metric == "latency"
    assert view.color_bar.title().startswith("Colour: Latency (roofline) on t4")
