"""A layer list's dotted names (`features.0`, `classifier.1`) are frames in the diagram, as a traced model's modules
are: the blocks inside are named relative to the frame, and a folded frame shows its subtotal."""

from __future__ import annotations

from netcost.costing import formatting as fmt
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.document.cost_document import CostDocument
from tests.costing.test_name_scopes import _vgg_like


def test_a_layer_lists_prefixes_are_frames_with_subtotals(qtbot) -> None:
    doc = CostDocument(_vgg_like())
    scene = DiagramScene(doc)
    frames = {g.node.path: g for g in scene.groups()}
    assert list(frames) == ["features", "classifier"]
    scene.set_expanded_scopes(["features", "classifier"])
    titles = {b.layer_id: b.text_lines()[0] for b in scene.blocks() if b.isVisible()}
    assert titles["features.0"].startswith("0  Conv2d") and titles["classifier.2"].startswith("2  Linear")
    scene.set_expanded_scopes(["classifier"])  # features folded: one block with the three rows' FLOPs
    folded = frames["features"]
    flops = sum(r.totals.flops for r in doc.report.layers[:3])
    assert folded.collapsed and any(fmt.si(flops) in line for line in folded.text_lines()), folded.text_lines()
