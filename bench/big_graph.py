"""Benchmark: a 100k-node graph file in the window: the open, edits, and the undo stack's memory.

    .venv/bin/python bench/big_graph.py [--nodes 100000] [--edits 30]

A deep transformer graph file (bench/big_graph_file.py) is opened in the main window (1280x800, Qt's offscreen
platform, every view plugged in) with `MainWindow.open_reference`, called from inside the running event loop.
A 5 ms heartbeat timer measures the event loop meanwhile. Printed:
  - open -> painted: from the call until the window shows the new document and its paint events have run;
  - longest event-loop pass during the open (the longest gap between heartbeats);
  - progress updates seen: distinct texts/values of the status bar's load indicator the heartbeat saw;
  - edit -> painted: median and p95 over `--edits` edits (out_features of an MLP Linear in the middle layer,
    256 <-> 128, which re-infers the next Linear) timed until the posted paint events have run, and the longest
    event-loop pass in the 0.8 s after each of 6 edits (work the views defer);
  - memory per edit: the process's RSS growth per edit over 60 edits once the undo stack is at its bound (with no
    bound: over 60 edits), the undo stack's count and limit.
Targets (issue 23): longest pass during the open <= 200 ms with progress shown; edit -> painted <= 100 ms.
"""

from __future__ import annotations

import argparse
import gc
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

from bench_window import bench_window  # noqa: E402
from big_graph_file import write_graph_file  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=30)
    args = parser.parse_args()

    from PySide6.QtCore import QEventLoop, QTimer

    scratch = tempfile.mkdtemp(prefix="netcost-bench-")
    path = Path(scratch) / "big.json"
    nodes = write_graph_file(path, args.nodes)
    app, window = bench_window(scratch)
    doc = window.document

    # ---- the open, watched by a heartbeat --------------------------------------------------------------------
    beats: list[float] = []
    seen: set[tuple[str, int]] = set()
    indicator = window.load_indicator

    def beat() -> None:
        beats.append(time.perf_counter())
        if indicator.isVisible():
            seen.add((indicator.label.text(), indicator.bar.value()))

    heart = QTimer()
    heart.setInterval(5)
    heart.timeout.connect(beat)
    heart.start()
    loop = QEventLoop()
    done = QTimer()
    end = time.perf_counter() + 600
    done.timeout.connect(lambda: loop.quit() if doc.row_count() == nodes or time.perf_counter() > end else None)
    done.start(5)
    t0 = time.perf_counter()
    beats.append(t0)
    QTimer.singleShot(0, lambda: window.open_reference(str(path)))
    loop.exec()
    app.processEvents()
    open_s = time.perf_counter() - t0
    beats.append(time.perf_counter())
    done.stop()
    heart.stop()
    if doc.row_count() != nodes:
        raise SystemExit(f"the open did not finish: {window.message_bar.text.text()}")
    longest_open = max(b - a for a, b in zip(beats, beats[1:], strict=False))
    for _ in range(10):
        app.processEvents()

    # ---- edits ----------------------------------------------------------------------------------------------
    layers = nodes // 15
    row = doc.row_of(f"layers.{layers // 2}.mlp.fc1")
    assert row is not None
    doc.selection.set_rows([row])
    app.processEvents()
    widths = (256, 128)
    painted: list[float] = []
    k = 0

    def edit() -> None:
        nonlocal k
        k += 1
        doc.set_layer_arg(row, "out_features", widths[k % 2])

    for i in range(args.edits + 5):
        t = time.perf_counter()
        edit()
        app.processEvents()
        if i >= 5:
            painted.append((time.perf_counter() - t) * 1000)
    assert doc.report.complete, doc.error
    settle = 0.0
    for _ in range(6):
        edit()
        stop = time.perf_counter() + 0.8
        while time.perf_counter() < stop:
            t = time.perf_counter()
            app.processEvents()
            settle = max(settle, time.perf_counter() - t)
            time.sleep(0.002)

    # ---- memory per edit with the undo stack at its bound -----------------------------------------------------
    stack = doc.undo_stack
    limit = stack.undoLimit()
    while limit and stack.count() < limit:
        edit()
        app.processEvents()
    gc.collect()
    before, count_before = rss_mb(), stack.count()
    extra = 60
    for _ in range(extra):
        edit()
        app.processEvents()
    gc.collect()
    per_edit_mb = (rss_mb() - before) / extra
    value_before = doc.node(row).args.get("out_features")
    stack.undo()
    app.processEvents()
    undo_ok = doc.node(row).args.get("out_features") != value_before
    stack.setClean()
    window.close()

    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; graph file: {nodes} nodes, "
          f"{path.stat().st_size / 2**20:.1f} MiB")
    print(f"open -> painted: {open_s * 1000:.0f} ms; longest event-loop pass during the open: "
          f"{longest_open * 1000:.0f} ms; progress updates seen: {len(seen)}")
    print(f"edit -> painted over {len(painted)} edits: median {statistics.median(painted):.1f} ms, "
          f"p95 {percentile(painted, .95):.1f} ms, max {max(painted):.1f} ms; longest event-loop pass in the "
          f"0.8 s after an edit (6 edits): {settle * 1000:.1f} ms")
    print(f"memory per edit (RSS, 60 edits from {count_before} commands): {per_edit_mb:.2f} MiB; undo stack: "
          f"{stack.count()} commands, limit {limit or 'none'}; undo restores the previous value: {undo_ok}")


if __name__ == "__main__":
    main()
