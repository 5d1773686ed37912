"""A loaded graph's diagram is worked out on the loading thread: structure, opening scopes and their layout
(`gui.diagram.prepared`); the GUI thread only makes the items of the boxes shown."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from netcost.gui.app import graph_file_job
from netcost.gui.app.graph_file_job import GraphFileJob
from netcost.gui.diagram import prepared
from netcost.gui.diagram.layout import Orientation
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.graph_file import loads_graph


def _graph_text(stages: int = 60) -> str:
    """`stages` scopes of three nodes: more boxes than a model opens with, so its scopes start folded."""
    nodes, src = [], "x"
    for s in range(stages):
        for k, op in enumerate(("Linear", "GELU", "Linear")):
            name = f"blocks.{s}.{op.lower()}{k}"
            node = {"type": op, "name": name, "scope": f"blocks.{s}", "inputs": [src]}
            if op == "Linear":
                node["out_features"] = 16
            nodes.append(node)
            src = name
    return json.dumps({"format": "netcost.graph/1", "name": "stages", "nodes": nodes,
                       "inputs": [{"name": "x", "shape": [1, 16]}],
                       "scopes": [{"path": "blocks", "type": "ModuleList"}]
                       + [{"path": f"blocks.{s}", "type": "Block"} for s in range(stages)]})


def test_a_graph_file_job_prepares_the_diagram_on_its_thread(qtbot, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "g.json"
    path.write_text(_graph_text())
    done: list[prepared.PreparedDiagram] = []

    def spy(graph):  # noqa: ANN001, ANN202 - prepared.prepare's own signature
        done.append(prepared.prepare(graph))
        return done[-1]

    monkeypatch.setattr(graph_file_job, "prepare", spy)
    job = GraphFileJob(path)
    with qtbot.waitSignal(job.loaded, timeout=60_000) as loaded:
        job.start()
    job.wait()
    graph = loaded.args[0].graph  # a Loaded: the one result type of every load
    assert len(done) == 1 and done[0].graph is graph
    assert done[0].thread != threading.main_thread().name  # worked out off the GUI thread
    laid = done[0].layouter.layout(done[0].expanded)  # (cached: laid out on the job's thread)
    doc = CostDocument()
    doc.set_graph(graph)
    scene = DiagramScene(doc)
    assert scene.structure is done[0].structure  # taken, not worked out again on the GUI thread
    assert scene.expanded() == set(done[0].expanded) == {"blocks"}  # its 60 blocks folded, as a long model opens
    assert set(scene.layout.boxes) == set(laid.boxes)
    assert prepared.take(graph) is None  # taken once


def test_a_scene_works_it_out_itself_for_another_graph_or_flow(qtbot) -> None:
    graph = loads_graph(_graph_text(4))[0]
    prepared.prepare(loads_graph(_graph_text(4))[0])  # another graph object: not this one's
    doc = CostDocument()
    doc.set_graph(graph)
    scene = DiagramScene(doc)
    assert scene.structure.graph is graph and scene.expanded() == {"blocks", *(f"blocks.{s}" for s in range(4))}
    ahead = prepared.prepare(graph)
    wide = DiagramScene(doc, orientation=Orientation.LEFT_RIGHT)  # the structure is reused, the layout is not
    assert wide.structure is ahead.structure and wide.layout.width > wide.layout.height


def test_the_first_row_revealed_is_laid_out_ahead_too(qtbot, monkeypatch) -> None:
    """A new model's first row is selected and the diagram opens the scopes around it: that layout is worked out
    on the loading thread as well, so the GUI thread lays out nothing when the scene takes the graph and shows it."""
    from netcost.gui.diagram.layout import DiagramLayouter

    graph = loads_graph(_graph_text())[0]
    ahead = prepared.prepare(graph)
    on_gui: list[str] = []
    lay_out = DiagramLayouter._lay_out

    def spy(self, exp):  # noqa: ANN001, ANN202 - DiagramLayouter._lay_out's own signature
        on_gui.append(threading.current_thread().name)
        return lay_out(self, exp)

    monkeypatch.setattr(DiagramLayouter, "_lay_out", spy)
    doc = CostDocument()
    doc.set_graph(graph)
    scene = DiagramScene(doc)
    assert scene.structure is ahead.structure and scene.expanded() == {"blocks"}
    assert scene.reveal(0)  # what the window's selection of the first row does
    assert scene.expanded() == {"blocks", "blocks.0"}
    assert on_gui == []  # both layouts were the loading thread's
