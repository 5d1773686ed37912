"""Autosave recovery after kill -9, for graph documents and projects.

An editing session in its own process (the document and Autosave the window uses) edits in a loop and autosaves
after each edit; before each autosave it writes what it is about to save (`pending.json`), after it what was saved
(`saved.json`). It is killed with SIGKILL at a random moment; a fresh window in this process then offers the
recovery file. The restored document must equal the last autosave or the pending one (graph and totals), and a
recovery file is never deleted unless it was restored (it then lives on as the new session's) or declined.
Damaged recovery files (cut, binary, another format, an empty file) must be kept (renamed), never deleted.
"""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
import time
from pathlib import Path

from .common import ROOT, Count, Tally, env

DOCUMENTS = ("graph", "project", "traced")

EDITOR = r"""
import json, os, random, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from netcost.gui.document.autosave import Autosave
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.graph_file import loads_graph
folder, kind, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rng = random.Random(seed)
doc = CostDocument()
if kind == "project":
    doc.load_file(sys.argv[4])
else:
    graph, extra = loads_graph(Path(sys.argv[4]).read_text())
    doc.set_graph(graph, None, extra)
auto = Autosave(doc, folder / "recovery", idle_ms=10**9)

def write(name, i):
    tmp = folder / (name + ".tmp")
    tmp.write_text(json.dumps({"i": i, "data": doc.file_data()}))
    os.replace(tmp, folder / name)

editable = [(r, f) for r in range(doc.row_count()) if doc.editable(r)
            for f in ("out_channels", "out_features") if f in doc.spec(r).args]
print("ready", flush=True)
for i in range(1, 10**6):
    r, f = rng.choice(editable)
    if rng.random() < 0.8:
        doc.set_layer_arg(r, f, rng.choice([4, 8, 16, 24, 32, 48]))
    else:
        doc.set_convention(rng.choice(["macs", "flops", "thop"]))
        doc.set_layer_arg(r, f, rng.choice([5, 6, 7]))
    write("pending.json", i)
    if auto.save_now():
        write("saved.json", i)
"""

