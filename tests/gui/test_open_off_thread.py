"""Every open does its work off the GUI thread (issue 19): a graph file of any size and a traced model's answer
are decoded, costed and their diagram prepared on a load job's thread, while the window shows the load going on;
the GUI thread only adopts the result. Threads are asserted here, never times (bench/open_blocking.py)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

import netcost.gui.app.session as session
import netcost.gui.document.load_job as load_job
from netcost.costing.graph import Graph
from netcost.gui.app.main_window import MainWindow
from netcost.gui.diagram import prepared
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.graph_file import graph_to_dict, loads_graph

GRAPH = {"format": "netcost.graph/1", "name": "small", "inputs": [{"name": "x", "shape": [1, 8]}],
         "nodes": [{"type": "Linear", "name": "fc1", "out_features": 16, "inputs": ["x"]},
                   {"type": "ReLU", "name": "act", "inputs": ["fc1"]},
                   {"type": "Linear", "name": "fc2", "out_features": 4, "inputs": ["act"]}]}


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The threads that costed a loaded graph and prepared its diagram."""
    seen: dict[str, list[str]] = {"cost": [], "prepare": []}
    evaluate = load_job.evaluate_graph

    def costing(graph: Graph, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - evaluate_graph's signature
        seen["cost"].append(threading.current_thread().name)
        return evaluate(graph, *args, **kwargs)

    def preparing(graph: Graph) -> prepared.PreparedDiagram:
        seen["prepare"].append(threading.current_thread().name)
        return prepared.prepare(graph)

    monkeypatch.setattr(load_job, "evaluate_graph", costing)
    monkeypatch.setattr(session, "prepare", preparing)
    monkeypatch.setattr("netcost.gui.app.graph_file_job.prepare", preparing)
    return seen


def _window(qtbot, tmp_path: Path, alexnet, command: list[str] | None = None) -> MainWindow:  # noqa: ANN001
    w = MainWindow(CostDocument(alexnet), autosave_dir=tmp_path / "rec", worker_command=command)
    qtbot.addWidget(w)
    w.show()
    return w


def test_a_small_graph_file_is_read_costed_and_laid_out_off_the_gui_thread(qtbot, tmp_path: Path, alexnet,  # noqa: ANN001
                                                                           threads) -> None:  # noqa: ANN001
    path = tmp_path / "small.json"
    path.write_text(json.dumps(GRAPH))  # 400 bytes: before, anything under 1 MiB opened on the GUI thread
    w = _window(qtbot, tmp_path, alexnet)
    before = w.document.report
    assert w.open_reference(str(path))
    assert w.document.report is before and w.load_indicator.isVisible()  # the window shows the open going on
    qtbot.waitUntil(lambda: w.document.path == path, timeout=60_000)
    main = threading.main_thread().name
    assert threads["cost"] and main not in threads["cost"]
    assert threads["prepare"] and main not in threads["prepare"]
    assert [w.document.node(r).name for r in range(w.document.row_count())] == ["fc1", "act", "fc2"]
    assert w.document.report.totals.params == 8 * 16 + 16 + 16 * 4 + 4
    qtbot.waitUntil(lambda: not w.load_indicator.isVisible())


def test_a_traced_models_answer_is_costed_and_prepared_off_the_gui_thread(qtbot, tmp_path: Path, alexnet,  # noqa: ANN001
                                                                          threads) -> None:  # noqa: ANN001
    graph = loads_graph(json.dumps(GRAPH))[0]
    answer = json.dumps({"ok": True, "graph": graph_to_dict(graph)})
    worker = [sys.executable, "-c", f"import sys; sys.stdin.read(); sys.stdout.write({answer!r})"]
    w = _window(qtbot, tmp_path, alexnet, worker)
    busy: list[bool] = []
    w.loader.loaded.connect(lambda *_: busy.append(w.loader.busy))
    with qtbot.waitSignal(w.loader.loaded, timeout=60_000):
        w.open_reference("model.py:Net")
    main = threading.main_thread().name
    assert threads["cost"] and main not in threads["cost"]  # before: interpreted and costed in the slot
    assert threads["prepare"] and main not in threads["prepare"]
    assert busy == [False]  # busy (Cancel enabled) until the answer was costed, then done
    assert [w.document.node(r).name for r in range(w.document.row_count())] == ["fc1", "act", "fc2"]
    assert w.document.report.totals.params == 8 * 16 + 16 + 16 * 4 + 4
    assert not w.message_bar.isVisible()
