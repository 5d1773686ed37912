"""A 100k-node graph file in the window (`--big`): figures, not pass/fail (another branch is making them fast).

The whole main window at 1280x800 (offscreen) opens a `netcost.graph/1` file of 100,000 nodes (a chain of
Linear/ReLU pairs with a skip add every 10 nodes) through `open_reference`, as File > Open does, while a 5 ms timer
records the gaps between its ticks: the longest gap is the longest pass of the event loop (the window frozen that
long). Then `edits` argument edits of a row in the middle (its bias on and off), each timed until its posted paint
events ran, and the process's RSS before and after them (memory per edit, the undo stack included).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

from .common import Tally, rss_kib


def big_document(nodes: int) -> dict:
    items: list[dict] = []
    for i in range(nodes // 2):
        items.append({"type": "Linear", "name": f"fc{i}", "out_features": 64})
        if i % 5 == 4:
            items.append({"type": "add", "name": f"skip{i}", "inputs": [f"fc{i}", f"fc{i - 4}"]})
        else:
            items.append({"type": "ReLU", "name": f"act{i}"})
    return {"format": "netcost.graph/1", "name": f"chain of {nodes}", "inputs": [{"name": "x", "shape": [1, 64]}],
            "nodes": items}


def run(folder: Path, nodes: int = 100_000, edits: int = 20) -> Tally:
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from netcost.gui.app.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    tally = Tally(f"{nodes:,}-node graph in the window (figures)")
    path = folder / "big.json"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(big_document(nodes)))
    w = MainWindow(autosave_dir=folder / "recovery")
    w.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    w.resize(1280, 800)
    w.show()
    app.processEvents()
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(5)
    t0 = time.perf_counter()
    QTimer.singleShot(0, lambda: w.open_reference(str(path)))
    while w.document.row_count() < nodes and time.perf_counter() - t0 < 600:
        app.processEvents()
        time.sleep(0.001)
    opened = time.perf_counter() - t0
    end = time.perf_counter() + 2  # what the views defer past the open
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    tally.case("opened" if w.document.row_count() >= nodes else "not opened in 600 s")
    tally.figures.append(f"open: {opened:.1f} s to {w.document.row_count():,} rows; longest event-loop pass "
                         f"{max(gaps, default=0):.0f} ms (target 200 ms)")
    row = w.document.row_of(f"fc{nodes // 4}") or nodes // 2
    base = rss_kib(os.getpid())
    painted = []
    for i in range(edits):
        t = time.perf_counter()
        w.document.set_layer_arg(row, "bias", i % 2 == 1)  # shapes kept: the graph stays complete
        app.processEvents()
        painted.append((time.perf_counter() - t) * 1000)
        tally.case("edited")
    grown = rss_kib(os.getpid()) - base
    tally.figures.append(f"edit to repaint: median {statistics.median(painted):.0f} ms, max {max(painted):.0f} ms "
                         f"(target 100 ms); memory {grown / edits / 1024:.2f} MiB per edit over {edits} edits "
                         f"(undo stack {w.document.undo_stack.count()} steps)")
    w.document.undo_stack.setClean()
    w.close()
    w.deleteLater()
    app.processEvents()
    return tally