DAMAGED = {"cut": lambda good: good[: len(good) // 2], "binary": lambda good: bytes(range(256)) * 4,
           "other format": lambda good: b'{"format": "netcost.layers/9", "layers": []}', "empty": lambda good: b"",
           "not utf-8": lambda good: good.replace(b'"name"', b'"n\xff\xfeame"', 1)}


def _source_document(kind: str, rng: random.Random, folder: Path) -> Path:
    if kind == "project":
        return ROOT / "resources" / "layers" / rng.choice(["alexnet.json", "conv3x3_stack.json", "gap_fc.json"])
    if kind == "graph":
        return ROOT / "resources" / "graphs" / rng.choice(["inception_3a.json", "inception_naive.json"])
    from .graph_files import valid_graph  # a traced-like graph: opaque measured nodes, a source reference

    while True:
        doc = valid_graph(rng)
        if any(n["type"] in ("Linear", "Conv2d") for n in doc["nodes"]):
            break
    doc["source"] = {"kind": "model", "ref": str(folder / "not_run.py") + ":Net", "warnings": []}
    path = folder / "traced.json"
    path.write_text(json.dumps(doc))
    return path


def _window(directory: Path):  # noqa: ANN202 - a MainWindow (Qt imported late)
    from netcost.gui.app.main_window import MainWindow

    w = MainWindow(autosave_dir=directory)
    w.ask_restore_recovery = lambda path=None: True  # type: ignore[method-assign]
    w.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    return w


def _close(w) -> None:  # noqa: ANN001 - a MainWindow
    w.document.undo_stack.setClean()
    w.close()
    w.deleteLater()


def _expected(folder: Path) -> list[tuple[int, object]]:
    from netcost.model_io.files.graph_file import parse_graph

    found = []
    for name in ("saved.json", "pending.json"):
        path = folder / name
        if path.exists():
            record = json.loads(path.read_text())
            found.append((record["i"], parse_graph(record["data"])[0]))
    return found


def one_kill(kind: str, rng: random.Random, folder: Path, tally: Tally, label: str) -> None:
    from PySide6.QtWidgets import QApplication

    from netcost.costing.graph_eval import evaluate_graph

    folder.mkdir(parents=True)
    source = _source_document(kind, rng, folder)
    p = subprocess.Popen([sys.executable, "-c", EDITOR, str(folder), kind, str(rng.randrange(10**6)), str(source)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(), cwd=str(ROOT))
    ready = p.stdout.readline() if p.stdout else b""
    if ready.strip() != b"ready":
        p.kill()
        p.wait()
        tally.case("failed")
        tally.fail(Count.CRASH, f"{label}: the editing session did not start: {p.stderr.read()[-200:]!r}")
        return
    time.sleep(rng.uniform(0.05, 1.5))
    p.kill()
    p.wait()
    expected = _expected(folder)
    recovery = folder / "recovery"
    files = sorted(recovery.glob("autosave*.json")) if recovery.exists() else []
    w = _window(recovery)
    try:
        restored = w.offer_recovery()
        QApplication.processEvents()
        if not files:
            tally.case("nothing autosaved yet" if not restored else "failed")
            if restored:
                tally.fail(Count.WRONG, f"{label}: restored a document although no recovery file was written")
            return
        if not restored:
            kept = list(recovery.glob("*autosave*.json"))
            tally.case("failed")
            tally.fail(Count.LOST if not kept else Count.WRONG,
                       f"{label}: the recovery file was not restored ({w.message_bar.text.text()[:120]}); "
                       f"{'deleted' if not kept else 'kept'}")
            return
        graph = w.document.graph
        match = [i for i, g in expected if g == graph]
        if not match:
            tally.case("failed")
            tally.fail(Count.LOST, f"{label}: the restored {kind} equals neither the last autosave nor the pending "
                                   f"one (versions {[i for i, _ in expected]})")
            return
        if w.document.report.totals != evaluate_graph(graph).totals:
            tally.case("failed")
            tally.fail(Count.WRONG, f"{label}: the restored totals are not the graph's")
            return
        if not w.autosave.path.is_file():
            tally.case("failed")
            tally.fail(Count.LOST, f"{label}: restored, but no recovery file protects it any more")
            return
        tally.case("restored the last autosave" if match[0] == expected[0][0] else "restored the pending one")
    finally:
        _close(w)


def damaged_file(what: str, folder: Path, tally: Tally) -> None:
    """A recovery file from a dead session that cannot be read: kept (renamed), the window says where."""
    recovery = folder / "recovery"
    recovery.mkdir(parents=True)
    good = (ROOT / "resources" / "graphs" / "inception_3a.json").read_bytes()
    path = recovery / "autosave-999999999-dead.json"
    data = DAMAGED[what](good)
    path.write_bytes(data)
    w = _window(recovery)
    try:
        w.offer_recovery()
        kept = [p for p in recovery.iterdir() if p.is_file() and p.read_bytes() == data]
        if not kept:
            tally.case("failed")
            tally.fail(Count.LOST, f"damaged recovery file ({what}): deleted")
        else:
            tally.case("damaged file kept")
    finally:
        _close(w)


def run(n: int, rng: random.Random, folder: Path) -> Tally:
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    logging.getLogger("netcost.gui.document.autosave").setLevel(logging.ERROR)  # damaged files warn
    tally = Tally("autosave recovery after kill -9")
    for i in range(n):
        kind = DOCUMENTS[i % len(DOCUMENTS)]
        try:
            one_kill(kind, rng, folder / f"kill{i}", tally, f"kill {i} ({kind})")
        except Exception as e:  # noqa: BLE001 - anything else is what this run looks for
            tally.case("failed")
            tally.fail(Count.CRASH, f"kill {i} ({kind}): {type(e).__name__}: {str(e)[:150]}")
    for what in DAMAGED:
        try:
            damaged_file(what, folder / f"damaged-{what.replace(' ', '-')}", tally)
        except Exception as e:  # noqa: BLE001
            tally.case("failed")
            tally.fail(Count.CRASH, f"damaged recovery file ({what}): {type(e).__name__}: {str(e)[:150]}")
    return tally
