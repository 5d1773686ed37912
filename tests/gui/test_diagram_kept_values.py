"""The colour scale of a large layout keeps its blocks' values across edits and reads only the rows an edit changed
(`gui/diagram/unit_values.py`: three passes over a 100k-node chain's blocks were ~20 ms of each edit). It must give
exactly the scale and width range a full read gives, whatever the edits do: values up and down, blocks that stop
being costed and come back, the metric, the convention and the scale mode changed between edits."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from netcost.gui.diagram import unit_values
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.graph_file import loads_graph

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from reliability.big_graph import big_document  # noqa: E402 - the reliability run's 100k-node chain, small here


def _range(scene: DiagramScene) -> tuple:
    return scene.scale.vmin, scene.scale.vmax, scene.scale.mode, scene.width_max


@pytest.mark.parametrize("mode", ["linear", "log"])
def test_kept_values_give_the_scale_a_full_read_gives(qapp, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:  # noqa: ANN001
    follows: list[int] = []
    real = unit_values.UnitValues.follow
    monkeypatch.setattr(unit_values.UnitValues, "follow",
                        lambda self, *a: (follows.append(1), real(self, *a))[1])
    doc = CostDocument()
    doc.set_graph(loads_graph(json.dumps(big_document(400)))[0])  # fc0..fc199, skip adds every 10 nodes
    scene = DiagramScene(doc)
    scene.set_scale_mode(mode)
    rng = random.Random(7)
    for step in range(60):
        row = doc.row_of(f"fc{rng.randrange(200)}")
        if step % 5 == 4:  # a width the skip add cannot take: the rows after it are not costed until undone
            doc.set_layer_arg(row, "out_features", 48)
        elif step % 5 == 0 and doc.undo_stack.canUndo():
            doc.undo_stack.undo()
        else:
            doc.set_layer_arg(row, "bias", rng.random() < 0.5)
        if step == 30:
            scene.set_metric("params")
        if step == 45:
            scene.set_width_metric("flops")
        fresh = DiagramScene(doc, state=scene.state)  # every value read now
        assert _range(scene) == _range(fresh), step
    assert len(follows) > 20  # most edits read only the rows they changed
