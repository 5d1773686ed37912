"""The diagram's view state apart from its scene, its typed box keys, and the shape of the gui.diagram package (no
import circle, small modules and classes)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from netcost.gui.diagram.keys import InputKey, PortKey, ScopeKey, sort_key
from netcost.gui.diagram.layout import Orientation
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.diagram.state import DiagramState
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.graph_file import loads_graph
from netcost.model_io.files.zoo import load_layer_list

PACKAGE = Path(__file__).resolve().parents[2] / "gui" / "diagram"


@pytest.fixture
def resnet(qtbot) -> CostDocument:
    """Four stages of two convolutions each, as scopes layer1..layer4."""
    nodes, src = [], "x"
    for stage in range(1, 5):
        for k in range(2):
            nodes.append({"type": "Conv2d", "name": f"layer{stage}.conv{k}", "scope": f"layer{stage}", "inputs": [src],
                          "out_channels": 8,
                          "kernel_size": 3, "padding": 1})
            src = f"layer{stage}.conv{k}"
    scopes = [{"path": f"layer{s}", "type": "Sequential"} for s in range(1, 5)]
    text = json.dumps({"format": "netcost.graph/1", "name": "stages", "nodes": nodes, "scopes": scopes,
                       "inputs": [{"name": "x", "shape": [1, 8, 16, 16]}]})
    doc = CostDocument()
    doc.set_graph(loads_graph(text)[0])
    return doc


def test_state_is_one_value_that_an_export_shows_as_the_view_does(resnet: CostDocument, qtbot) -> None:
    from netcost.gui.report.views import DiagramParts

    scene = DiagramScene(resnet)
    scene.set_metric("params")
    scene.set_scale_mode("log")
    scene.set_width_metric(None)
    scene.collapse_to_depth(0)
    scene.set_collapsed("layer2", False)
    state = scene.state
    assert state == DiagramState("params", "log", None, Orientation.TOP_DOWN, frozenset(scene.expanded()))
    assert "layer2" in state.expanded
    parts = DiagramParts(resnet, dark=False, metric="flops", state=state)  # (the other options are not read)
    try:
        assert parts.scene.state == state
        assert parts.scene.expanded() == scene.expanded()
        assert [g.collapsed for g in parts.scene.groups()] == [g.collapsed for g in scene.groups()]
    finally:
        parts.close()


def test_set_state_lays_out_only_when_the_flow_or_the_open_scopes_change(resnet: CostDocument, qtbot) -> None:
    scene = DiagramScene(resnet)
    scene.collapse_to_depth(0)
    assert scene.expanded() == set()
    moved: list[int] = []
    scene.layoutChanged.connect(lambda: moved.append(1))
    scene.set_state(scene.state.changed(metric="macs"))
    assert not moved and scene.metric == "macs"
    scene.set_state(scene.state.with_expanded(scene.expanded() | {"layer3"}))
    assert moved and scene.is_expanded("layer3")
    scene.set_state(scene.state.with_expanded(["layer3", "no.such.scope"]))  # unknown scopes are dropped
    assert scene.expanded() == {"layer3"}
    with pytest.raises(KeyError):
        scene.set_state(scene.state.changed(metric="no-such-metric"))
    with pytest.raises(KeyError):
        scene.set_metric("no-such-metric")
    assert scene.metric == "macs"


def test_state_from_export_options() -> None:
    assert DiagramState.of(log_scale=True).scale_mode == "log"
    assert DiagramState.of(scale_mode="share", log_scale=True).scale_mode == "share"
    assert DiagramState.of(expanded=["a"]).expanded == frozenset({"a"})
    assert DiagramState.of().expanded is None  # as a model opens, by its size


def test_box_keys_of_different_kinds_never_compare_equal() -> None:
    keys = ["layer1", ScopeKey("layer1"), InputKey("layer1"), PortKey(True, "layer1"), PortKey(False, "layer1")]
    assert len(set(keys)) == len(keys)
    assert sorted(keys, key=sort_key) == [keys[3], keys[2], keys[4], keys[1], keys[0]]


def test_a_chain_keys_blocks_by_node_id(qtbot) -> None:
    scene = DiagramScene(CostDocument(load_layer_list("alexnet")))
    for block in scene.blocks():
        assert scene.key_of_item(block) == block.layer_id and scene.item_for_key(block.layer_id) is block


def _imports(path: Path) -> set[str]:
    """The gui.diagram modules `path` imports (relative imports of this package)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out |= {a.name for a in node.names}
    return out


def test_the_diagram_package_has_no_import_circle_and_small_modules() -> None:
    modules = {p.stem: p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    graph = {m: _imports(p) & set(modules) for m, p in modules.items()}
    # the items and the scene's helpers never import the scene (it composes them)
    assert {m for m, deps in graph.items() if "scene" in deps} <= {"view", "color_bar"}
    done: set[str] = set()

    def visit(m: str, stack: tuple[str, ...]) -> None:
        assert m not in stack, f"import circle: {' -> '.join((*stack, m))}"
        if m in done:
            return
        for dep in graph[m]:
            visit(dep, (*stack, m))
        done.add(m)

    for m in graph:
        visit(m, ())
    for m, path in modules.items():
        tree = ast.parse(path.read_text())
        assert len(path.read_text().splitlines()) <= 600, m
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno - node.lineno + 1 <= 400, f"{m}.{node.name}"
