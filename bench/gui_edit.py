"""Benchmark: edit one table cell -> every connected view updated, and process start -> first painted window.

    .venv/bin/python bench/gui_edit.py [--reps 40] [--sizes 50,500,2000]

For each list size, the whole main window is built (table, totals, layer editor, modules tree, and the diagram and
charts plugged in through gui/app/view_slots.py) at 1280x800 on Qt's offscreen platform. One sample is
`LayerTableModel.setData` on the Arguments cell of a conv in the middle of the list (out_channels 16 <-> 24, which
re-infers the next conv's in_channels and changes every row's share), timed until
  - "slots":   setData has returned (every connected slot ran synchronously: document, table, totals, editor,
                diagram, charts, status bar), and
  - "painted": the posted update/paint events have been processed as well (the window repainted).
Target: median <= 16 ms at 500 layers; for traced models (`--models`, the cases of bench/graph_edit.py): a loaded
ResNet-50 <= 16 ms and a 5,000-node graph (Llama-70B config, 5,134 nodes) <= 50 ms, paint included. For those,
also the longest single pass of the event loop in the 0.8 s after each of 6 edits: work the views defer past the
frame (the module tree's subtotals, the minimap, a sweep) must not stall the window.

Start-up runs `netcost.gui.app.app.main` in a fresh process that prints the moment of its first paint event and whether
`torch` was imported by then (it must not be: traced models load in the worker).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def chain(n: int):  # noqa: ANN201 - costing.Network, imported lazily below
    from netcost.costing import LayerSpec, Network

    specs = [LayerSpec("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}) if i % 2 == 0
             else LayerSpec("ReLU") for i in range(n)]
    return Network(tuple(specs), (16, 32, 32), f"chain{n}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def bench_edit(sizes: list[int], reps: int) -> list[dict[str, float]]:
    import tempfile

    from PySide6.QtCore import QCoreApplication, QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    settings_dir = tempfile.mkdtemp(prefix="netcost-bench-")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
    from netcost.gui.app.app import make_application

    app = make_application()
    QCoreApplication.setOrganizationName("NetCostBench")
    from netcost.gui.app.main_window import MainWindow
    from netcost.gui.document.cost_document import CostDocument
    from netcost.gui.table.layer_table_model import ARGS

    rows = []
    for n in sizes:
        window = MainWindow(CostDocument(chain(n)), autosave_dir=Path(settings_dir) / "recovery")
        window.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
        window.resize(1280, 800)
        window.show()
        for _ in range(20):
            app.processEvents()
        model = window.table.table_model
        row = (n // 2) & ~1  # an even row: a conv
        window.document.selection.set_rows([row])
        app.processEvents()
        slots, painted = [], []
        for i in range(reps + 5):
            width = 24 if i % 2 == 0 else 16
            text = f"out_channels={width}, kernel_size=3, padding=1"
            t0 = time.perf_counter()
            model.setData(model.index(row, ARGS), text)
            t1 = time.perf_counter()
            app.processEvents()
            t2 = time.perf_counter()
            if i >= 5:  # warm-up
                slots.append((t1 - t0) * 1000)
                painted.append((t2 - t0) * 1000)
        assert window.document.error is None
        views = [k for k, v in window.views.items() if v.objectName() != "viewPlaceholder"]
        rows.append({"layers": n, "slots_median_ms": statistics.median(slots), "slots_p95_ms": percentile(slots, .95),
                     "painted_median_ms": statistics.median(painted), "painted_p95_ms": percentile(painted, .95),
                     "views": ",".join(views)})
        window.document.undo_stack.setClean()
        window.close()
        window.deleteLater()
        app.processEvents()
    return rows


def bench_loaded(names: list[str], reps: int) -> list[dict[str, float | str]]:
    """One argument edit of a traced model's node (bench/graph_edit.py's cases) in the whole window."""
    from PySide6.QtWidgets import QApplication

    sys.path.insert(0, str(ROOT / "bench"))
    from graph_edit import CASES, traced_graph

    from netcost.costing.graph_eval import evaluate_graph
    from netcost.gui.app.main_window import MainWindow
    from netcost.gui.document.cost_document import CostDocument

    app = QApplication.instance()
    rows: list[dict[str, float | str]] = []
    for name, node_name, arg, values in [c for c in CASES if c[0] in names]:
        graph = traced_graph(name)
        doc = CostDocument()
        doc.set_report(evaluate_graph(graph))
        window = MainWindow(doc, autosave_dir=Path(tempfile_dir()) / "recovery")
        window.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
        window.resize(1280, 800)
        window.show()
        for _ in range(20):
            app.processEvents()
        row = doc.row_of(graph.by_name(node_name).id)
        doc.selection.set_rows([row])
        app.processEvents()
        slots, painted = [], []
        for i in range(reps + 5):
            t0 = time.perf_counter()
            doc.set_layer_arg(row, arg, values[(i + 1) % 2])
            t1 = time.perf_counter()
            app.processEvents()
            t2 = time.perf_counter()
            if i >= 5:
                slots.append((t1 - t0) * 1000)
                painted.append((t2 - t0) * 1000)
        assert doc.report.complete
        settle = after_edits(app, lambda i, d=doc, r=row, a=arg, v=values: d.set_layer_arg(r, a, v[i % 2]))
        rows.append({"layers": f"{name} ({len(graph.nodes)})", "settle_max_ms": settle,
                     "slots_median_ms": statistics.median(slots),
                     "slots_p95_ms": percentile(slots, .95), "painted_median_ms": statistics.median(painted),
                     "painted_p95_ms": percentile(painted, .95),
                     "views": ",".join(k for k, v in window.views.items() if v.objectName() != "viewPlaceholder")})
        doc.undo_stack.setClean()
        window.close()
        window.deleteLater()
        app.processEvents()
    return rows


def after_edits(app, edit, edits: int = 6, window_s: float = 0.8) -> float:  # noqa: ANN001
    """The longest single pass of the event loop in the `window_s` after each of `edits` edits (ms): the work
    views defer past the frame (debounced trees, sweeps, overviews) must not stall the window either."""
    worst = 0.0
    for i in range(edits):
        edit(i)
        end = time.perf_counter() + window_s
        while time.perf_counter() < end:
            t = time.perf_counter()
            app.processEvents()
            worst = max(worst, time.perf_counter() - t)
            time.sleep(0.002)
    return worst * 1000


def tempfile_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="netcost-bench-")


def bench_startup(runs: int) -> dict[str, float]:
    env = dict(os.environ, NETCOST_EXIT_AFTER_PAINT="1", QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(Path("/tmp") / "netcost-bench-config"))
    code = "import sys; from netcost.gui.app.app import main; sys.exit(main(['zoo:alexnet']))"
    times, torch_seen = [], False
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=60).stdout
        line = next(ln for ln in out.splitlines() if ln.startswith("{"))
        info = json.loads(line)
        times.append((info["first_paint_s"] - t0) * 1000)
        torch_seen |= bool(info["torch_imported"])
    t0 = time.time()
    subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, timeout=120)
    torch_ms = (time.time() - t0) * 1000
    return {"first_paint_median_ms": statistics.median(times), "first_paint_min_ms": min(times),
            "torch_imported_before_paint": torch_seen, "python_import_torch_ms": torch_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--sizes", default="50,500,2000")
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--models", default="resnet50,llama70b", help="traced models (bench/graph_edit.py's cases)")
    args = parser.parse_args()
    startup = bench_startup(args.startup_runs)  # first, in fresh processes, before this one loads Qt
    rows = bench_edit([int(s) for s in args.sizes.split(",")], args.reps)
    rows += bench_loaded(args.models.split(","), args.reps)
    print(f"{'layers':>18} {'slots med':>10} {'slots p95':>10} {'painted med':>12} {'painted p95':>12}  views")
    for r in rows:
        print(f"{r['layers']:>18} {r['slots_median_ms']:>8.2f}ms {r['slots_p95_ms']:>8.2f}ms "
              f"{r['painted_median_ms']:>10.2f}ms {r['painted_p95_ms']:>10.2f}ms  {r['views']}")
    for r in rows:
        if "settle_max_ms" in r:
            print(f"{r['layers']:>18}: longest event-loop pass in the 0.8 s after an edit (6 edits): "
                  f"{r['settle_max_ms']:.1f} ms")
    print(f"start -> first painted window: median {startup['first_paint_median_ms']:.0f} ms "
          f"(min {startup['first_paint_min_ms']:.0f} ms); torch imported before the paint: "
          f"{startup['torch_imported_before_paint']}; `python -c 'import torch'` alone: "
          f"{startup['python_import_torch_ms']:.0f} ms")


if __name__ == "__main__":
    main()
