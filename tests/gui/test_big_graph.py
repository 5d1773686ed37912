"""A large graph file in the window: opened on a thread with progress while the window keeps answering, and an
undo stack with a memory bound (issue 23, item 12). Timings are bench/big_graph.py's, never asserted here."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThread

from netcost.costing.graph_eval import evaluate_graph
from netcost.gui.app.graph_file_job import GraphFileJob
from netcost.gui.app.main_window import MainWindow
from netcost.gui.document.cost_document import CostDocument

ROOT = Path(__file__).resolve().parents[2]
NODES = 20_000
ROWS = NODES // 15 * 15  # whole transformer layers of 15 nodes


def _generator():  # noqa: ANN202 - bench/big_graph_file.py, the bench's own generator (one place)
    spec = importlib.util.spec_from_file_location("big_graph_file", ROOT / "bench" / "big_graph_file.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.json"
    assert _generator().write_graph_file(path, NODES) == ROWS
    return path


@pytest.fixture(autouse=True)
def no_plugin_views(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table, totals, editor and modules tree; the diagram's own scaling is bench/big_graph.py's."""
    import netcost.gui.app.main_window as mw

    monkeypatch.setattr(mw, "VIEW_FACTORIES", [])


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet) -> Iterator[MainWindow]:  # noqa: ANN001
    w = MainWindow(autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(w)
    w.document.set_network(alexnet)
    w.show()
    yield w
    w.document.undo_stack.setClean()
    w.close()


def test_large_file_opens_with_progress_while_the_window_answers(qtbot, window: MainWindow,
                                                                 big_file: Path) -> None:
    rows = ROWS
    seen: list[str] = []
    ticks_while_loading = []
    on_gui: list[bool] = []
    indicator = window.load_indicator

    def tick(*_: object) -> None:  # runs on the window's event loop (the job's signals are queued to it)
        on_gui.append(QThread.currentThread() is window.thread())
        if window.document.row_count() != rows:
            ticks_while_loading.append(1)
            if indicator.isVisible() and (not seen or seen[-1] != indicator.label.text()):
                seen.append(indicator.label.text())

    # Each progress step the loading thread reports reaches the window through its event loop, before the new
    # document does: counted, not timed (a 5 ms timer ticked once on a busy machine although the loop ran).
    assert window.open_reference(str(big_file))
    assert window.file_job is not None and window.document.row_count() != rows  # the open goes on in the background
    window.file_job.progress.connect(tick)
    qtbot.waitUntil(lambda: window.document.row_count() == rows, timeout=180_000)
    assert len(ticks_while_loading) > 1 and all(on_gui)
    assert any(t.startswith("Opening big.json … costing ") and t.endswith(" %") for t in seen), seen
    assert len(seen) >= 3, seen  # the steps and percentages move on
    qtbot.waitUntil(lambda: not indicator.isVisible())
    doc = window.document
    expected = evaluate_graph(doc.graph)  # the same file's graph costed again, on this thread
    assert doc.report.totals == expected.totals and doc.report.complete
    assert doc.path == big_file and not doc.modified
    assert window.windowTitle().startswith("big.json")
    assert window.table.table_model.rowCount() == rows
    assert doc.node(doc.row_of("layers.0.mlp.fc1")).args["out_features"] == 256


def test_cancel_keeps_the_current_document(qtbot, window: MainWindow, big_file: Path) -> None:
    before = window.document.report
    assert window.open_reference(str(big_file))
    assert window.load_indicator.isVisible()
    window.load_indicator.cancel.click()
    assert not window.load_indicator.isVisible()
    qtbot.wait(300)
    qtbot.waitUntil(lambda: window.file_job is None)
    assert window.document.report is before and window.document.name == "AlexNet (article)"
    assert not window.message_bar.isVisible()
    assert window.open_reference(str(big_file))  # opened again, then the window closed while it loads
    window.close()  # waits for the thread: no "QThread destroyed while running" abort
    assert window.file_job is None and all(job.isFinished() for job in window.findChildren(GraphFileJob))


def test_large_broken_file_says_why_and_keeps_the_document(qtbot, window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps({"format": "netcost.graph/1", "inputs": [{"name": "x", "shape": [1, 4]}],
                               "nodes": [{"type": "Linear", "name": f"n{i}", "out_features": 4}
                                         for i in range(30_000)]})[:-5])  # > 1 MiB, cut short
    before = window.document.report
    assert window.open_reference(str(bad))
    qtbot.waitUntil(lambda: window.message_bar.isVisible(), timeout=60_000)
    assert window.message_bar.text.text().startswith("Cannot open broken.json: not valid JSON")
    assert window.document.report is before
    assert not window.load_indicator.isVisible()


def test_undo_stack_is_bounded_and_undo_still_restores(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    import netcost.gui.document.undo_budget as budget

    graph = _generator().transformer_graph(3_000)
    doc = CostDocument()
    assert doc.undo_stack.undoLimit() > 0  # even the empty document's stack is bounded
    monkeypatch.setattr(budget, "UNDO_BUDGET_BYTES", 1)  # the floor: budget.MIN_STEPS steps
    doc.set_graph(graph)
    limit = doc.undo_stack.undoLimit()
    assert limit == budget.MIN_STEPS
    row = doc.row_of("layers.100.mlp.fc1")
    widths = [64 + 8 * i for i in range(limit + 10)]
    for w in widths:
        assert doc.set_layer_arg(row, "out_features", w)
    assert doc.undo_stack.count() == limit  # the oldest 10 steps were dropped
    for w in reversed(widths[10:-1]):
        doc.undo_stack.undo()
        assert doc.node(row).args["out_features"] == w
        assert doc.report.by_id[doc.graph.nodes[row + 1].id].input_shape[-1] == w  # fc2 re-inferred
    doc.undo_stack.undo()
    assert doc.node(row).args["out_features"] == widths[9]
    assert not doc.undo_stack.canUndo()
    doc.undo_stack.redo()
    assert doc.node(row).args["out_features"] == widths[10]


def test_structural_undo_within_the_bound_restores_the_graph(qtbot) -> None:
    from netcost.costing import LayerSpec

    doc = CostDocument()
    doc.set_graph(_generator().transformer_graph(3_000))
    start = doc.graph
    row = doc.row_of("layers.7.mlp.act")
    for _ in range(3):
        assert doc.insert_layers(row + 1, [LayerSpec("ReLU")])
    assert doc.remove_layers([row + 1])
    for _ in range(4):
        doc.undo_stack.undo()
    assert [n.id for n in doc.graph.nodes] == [n.id for n in start.nodes]
    assert doc.graph.nodes == start.nodes
    assert doc.report.totals == evaluate_graph(start).totals
    for _ in range(4):
        doc.undo_stack.redo()
    assert doc.row_count() == len(start.nodes) + 2


def test_modules_tree_of_a_large_graph_makes_leaves_when_opened(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    import netcost.gui.table.hierarchy_tree as ht
    from netcost.costing import formatting as fmt

    monkeypatch.setattr(ht, "LAZY_LEAVES_ABOVE", 100)  # "large" at test size
    doc = CostDocument()
    doc.set_graph(_generator().transformer_graph(3_000))
    tree = ht.HierarchyTreeWidget(doc)
    qtbot.addWidget(tree)
    tree.show()

    def item(path: str):  # noqa: ANN202
        return tree._path_items[path]

    mlp = item("layers.5.mlp")
    assert not mlp.isExpanded() and mlp.childCount() == 0  # its leaves wait until it is opened
    row = doc.row_of("layers.5.mlp.fc1")
    doc.set_layer_arg(row, "out_features", 128)  # before the leaves exist: they show the figures of now
    qtbot.waitUntil(lambda: not tree._later.isActive())  # the burst settled
    mlp.setExpanded(True)
    names = [mlp.child(i).text(0) for i in range(mlp.childCount())]
    assert names == ["norm", "fc1", "act", "fc2", "residual"]
    assert mlp.child(1).text(2) == fmt.si(doc.row_cost(row).totals.params)
    tree.expand_all()
    attn = item("layers.9.attn")
    assert [attn.child(i).text(0) for i in range(attn.childCount())][:4] == ["norm", "q", "k", "v"]
