"""Benchmark: open -> painted in the window for zoo:resnet50 and zoo:gpt2, cold and warm, beside `import torch`.

    .venv/bin/python bench/open_speed.py [--runs 3] [--refs zoo:resnet50,zoo:gpt2]

The main window (table, totals, editor, modules, and the diagram, charts and latency views plugged in through
gui/app/view_slots.py) at 1280x800 on Qt's offscreen platform. One sample is `MainWindow.open_reference(ref)` timed
until the window shows the new model and its posted paint events have been processed (every view repainted):
  - cold: no spare worker: the load starts a fresh worker (Python, `import torch`, build, trace), as the first
          open of a window does;
  - warm: the window's spare worker (gui/document/model_loader.py) has torch imported before the open, as every
    later open
          finds it (the spare is started a second after a load ends; "spare ready" says how long it then takes).
`python -c "import torch"` is measured in the same runs, interleaved with the opens so that load on the machine
hits all alike; the figures are medians and the ratios are to that import.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def import_torch_s() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True, capture_output=True, timeout=300)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--refs", default="zoo:resnet50,zoo:gpt2")
    args = parser.parse_args()
    refs = args.refs.split(",")

    from PySide6.QtCore import QEventLoop, QTimer

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_window import bench_window

    from netcost.model_io.worker.resolve import LoadOptions

    app, window = bench_window(tempfile.mkdtemp(prefix="netcost-bench-"))
    loader = window.loader

    def wait_for(done, timeout_s: float = 300.0) -> None:  # noqa: ANN001 - a predicate
        loop = QEventLoop()
        timer = QTimer()
        timer.timeout.connect(lambda: loop.quit() if done() else None)
        timer.start(2)
        end = time.monotonic() + timeout_s
        while not done():
            if time.monotonic() > end:
                raise SystemExit(f"timed out ({loader.reference}): {window.message_bar.text.text()}")
            loop.exec()
        timer.stop()

    def open_s(ref: str) -> float:
        window.document.undo_stack.setClean()
        before = window.document.report
        t0 = time.perf_counter()
        window.open_reference(ref, LoadOptions(timeout=300))
        wait_for(lambda: window.document.report is not before or not loader.busy)
        if window.document.report is before:
            raise SystemExit(f"{ref} failed: {window.message_bar.text.text()}")
        app.processEvents()  # the posted paint events: every view repainted
        return time.perf_counter() - t0

    def ready_s() -> float:
        """Start a spare now and wait until it has torch imported."""
        t0 = time.perf_counter()
        loader.prestart()
        wait_for(lambda: loader.spare_ready)
        return time.perf_counter() - t0

    torch_s: list[float] = []
    cold: dict[str, list[float]] = {r: [] for r in refs}
    warm: dict[str, list[float]] = {r: [] for r in refs}
    spare: list[float] = []
    open_s("zoo:alexnet")  # warm-up of the window's own code paths (a layer list: no worker)
    for _ in range(args.runs):
        torch_s.append(import_torch_s())
        for ref in refs:
            loader.shutdown()  # no spare: the load starts a fresh worker
            cold[ref].append(open_s(ref))
            loader.shutdown()
            spare.append(ready_s())
            warm[ref].append(open_s(ref))
            assert loader.used_spare
    loader.shutdown()
    window.close()

    t = statistics.median(torch_s)
    print(f"runs: {args.runs} (medians); machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print(f"`python -c 'import torch'`: {t:.2f} s")
    print(f"{'model':<14} {'cold':>8} {'× import':>9} {'warm':>8} {'× import':>9} {'cold ÷ warm':>12}")
    for ref in refs:
        c, w = statistics.median(cold[ref]), statistics.median(warm[ref])
        print(f"{ref:<14} {c:>7.2f}s {c / t:>8.2f}× {w:>7.2f}s {w / t:>8.2f}× {c / w:>11.2f}×")
    print(f"spare worker start -> torch imported (ready): {statistics.median(spare):.2f} s")


if __name__ == "__main__":
    main()
