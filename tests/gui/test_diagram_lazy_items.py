"""A large graph's diagram holds items only for the boxes it shows: a folded scope's nodes get their blocks when it
is expanded (issue 23, item 12: a 100k-node graph made 113k items on open)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from netcost.gui.diagram.blocks import LayerBlockItem
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.document.cost_document import CostDocument

ROOT = Path(__file__).resolve().parents[2]


def _transformer(nodes: int):  # noqa: ANN202 - bench/big_graph_file.py's generator (one place)
    spec = importlib.util.spec_from_file_location("big_graph_file", ROOT / "bench" / "big_graph_file.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.transformer_graph(nodes)


def _block_items(scene: DiagramScene) -> list[LayerBlockItem]:
    return [i for i in scene.items() if isinstance(i, LayerBlockItem)]


def test_folded_scopes_have_no_block_items_until_expanded(qapp) -> None:  # noqa: ANN001
    doc = CostDocument()
    doc.set_graph(_transformer(1_500))  # 100 layers of 15 nodes: they open folded
    scene = DiagramScene(doc)
    assert not scene.is_expanded("layers.7")
    assert len(_block_items(scene)) < 20  # not one per node of the 1,500
    scene.set_expanded_scopes(["layers.7", "layers.7.mlp"])
    items = {i.layer_id: i for i in _block_items(scene)}
    fc1 = items["layers.7.mlp.fc1"]
    assert fc1.isVisible()
    frame = scene.group("layers.7.mlp").sceneBoundingRect()
    assert frame.contains(fc1.sceneBoundingRect().center())
    assert "layers.8.mlp.fc1" not in items
    assert len(items) < 40
    scene.set_expanded_scopes([])  # folded again: the block stays (hidden), the same item when reopened
    assert not fc1.isVisible()
    scene.set_expanded_scopes(["layers.7", "layers.7.mlp"])
    assert scene.block_for("layers.7.mlp.fc1") is fc1 and fc1.isVisible()


def test_the_overview_gives_one_box_per_pixel_of_a_small_image(qapp) -> None:  # noqa: ANN001
    doc = CostDocument()
    doc.set_graph(_transformer(1_500))
    scene = DiagramScene(doc)
    rect = scene.sceneRect()
    _, every = scene.overview()
    _, reduced = scene.overview((rect.width() / 24, rect.height() / 20))  # a 24 x 20 px minimap
    assert len(reduced) <= 24 * 20 and len(reduced) < len(every) // 3
    shown = {(r.x(), r.y(), r.width(), r.height(), c.name()) for r, c in every}
    assert {(r.x(), r.y(), r.width(), r.height(), c.name()) for r, c in reduced} <= shown
    assert max(r.bottom() for r, _ in reduced) > rect.bottom() - rect.height() / 10  # the whole height drawn
