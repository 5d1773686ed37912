"""A load job sets what it made aside from the garbage collector (gc.freeze: a 100k-node graph's millions of young
objects were walked by the GUI thread's next collection, a ~0.5 s pass), and the document gives it back once it is
replaced: opening documents one after another frees each replaced one, and nothing stays frozen (issue 23)."""

from __future__ import annotations

import gc
import weakref

import pytest
from PySide6.QtCore import QEventLoop, QTimer

import netcost.gui.common.gc_pause as gc_pause
import netcost.gui.document.cost_document as cost_document
from netcost.costing.graph import Graph
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.document_types import Loaded
from netcost.gui.document.load_job import LoadJob, Progress
from netcost.model_io.files.graph_file import loads_graph

GRAPH = """{"format": "netcost.graph/1", "name": "small", "inputs": [{"name": "x", "shape": [1, 8]}],
 "nodes": [{"type": "Linear", "name": "fc1", "out_features": 16, "inputs": ["x"]},
           {"type": "ReLU", "name": "act", "inputs": ["fc1"]}]}"""


def _load(qtbot) -> Loaded:  # noqa: ANN001
    def read(progress: Progress) -> tuple[Graph, dict]:
        return loads_graph(GRAPH)

    job = LoadJob(read)
    with qtbot.waitSignal(job.loaded, timeout=10_000) as got:
        job.start()
    job.wait()
    return got.args[0]


def _settle() -> None:
    for _ in range(3):  # (the release timer and the retired objects' timers, due at once here)
        loop = QEventLoop()
        QTimer.singleShot(0, loop.quit)
        loop.exec()


def test_a_replaced_document_is_freed_and_nothing_stays_frozen(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(cost_document, "RELEASE_DELAY_MS", 0)
    monkeypatch.setattr(gc_pause, "RETIRE_STEP_MS", 0)  # (the replaced graph and report: let go a pass apart)
    gc_pause.let_all_go()  # (what earlier tests in this process replaced: not counted here)
    doc = CostDocument()
    gone: list[weakref.ref] = []
    tracked: list[int] = []
    for _ in range(6):
        loaded = _load(qtbot)
        assert gc.get_freeze_count() > 0  # set aside by the job, until the document is replaced
        gone.append(weakref.ref(loaded.graph))
        doc.set_loaded(loaded)
        del loaded
        _settle()
        assert gc.get_freeze_count() == 0
        gc.collect()
        tracked.append(len(gc.get_objects()))
    assert all(ref() is None for ref in gone[:-1])  # every replaced graph freed
    assert gone[-1]() is doc.graph
    # no growth per open (what earlier tests in this worker left may still be going: the count may fall)
    assert all(b - a < 200 for a, b in zip(tracked[2:], tracked[3:], strict=False)), tracked


def test_a_replaced_graph_and_report_are_let_go_after_the_reset_pass(qtbot) -> None:  # noqa: ANN001
    """Freeing a 100k-node graph and its report took ~55 ms of the pass that shows the next model: they are held
    past it (`gc_pause.retire`) and let go one per pass after it."""
    doc = CostDocument()
    doc.set_graph(loads_graph(GRAPH)[0])
    graph, report = weakref.ref(doc.graph), weakref.ref(doc.report)
    doc.set_graph(loads_graph(GRAPH)[0])
    assert graph() is not None and report() is not None  # not in the reset's pass
    qtbot.waitUntil(lambda: graph() is None and report() is None, timeout=5_000)
