"""The diagram draws the true data flow: mutate the document, assert the edges between the right items, item
identity across edits, expansion that keeps the rest in place, hidden view nodes, find and navigation."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from netcost.gui.diagram.blocks import LayerBlockItem
from netcost.gui.diagram.keys import ScopeKey
from netcost.gui.diagram.scene import DiagramScene, scene_for
from netcost.gui.diagram.view import DiagramView
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.graph_file import loads_graph
from netcost.model_io.files.zoo import load_model_graph


def _bottleneck(prefix: str, src: str, down: bool) -> list[dict]:
    """A ResNet bottleneck as graph-file nodes: conv-bn-relu x2, conv-bn, (downsample), add, relu."""
    s = prefix
    nodes = [
        {"type": "Conv2d", "name": f"{s}.conv1", "inputs": [src], "scope": s, "out_channels": 16, "kernel_size": 1},
        {"type": "BatchNorm2d", "name": f"{s}.bn1", "scope": s},
        {"type": "ReLU", "name": f"{s}.relu", "scope": s},
        {"type": "Conv2d", "name": f"{s}.conv2", "scope": s, "out_channels": 16, "kernel_size": 3, "padding": 1},
        {"type": "BatchNorm2d", "name": f"{s}.bn2", "scope": s},
    ]
    skip = src
    if down:
        nodes += [{"type": "Conv2d", "name": f"{s}.downsample.0", "inputs": [src], "scope": f"{s}.downsample",
                   "out_channels": 16, "kernel_size": 1},
                  {"type": "BatchNorm2d", "name": f"{s}.downsample.1", "scope": f"{s}.downsample"}]
        skip = f"{s}.downsample.1"
    nodes += [{"type": "add", "name": f"{s}.add", "inputs": [f"{s}.bn2", skip], "scope": s},
              {"type": "ReLU", "name": f"{s}.relu#2", "inputs": [f"{s}.add"], "scope": s}]
    return nodes


def _resnet_doc(blocks: int = 3) -> CostDocument:
    """A small ResNet-style graph: stem, `blocks` bottlenecks in layer1 (the first with a downsample), a head with
    a view (flatten) before the classifier."""
    nodes = [{"type": "Conv2d", "name": "conv1", "inputs": ["x"], "out_channels": 8, "kernel_size": 3,
              "padding": 1}]
    src = "conv1"
    scopes = [{"path": "layer1", "type": "Sequential"}]
    for b in range(blocks):
        nodes += _bottleneck(f"layer1.{b}", src, down=b == 0)
        scopes.append({"path": f"layer1.{b}", "type": "Bottleneck"})
        src = f"layer1.{b}.relu#2"
    scopes.append({"path": "layer1.0.downsample", "type": "Sequential"})
    nodes += [{"type": "AdaptiveAvgPool2d", "name": "avgpool", "inputs": [src], "output_size": 1},
              {"type": "view", "name": "flatten", "size": [1, 16]},
              {"type": "Linear", "name": "fc", "out_features": 10}]
    text = json.dumps({"format": "netcost.graph/1", "name": "mini-resnet",
                       "inputs": [{"name": "x", "shape": [1, 8, 16, 16]}], "nodes": nodes, "scopes": scopes})
    doc = CostDocument()
    doc.set_graph(loads_graph(text)[0])
    return doc


def _frame(scene: DiagramScene, path: str):  # noqa: ANN202 - QRectF
    g = scene.group(path)
    return g.mapRectToScene(g.segments[0])


def _names(scene: DiagramScene, item: object) -> str:
    key = scene.key_of_item(item)
    if isinstance(item, LayerBlockItem):
        return scene.document.graph.node(key).display_name
    return key.path if isinstance(key, ScopeKey) else key.name  # a scope's or an input's key


def _edges(scene: DiagramScene) -> set[tuple[str, str]]:
    return {(_names(scene, a), _names(scene, b)) for a, b in scene.edge_items()}


def test_residual_edges_join_the_add_with_the_block_input(qtbot) -> None:
    doc = _resnet_doc()
    scene = DiagramScene(doc)
    scene.collapse_to_depth(None)
    edges = _edges(scene)
    # the identity skip of block 1 and 2: from the previous block's output straight into the add
    assert ("layer1.0.relu#2", "layer1.1.add") in edges
    assert ("layer1.1.relu#2", "layer1.2.add") in edges
    # block 0's downsample runs beside the main path: both read the stem, both feed the add
    assert {("conv1", "layer1.0.conv1"), ("conv1", "layer1.0.downsample.0"),
            ("layer1.0.downsample.1", "layer1.0.add"), ("layer1.0.bn2", "layer1.0.add")} <= edges
    down = _frame(scene, "layer1.0.downsample")  # its own frame, beside the main path
    main = scene.unit_rect(doc.row_of("layer1.0.conv1"))
    assert down.top() < main.bottom() and main.top() < down.bottom()
    assert down.right() < main.left() or main.right() < down.left()
    # the hidden view (flatten) is not drawn; its edge runs through it
    assert doc.row_of("flatten") is not None and all(_names(scene, b) != "flatten" for b in scene.blocks())
    assert ("avgpool", "fc") in edges
    assert len([1 for a, b in edges if b == "layer1.2.add"]) == 2
    # folded, the residual structure is lifted: one edge from block to block
    scene.set_expanded_scopes({"layer1"})
    assert ("layer1.0", "layer1.1") in _edges(scene) and ("layer1.1", "layer1.2") in _edges(scene)


def test_inception_concat_has_four_incoming_edges_from_its_branches(qtbot) -> None:
    doc = CostDocument()
    doc.set_graph(load_model_graph("inception_3a"))
    scene = DiagramScene(doc)
    concat = scene.block(doc.row_of("concat"))
    into = [a for a, b in scene.edge_items() if b is concat]
    assert sorted(_names(scene, a) for a in into) == ["branch1.relu", "branch2.relu2", "branch3.relu2",
                                                      "branch4.relu"]
    # the four branches start side by side under the input, and the concat sits below all of them
    firsts = [scene.block(doc.row_of(n)) for n in ("branch1.conv", "branch2.reduce", "branch3.reduce",
                                                   "branch4.pool")]
    assert len({round(b.pos().y()) for b in firsts}) == 1 and len({round(b.pos().x()) for b in firsts}) == 4
    assert all(concat.pos().y() > b.pos().y() for b in scene.blocks() if b is not concat)
    # every edge ends on its target's top edge and starts at its source's bottom
    for r in scene.routes():
        item = scene.item_for_key(r.dst)
        assert abs(r.points[-1][1] - item.mapRectToScene(item.block_rect()).top()) < 1.5


def test_edit_keeps_items_and_edges_and_recolours(qtbot) -> None:
    doc = CostDocument()
    doc.set_graph(load_model_graph("inception_3a"))
    scene = DiagramScene(doc)
    items = {b.layer_id: b for b in scene.blocks()}
    edges = _edges(scene)
    row = doc.row_of("branch3.conv")
    before = scene.block(row).color
    with qtbot.waitSignal(doc.reportChanged):
        doc.set_layer_arg(row, "out_channels", 128)
    assert all(items[b.layer_id] is b for b in scene.blocks()) and len(items) == len(scene.blocks())
    assert _edges(scene) == edges
    assert scene.block(row).color != before
    # the concat's incoming edge from branch 3 now carries 128 channels
    route = next(r for r in scene.routes() if r.dst == doc.graph.nodes[doc.row_of("concat")].id
                 and r.src == doc.graph.nodes[doc.row_of("branch3.relu2")].id)
    assert "128" in scene.text.edge_label(route) and "128" in scene.tooltips.edge_tooltip(route)
    doc.undo_stack.undo()
    assert scene.block(row).color == before


def test_expanding_a_scope_keeps_the_other_items_in_place(qtbot) -> None:
    doc = _resnet_doc(blocks=4)
    scene = DiagramScene(doc)
    scene.set_expanded_scopes({"layer1"})
    assert scene.group("layer1.1").collapsed
    frames = {p: scene.group(p) for p in ("layer1.0", "layer1.1", "layer1.2", "layer1.3")}
    before = {p: scene.unit_rect(g.node.first) for p, g in frames.items()}
    stem, fc = scene.unit_rect(doc.row_of("conv1")), scene.unit_rect(doc.row_of("fc"))
    scene.set_collapsed("layer1.1", False)
    assert not scene.group("layer1.1").collapsed
    assert scene.unit_rect(doc.row_of("conv1")) == stem  # above: exactly where it was
    assert scene.unit_rect(frames["layer1.0"].node.first) == before["layer1.0"]
    # below: moved straight down, all by the same amount, not sideways
    shift = scene.unit_rect(frames["layer1.2"].node.first).top() - before["layer1.2"].top()
    assert shift > 0
    for p in ("layer1.2", "layer1.3"):
        now = scene.unit_rect(frames[p].node.first)
        assert now.left() == pytest.approx(before[p].left()) and now.top() - before[p].top() == pytest.approx(shift)
    assert scene.unit_rect(doc.row_of("fc")).left() == pytest.approx(fc.left())
    # the expanded block's own nodes are inside its frame
    frame = _frame(scene, "layer1.1")
    for name in ("layer1.1.conv1", "layer1.1.add"):
        assert frame.contains(scene.unit_rect(doc.row_of(name)))
    scene.set_collapsed("layer1.1", True)
    assert scene.unit_rect(frames["layer1.2"].node.first) == before["layer1.2"]  # and back


def test_a_column_cut_leaves_no_frame_with_a_lone_node(qtbot) -> None:
    """Cut into columns for a page, every piece of a frame split by a cut holds at least two of its boxes
    (ResNet-50's layer2.0 once continued in the next column with only its last ReLU)."""
    doc = _resnet_doc(blocks=2)
    scene = DiagramScene(doc)
    scene.collapse_to_depth(None)
    scene.set_column_height(900)
    assert len(scene.columns()) > 1
    split = [g for g in scene.groups() if g.isVisible() and not g.collapsed and len(g.segments) > 1]
    assert split  # a frame continues in the next column
    rects = [b.sceneBoundingRect() for b in scene.blocks() if b.isVisible()]
    for g in split:
        for s in g.segments:
            seg = g.mapRectToScene(s)
            assert sum(seg.contains(r.center()) for r in rects) >= 2, (g.node.path, seg)


def test_export_scene_shows_no_selection_unless_asked(qtbot) -> None:
    doc = _resnet_doc()
    doc.selection.set_rows([doc.row_of("fc")])
    live = DiagramScene(doc)
    assert live.block(doc.row_of("fc")).selected and live.placement.highlight.routes
    export = scene_for(doc)
    assert not any(b.selected for b in export.blocks()) and not export.placement.highlight.routes
    assert scene_for(doc, include_selection=True).block(doc.row_of("fc")).selected


def test_memory_metric_draws_heavier_edges_for_bigger_activations(qtbot) -> None:
    doc = _resnet_doc()
    scene = DiagramScene(doc)
    scene.set_metric("memory")
    widths = scene.edge_widths()
    assert len(widths) >= 2  # the 8x16x16 activations and the 1x10 logits differ by far
    scene.set_metric("flops")
    assert scene.edge_widths() == {1.4}


def test_find_reveal_and_keyboard_along_edges(qtbot) -> None:
    doc = _resnet_doc()
    view = DiagramView(doc)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    view.scene.collapse_to_depth(0)
    assert view.scene.group("layer1").collapsed
    rows = view.scene.navigation.find("downsample")
    assert [doc.node(r).display_name for r in rows] == ["layer1.0.downsample.0", "layer1.0.downsample.1"]
    found = [doc.node(r).display_name for r in view.scene.navigation.find("batchnorm")]
    assert found[:2] == ["layer1.0.bn1", "layer1.0.bn2"]
    view.activateWindow()
    view.view.setFocus()
    qtbot.keyClick(view.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.find_bar.isVisible()
    view.find_bar.edit.setText("downsample")
    assert doc.selection.rows == [rows[0]]
    assert not view.scene.group("layer1.0").collapsed  # revealed: its scopes opened
    assert view.scene.block(rows[0]).isVisible()
    qtbot.keyClick(view.find_bar.edit, Qt.Key.Key_Return)
    assert doc.selection.rows == [rows[1]]
    # a node chosen in the table opens its scopes too
    view.scene.collapse_to_depth(0)
    doc.selection.set_rows([doc.row_of("layer1.2.conv2")], source="table")
    assert view.scene.block(doc.row_of("layer1.2.conv2")).isVisible()
    # Down follows the edge to the successor, Up back to the predecessor
    view.view.setFocus()
    qtbot.keyClick(view.view, Qt.Key.Key_Down)
    assert doc.selection.rows == [doc.row_of("layer1.2.bn2")]
    qtbot.keyClick(view.view, Qt.Key.Key_Down)
    assert doc.selection.rows == [doc.row_of("layer1.2.add")]
    qtbot.keyClick(view.view, Qt.Key.Key_Up)
    assert doc.node(doc.selection.rows[0]).display_name in ("layer1.2.bn2", "layer1.1.relu#2")


def test_colour_box_follows_the_convention(qtbot) -> None:
    doc = _resnet_doc()
    view = DiagramView(doc)
    qtbot.addWidget(view)
    box = view.metric_box
    assert box.itemText(box.findData("flops")) == "FLOPs"
    doc.set_convention("macs")
    assert box.itemText(box.findData("flops")) == "MACs"
    assert "MACs" in view.color_bar.title() and "FLOPs" not in view.color_bar.title()
    assert view.metric_box.view().isRowHidden(box.findData("macs"))  # no second "MACs"
    doc.set_convention("flops")
    assert not view.metric_box.view().isRowHidden(box.findData("macs"))


def test_a_scene_built_open_matches_one_opened_after(qtbot) -> None:
    """`DiagramScene(doc, expanded=...)` lays the graph out once with those scopes open (exports copy a view's
    folding; "expand all"): the same items in the same places as building it folded and opening them after."""
    doc = _resnet_doc(3)
    open_ = ["layer1", "layer1.1", "layer1.0.downsample"]
    direct = DiagramScene(doc, expanded=open_)
    later = DiagramScene(doc)
    later.set_expanded_scopes(open_)
    assert direct.expanded() == later.expanded() == set(open_)

    def places(scene: DiagramScene) -> dict[str, tuple[float, float]]:
        return {b.layer_id: (b.pos().x(), b.pos().y()) for b in scene.blocks() if b.isVisible()}

    assert places(direct) == places(later) and len(places(direct)) > 8
    assert DiagramScene(doc, expanded=["no.such.scope"]).expanded() == set()
