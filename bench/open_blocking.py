"""Benchmark: does opening a model block the window's event loop? (a script, not a test)

    .venv/bin/python bench/open_blocking.py [--runs 3] [--refs zoo:resnet50,zoo:llama70b,llama70b.json]
                                            [--profile PREFIX]

The main window (bench/bench_window.py: 1280x800, every view plugged in, Qt's offscreen platform) opens each
reference with `MainWindow.open_reference`, called from inside the running event loop, while a 5 ms heartbeat timer
watches it. `llama70b.json` is the Llama-70B config traced once (in a child process: this one never imports torch)
and saved as a graph file (5,134 nodes, 0.9 MiB); `big.json` is bench/big_graph_file.py's 100k-node graph (6,666
layers in scopes); `chain.json` bench/reliability/big_graph.py's (100k nodes in one flat chain, no scopes).
One sample runs from the call until the new document is shown and 0.5 s more (the work views defer past the first
frame). Printed per reference: the longest event-loop pass (the longest gap between heartbeats) of every run, their
median, and the open -> shown times; then the same for the AlexNet open that follows each (the old document is
released in it: a big one's millions of objects). `--profile PREFIX` writes a cProfile of the GUI thread over each open
(PREFIX-<ref>.prof). Targets: issue 19 (ResNet-50, Llama-70B: <= 100 ms), issue 23 (100k nodes: <= 200 ms).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SETTLE_S = 0.5  # watched after the document is shown: deferred work (module tree, minimap, charts) counts too

LLAMA_SCRIPT = """
import sys
sys.path.insert(0, {bench!r})
from graph_edit import traced_graph
from netcost.model_io.files.graph_file import save_graph
save_graph({out!r}, traced_graph("llama70b"))
"""


def graph_file(name: str, scratch: Path) -> str:
    """The file a bench reference names, written into `scratch` once."""
    path = scratch / name
    if path.exists():
        return str(path)
    if name == "llama70b.json":
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        subprocess.run([sys.executable, "-c", LLAMA_SCRIPT.format(bench=str(ROOT / "bench"), out=str(path))],
                       check=True, env=env, timeout=600)
    elif name == "big.json":
        from big_graph_file import write_graph_file

        write_graph_file(path, 100_000)
    elif name == "chain.json":
        import json

        from reliability.big_graph import big_document

        path.write_text(json.dumps(big_document(100_000)))
    else:
        raise SystemExit(f"unknown bench file {name}")
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--refs", default="zoo:resnet50,zoo:llama70b,llama70b.json")
    parser.add_argument("--profile", default="", help="write a cProfile of the GUI thread per reference")
    args = parser.parse_args()

    from bench_window import bench_window
    from PySide6.QtCore import QEventLoop, QTimer

    from netcost.model_io.worker.resolve import LoadOptions

    scratch = Path(tempfile.mkdtemp(prefix="netcost-bench-"))
    refs = {r: (r if r.startswith("zoo:") else graph_file(r, scratch)) for r in args.refs.split(",")}
    app, window = bench_window(str(scratch))
    doc, loader = window.document, window.loader

    def one_open(ref: str, profile: cProfile.Profile | None) -> tuple[float, float]:
        """(longest event-loop pass, open -> shown) in seconds."""
        doc.undo_stack.setClean()
        before = id(doc.report)  # (not the report: holding it would move its release out of the sample)
        beats: list[float] = []
        shown: list[float] = []
        loop = QEventLoop()

        def beat() -> None:
            now = time.perf_counter()
            beats.append(now)
            if not shown and id(doc.report) != before:
                shown.append(now)
                QTimer.singleShot(int(SETTLE_S * 1000), loop.quit)

        heart = QTimer()
        heart.setInterval(5)
        heart.timeout.connect(beat)
        give_up = QTimer()
        give_up.setSingleShot(True)
        give_up.timeout.connect(loop.quit)
        give_up.start(600_000)
        t0 = time.perf_counter()
        beats.append(t0)
        heart.start()
        if profile is not None:
            profile.enable()
        QTimer.singleShot(0, lambda: window.open_reference(ref, LoadOptions(timeout=300)))
        loop.exec()
        if profile is not None:
            profile.disable()
        heart.stop()
        give_up.stop()
        if not shown:
            raise SystemExit(f"{ref} did not open: {window.message_bar.text.text()}")
        return max(b - a for a, b in zip(beats, beats[1:], strict=False)), shown[0] - t0

    one_open("zoo:alexnet", None)  # warm-up of the window's own code paths
    results: dict[str, list[tuple[float, float]]] = {r: [] for r in refs}
    after: dict[str, list[tuple[float, float]]] = {r: [] for r in refs}  # AlexNet opened over it: its release
    profiles = {r: cProfile.Profile() if args.profile else None for r in refs}
    for _ in range(args.runs):
        for name, ref in refs.items():
            results[name].append(one_open(ref, profiles[name]))
            after[name].append(one_open("zoo:alexnet", None))  # the next open replaces a small document
    loader.shutdown()
    window.close()

    print(f"runs: {args.runs}; machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    for name, runs in results.items():
        passes = [r[0] * 1000 for r in runs]
        shown = [r[1] for r in runs]
        print(f"{name:<16} longest event-loop pass: median {statistics.median(passes):6.0f} ms, runs "
              f"{', '.join(f'{p:.0f}' for p in passes)} ms; open -> shown median {statistics.median(shown):.2f} s")
        passes = [r[0] * 1000 for r in after[name]]
        print(f"{'  then AlexNet':<16} longest event-loop pass: median {statistics.median(passes):6.0f} ms, runs "
              f"{', '.join(f'{p:.0f}' for p in passes)} ms (replacing it)")
        prof = profiles[name]
        if prof is not None:
            out = f"{args.profile}-{name.replace(':', '_')}.prof"
            prof.dump_stats(out)
            print(f"  GUI-thread profile: {out}")


if __name__ == "__main__":
    main()
