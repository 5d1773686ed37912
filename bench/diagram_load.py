"""Benchmark: does the window keep answering while a 5,000-node model arrives in the diagram? (a script, not a test)

    .venv/bin/python bench/diagram_load.py [--nodes 5000] [--runs 3]

A deep transformer graph file (bench/big_graph_file.py) arrives in a `CostDocument` shown by the diagram tab
(`DiagramView`, 1280x800, Qt's offscreen platform), two ways, while a 5 ms heartbeat timer watches the event loop:
  - on a thread: `GraphFileJob` reads, checks and costs the file and prepares the diagram (structure, opening
    scopes, their layout: gui/diagram/prepared.py) off the GUI thread; the GUI thread then installs the document
    and the scene makes the items of the boxes shown;
  - inline: the same steps all on the GUI thread (what a file under 1 MiB got before every open went through
    GraphFileJob).
Printed per way: the longest event-loop pass (the longest gap between heartbeats; median over `--runs`), the
time until the diagram is painted, and how long the GUI thread's part (document, items, paint) took of it.
Target (issue 19): the longest pass <= 100 ms on a thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from big_graph_file import write_graph_file  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def _view():  # noqa: ANN202 - DiagramView (its module moved in issue 19: this runs on both sides)
    try:
        from netcost.gui.diagram.view import DiagramView
    except ImportError:
        from netcost.gui.diagram_view import DiagramView  # type: ignore[no-redef]
    return DiagramView


def one_open(path: Path, threaded: bool) -> tuple[float, float, float]:
    """(longest event-loop pass, seconds until painted, seconds the GUI thread took to install the arrived graph:
    the document, the scene's items, one paint) of one arrival of `path` in a fresh diagram tab."""
    from netcost.costing.graph_eval import evaluate_graph
    from netcost.gui.app.graph_file_job import GraphFileJob
    from netcost.gui.document.cost_document import CostDocument
    from netcost.model_io.files.graph_file import load_graph

    app = QApplication.instance()
    doc = CostDocument()
    view = _view()(doc)
    view.resize(1280, 800)
    view.show()
    for _ in range(5):
        app.processEvents()
    beats: list[float] = []
    heart = QTimer()
    heart.setInterval(5)
    heart.timeout.connect(lambda: beats.append(time.perf_counter()))
    loop = QEventLoop()
    arrived: list[float] = []
    installing: list[float] = []

    def install(graph, report=None) -> None:  # noqa: ANN001 - a Graph and its CostReport
        t = time.perf_counter()
        doc.set_graph(graph, path, report=report)
        view.repaint()
        arrived.append(time.perf_counter())
        installing.append(arrived[0] - t)
        QTimer.singleShot(50, loop.quit)  # a few more beats after it

    def inline() -> None:
        graph = load_graph(path)[0]
        install(graph, evaluate_graph(graph))

    job = GraphFileJob(path)
    job.loaded.connect(lambda loaded: install(loaded.graph, loaded.report))  # a Loaded
    heart.start()
    t0 = time.perf_counter()
    beats.append(t0)
    QTimer.singleShot(0, job.start if threaded else inline)
    loop.exec()
    heart.stop()
    job.wait()
    if not arrived:
        raise SystemExit("the graph did not arrive")
    longest = max(b - a for a, b in zip(beats, beats[1:], strict=False))
    view.close()
    view.deleteLater()
    app.processEvents()
    return longest, arrived[0] - t0, installing[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    QApplication.instance() or QApplication([])
    path = Path(tempfile.mkdtemp(prefix="netcost-bench-")) / "model.json"
    nodes = write_graph_file(path, args.nodes)
    print(f"{nodes} nodes, {path.stat().st_size / 2**20:.2f} MiB")
    for threaded in (True, False):
        runs = [one_open(path, threaded) for _ in range(args.runs)]
        longest = statistics.median(r[0] for r in runs)
        shown = statistics.median(r[1] for r in runs)
        install = statistics.median(r[2] for r in runs)
        print(f"{'on a thread' if threaded else 'inline':>12}: longest event-loop pass {longest * 1000:7.1f} ms "
              f"(max {max(r[0] for r in runs) * 1000:.1f} ms); arrived and painted in {shown * 1000:7.1f} ms, "
              f"of which the GUI thread's install (document, items, paint) {install * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
