"""Benchmark: the window's Inference | Training switch and its settings on a traced ResNet-50 (issue 21, item 6).

    .venv/bin/python bench/training_mode.py [--reps 15] [--model resnet50]

The whole main window at 1280x800 on Qt's offscreen platform, as bench/gui_edit.py builds it. One sample is one
change of the document's `TrainingState`, timed until the posted update/paint events have been processed too
("painted"): the switch to Training and back, another optimizer, another precision, another what-if batch, and an
argument edit of a node in Training mode (every training figure follows it) against the same edit in Inference
mode. Also the engine alone (`analyze_training`, what a new optimizer or precision costs again). Target: one frame
(<= 16 ms) for the switch and the settings on ResNet-50.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def timed(app, change: Callable[[int], object], reps: int) -> tuple[float, float]:  # noqa: ANN001
    """(median, max) ms of `change(i)` until painted, after 3 warm-up runs."""
    out = []
    for i in range(reps + 3):
        t0 = time.perf_counter()
        change(i)
        app.processEvents()
        if i >= 3:
            out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out), max(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--model", default="resnet50")
    args = parser.parse_args()
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp(prefix="netcost-"))
    from graph_edit import CASES, traced_graph

    from netcost.costing.graph_eval import evaluate_graph
    from netcost.costing.training import analyze_training
    from netcost.gui.app.app import make_application
    from netcost.gui.app.main_window import MainWindow
    from netcost.gui.document.cost_document import CostDocument
    from netcost.gui.document.training_state import Mode, TrainingState

    app = make_application([])
    _, node_name, arg, values = next(c for c in CASES if c[0] == args.model)
    graph = traced_graph(args.model)
    doc = CostDocument()
    doc.set_report(evaluate_graph(graph))
    window = MainWindow(doc, autosave_dir=Path(tempfile.mkdtemp()) / "recovery")
    window.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    window.resize(1280, 800)
    window.show()
    for _ in range(20):
        app.processEvents()
    state = TrainingState.of(doc)
    row = doc.row_of(graph.by_name(node_name).id)
    engine = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        analyze_training(doc.report, "adamw", "bf16-mixed")
        engine.append((time.perf_counter() - t0) * 1000)
    print(f"{args.model}: {len(graph.nodes)} nodes; analyze_training median {statistics.median(engine):.1f} ms")
    results = {"edit, Inference mode": timed(app, lambda i: doc.set_layer_arg(row, arg, values[(i + 1) % 2]),
                                             args.reps)}
    results["switch Inference <-> Training"] = timed(
        app, lambda i: state.set_mode(Mode.TRAINING if i % 2 == 0 else Mode.INFERENCE), args.reps)
    state.set_mode(Mode.TRAINING)
    app.processEvents()
    results["optimizer"] = timed(app, lambda i: state.set_optimizer(("adam", "sgd", "adafactor")[i % 3]), args.reps)
    results["precision"] = timed(app, lambda i: state.set_precision(("fp32", "bf16-mixed")[i % 2]), args.reps)
    results["batch"] = timed(app, lambda i: state.set_batch(1 + i % 7 * 8), args.reps)
    results["edit, Training mode"] = timed(app, lambda i: doc.set_layer_arg(row, arg, values[(i + 1) % 2]),
                                           args.reps)
    for name, (median, worst) in results.items():
        print(f"  {name:32s} painted: median {median:6.1f} ms, max {worst:6.1f} ms")
    doc.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()
