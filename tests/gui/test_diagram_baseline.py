"""The diagram against a pinned baseline: each changed block carries its delta in the shown metric, new blocks say
"new", removed baseline rows stay as ghosts, and a scale fixed to the baseline keeps an untouched block's colour."""

from __future__ import annotations

from netcost.costing import Network
from netcost.costing import rewrites as rw
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.diagram.style import BADGE_COLORS, LESS
from netcost.gui.document.cost_document import CostDocument


def test_changed_block_shows_its_delta_and_fixed_scale_keeps_colours(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    scene = DiagramScene(doc)
    conv1, conv2, fc1 = (doc.row_of(n) for n in ("conv1", "conv2", "fc1"))
    assert scene.block(conv1).badge == ("", "")  # no baseline: no deltas
    doc.pin_baseline()
    before = doc.row_cost(conv2).flops
    untouched = scene.block(fc1).color.name()
    doc.set_layer_arg(conv1, "out_channels", 48)
    # conv2 reads 48 of its 96 channels: its FLOPs (and every other metric) halve -> "−50 %"
    assert doc.row_cost(conv2).flops * 2 == before
    assert scene.block(conv2).badge == ("−50 %", LESS)
    assert scene.block(conv1).badge[0] == "−50 %"
    assert scene.block(fc1).badge == ("", "")  # untouched: no badge
    assert "−50 %" in scene.tooltip_html(scene.block(conv2))
    # the free scale follows the new maximum; fixed to the baseline, fc1 keeps the colour it had at pin time
    assert scene.block(fc1).color.name() != untouched
    doc.set_scale_fixed(True)
    assert scene.block(fc1).color.name() == untouched
    assert scene.scale.vmax == doc.scale_range("flops")[1]  # the baseline's largest layer
    doc.set_scale_fixed(False)
    doc.clear_baseline()
    assert scene.block(conv2).badge == ("", "")


def test_rewrite_marks_new_blocks_and_keeps_removed_ones_as_ghosts(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    scene = DiagramScene(doc)
    doc.pin_baseline()
    gap = next(r for r in rw.candidates(doc.graph, ("global_avg_pool",), doc.report))
    preview = rw.preview(doc.graph, gap, doc.report)
    assert doc.apply_graph_change(preview.result.graph, "GAP", preview.result.mapping)
    # AdaptiveAvgPool2d(1) is new; fc1 reads 256 channels instead of 256 x 6 x 6: 36x fewer FLOPs (-97 %)
    assert scene.block_for("gap").badge == ("new", "new")
    assert scene.block(doc.row_of("fc1")).badge == ("−97 %", LESS)
    assert scene.block(doc.row_of("conv1")).badge == ("", "")
    assert not scene.placement.removed.isVisible()  # a rewrite maps old rows to new ones: nothing removed yet
    assert doc.remove_layers([doc.row_of("Dropout-17")])
    ghosts = scene.placement.removed
    assert [r.name for r in doc.removed_rows()] == ["Dropout-17"]
    assert ghosts.isVisible() and ghosts.text_lines()[0].startswith("Dropout-17  Dropout")
    assert scene.sceneRect().contains(ghosts.sceneBoundingRect())  # beside the layout, inside the scene
    assert BADGE_COLORS[LESS].name() == "#2e7d32"  # the table's "less" green
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert not scene.placement.removed.isVisible() and all(b.badge == ("", "") for b in scene.blocks())
