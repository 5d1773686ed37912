"""Reliability run (a script, not a test): `python bench/reliability.py [--files 3000] [--cli 300] [--kills 30]`.

1. Structure-aware fuzzed layer-list / project files, in-process: mutated built-in layer lists (any layer type,
   sizes up to and past int64, junk values, unknown keys, NetCost's own `view`/`recovery` keys with any value,
   duplicate keys, NaN literals, byte-level damage). Each file must end as a report that renders in every table
   format and, opened as a project, saves and reopens identical — or as one FormatError/LayerError.
2. A sample of those files through the real CLI (`python -m model_io summary FILE --format F`): exit 0 or 2, on 2
   exactly one stderr line with no raw control characters, no traceback.
3. Hostile models through the CLI and through the window's loader (ModelLoader): each must end with the expected
   outcome within its time limit, with no process the model started left running.
4. kill -9 during saves: the target file is always the old or the new document, never partial; temporaries left
   behind are counted, and removed by the next save once stale.

Prints one line per part and a summary: cases, crashes, hangs, silent-wrong, data lost.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from costing import CONVENTIONS, FormatError, LayerError, evaluate, kinds  # noqa: E402
from model_io import tables  # noqa: E402
from model_io.layer_file import atomic_write, loads_network  # noqa: E402
from tests.hang_guard import Hang, no_hang  # noqa: E402 - the suite's guard: SIGALRM interrupts a loop

HANG_S = 10.0
KINDS = kinds()
SIZES = [1, 2, 3, 7, 16, 64, 10**6, 10**12, 10**15, 2**62, 2**63 - 1, 2**63, 10**30, 0, -1, -(10**12)]
JUNK = [None, True, False, 0.5, -1e300, 1e300, "", "x", "=cmd|' /C calc'!A0", "a\nb", "\x1b[2J", [], [1, 2],
        {"a": 1}, "same", "valid"]
NAMES = ["", "conv", "=1+1", "+x", "-y", "@z", "a\rb", "a\nb", "\x1b[31mred", "|pipe|", "<script>x</script>",
         "bidi\u202e", "ü✓"]
CONTROL = {chr(c) for c in range(32) if chr(c) != "\n"} | {"\x7f"}


# ---- 1. fuzzed files ------------------------------------------------------------------------------------------
def base_documents() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((ROOT / "resources" / "layers").glob("*.json"))]


def value_for(rng: random.Random, arg) -> object:  # noqa: ANN001
    if rng.random() < 0.1:
        return rng.choice(JUNK + SIZES)
    if arg.kind in ("int", "opt_int", "shape", "size", "opt_sizes", "padding", "ints", "opt_ints"):
        v = rng.choice(SIZES[:7]) if rng.random() < 0.6 else rng.choice(SIZES)
        return [v] * rng.randint(1, 3) if arg.kind in ("ints", "opt_ints") and rng.random() < 0.3 else v
    if arg.kind in ("bool", "opt_bool"):
        return rng.random() < 0.5
    if arg.kind in ("float", "opt_float"):
        return rng.random()
    if arg.kind == "choice" and arg.choices:
        return rng.choice(arg.choices)
    return rng.choice(JUNK)


def random_layer(rng: random.Random) -> dict:
    type_ = rng.choice(sorted(KINDS))
    item: dict = {"type": type_}
    for arg in KINDS[type_].args:
        if arg.required or rng.random() < 0.4:
            item[arg.name] = value_for(rng, arg)
    if rng.random() < 0.5:
        item["name"] = rng.choice(NAMES)
    return item


def fuzzed_text(rng: random.Random, bases: list[dict]) -> str:
    doc = json.loads(json.dumps(rng.choice(bases)))
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        layers = doc["layers"]
        if op < 0.35:
            layers.insert(rng.randint(0, len(layers)), random_layer(rng))
        elif op < 0.55 and layers:
            layer = rng.choice(layers)
            arg = rng.choice(list(KINDS[layer["type"]].args) or [None]) if layer.get("type") in KINDS else None
            if arg is not None:
                layer[arg.name] = value_for(rng, arg)
        elif op < 0.65 and layers:
            layers.pop(rng.randrange(len(layers)))
        elif op < 0.8:
            key = rng.choice(["view", "recovery", "notes", "name", "batch_size", "input_shape", "dtype"])
            doc[key] = rng.choice([{"convention": rng.choice([*CONVENTIONS, 3, None, "bogus"])}, {"path": 7},
                                   {"path": None}, *JUNK, *SIZES[:8]])
        else:
            doc["input_shape"] = [rng.choice(SIZES[:9]) for _ in range(rng.randint(1, 4))]
    text = json.dumps(doc)
    r = rng.random()
    if r < 0.05:  # a duplicate key
        text = text.replace('"layers":', '"name": "dup", "name": "dup2", "layers":', 1)
    elif r < 0.1:  # a NaN literal
        text = text.replace('"batch_size": 1', '"batch_size": NaN', 1) if '"batch_size": 1' in text else text[:-1] \
            + ', "x": NaN}'
    elif r < 0.2:  # byte damage
        data = bytearray(text.encode())
        for _ in range(rng.randint(1, 5)):
            i = rng.randrange(len(data))
            data[i] = rng.randrange(256)
        text = data.decode("utf-8", "replace")
    return text


def check_file(text: str, folder: Path, app) -> str:  # noqa: ANN001
    """'ok', 'refused', 'crash', 'hang', 'wrong' (a rendered output broke its format) or 'lost' (save/reopen
    differs)."""
    from gui.cost_document import CostDocument

    try:
        with no_hang(HANG_S):
            try:
                net, _ = loads_network(text)
                report = evaluate(net)
            except (FormatError, LayerError) as e:
                return "refused" if str(e) else "wrong"
            if report.totals.params != sum(r.params for r in report.layers):
                return "wrong"
            rows = list(csv.reader(io.StringIO(tables.to_csv(report), newline="")))
            if len(rows) != len(report.layers) + 2:
                return "wrong"
            md = [line for line in tables.to_markdown(report).splitlines() if line.startswith("|")]
            table = tables.to_table(report)
            if len(md) != len(report.layers) + 2 or CONTROL & set(table) or json.loads(tables.to_json(report)) is None:
                return "wrong"
            src = folder / "p.json"
            src.write_text(text, encoding="utf-8")
            doc = CostDocument()
            doc.load_file(src)
            doc.save_file(folder / "again.json")
            again = CostDocument()
            again.load_file(folder / "again.json")
            if again.network != doc.network or again.convention != doc.convention:
                return "lost"
            return "ok"
    except Hang:
        return "hang"
    except Exception as e:  # noqa: BLE001 - anything else is what this run looks for
        print(f"  crash: {type(e).__name__}: {str(e)[:160]}", file=sys.stderr)
        return "crash"


def part_files(n: int, rng: random.Random, folder: Path) -> tuple[Counter, list[str]]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    bases = base_documents()
    counts: Counter = Counter()
    texts = []
    for _ in range(n):
        text = fuzzed_text(rng, bases)
        texts.append(text)
        counts[check_file(text, folder, app)] += 1
    return counts, texts


# ---- 2. through the CLI ---------------------------------------------------------------------------------------
def run_cli(args: list[str], timeout: float) -> tuple[int | None, str, str, float]:
    t = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-m", "model_io", *args], capture_output=True, timeout=timeout,
                           cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)})
    except subprocess.TimeoutExpired:
        return None, "", "", time.monotonic() - t
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), \
        time.monotonic() - t


def part_cli(texts: list[str], n: int, rng: random.Random, folder: Path) -> Counter:
    counts: Counter = Counter()
    for i, text in enumerate(rng.sample(texts, min(n, len(texts)))):
        path = folder / f"cli{i}.json"
        path.write_text(text, encoding="utf-8")
        fmt = rng.choice(list(tables.FORMATS))
        code, out, err, _ = run_cli(["summary", str(path), "--format", fmt], 60)
        if code is None:
            counts["hang"] += 1
        elif code == 0 and out and not err:
            counts["ok"] += 1
        elif code == 2 and err.count("\n") == 1 and err.startswith("netcost: error: ") and not CONTROL & set(err):
            counts["refused"] += 1
        elif "Traceback" in err:
            counts["crash"] += 1
            print(f"  cli crash: {err.strip().splitlines()[-1][:160]}", file=sys.stderr)
        else:
            counts["wrong"] += 1
            print(f"  cli wrong: code {code}: {err[:160]!r}", file=sys.stderr)
    return counts


# ---- 3. hostile models ----------------------------------------------------------------------------------------
MARK = "netcost-reliability-marker"
HOSTILE_SOURCE = f'''
import os, signal, subprocess, sys, time
from torch import nn

def _child(detach=False):
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)  # {MARK}"],
                            start_new_session=detach)

class Lin(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
    def forward(self, x):
        return self.fc(x)

class ManyChildren(Lin):
    def __init__(self):
        super().__init__()
        for _ in range(10):
            _child()

class DetachedChild(Lin):
    def __init__(self):
        super().__init__()
        _child(detach=True)  # its own session: out of reach of the worker's group

class BusyLoop(Lin):
    def forward(self, x):
        while True:
            pass

class IgnoresTerm(Lin):
    def __init__(self):
        super().__init__()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(600)

class Floods(Lin):
    def __init__(self):
        super().__init__()
        sys.stdout.write("x" * 5_000_000)
        sys.stderr.write("\\x1b[2J\\x1b]0;pwned\\x07 forged\\nnetcost: error: fake\\n")

class ExitsZero(Lin):
    def __init__(self):
        super().__init__()
        sys.exit(0)

class ClosesFds(Lin):
    def __init__(self):
        super().__init__()
        os.close(0)
        os.close(1)

class Recurses(Lin):
    def __init__(self):
        super().__init__()
        def f(n):
            return f(n + 1)
        f(0)

class HangsHoldingPipes(Lin):
    def __init__(self):
        super().__init__()
        _child()
        time.sleep(600)

def example_input():
    import torch
    return torch.zeros(1, 4)
'''


def hostile_cases(folder: Path) -> list[tuple[str, str, float]]:
    """(reference, expected outcome 'ok' | 'error' | 'timeout', timeout)."""
    src = folder / "hostile_models.py"
    src.write_text(HOSTILE_SOURCE)
    fx = ROOT / "tests" / "fixtures" / "models"
    pid = folder / "leaves.pid"
    cases = [(f"{src}:{name}", outcome, 30.0 if outcome == "ok" else 8.0) for name, outcome in [
        ("Lin", "ok"), ("ManyChildren", "ok"), ("DetachedChild", "ok"), ("BusyLoop", "timeout"),
        ("IgnoresTerm", "timeout"), ("Floods", "ok"), ("ExitsZero", "error"), ("ClosesFds", "ok"),
        ("Recurses", "error"), ("HangsHoldingPipes", "timeout")]]
    cases += [(f"{fx / 'hangs.py'}:Slow", "timeout", 8.0), (f"{fx / 'dies.py'}:ExitsHard", "error", 30.0),
              (f"{fx / 'dies.py'}:KillsItself", "error", 30.0), (f"{fx / 'dies.py'}:EatsMemory", "error", 30.0),
              (f"{fx / 'ctor_raises.py'}:Broken(width=5)", "error", 30.0),
              (f"{fx / 'forward_raises.py'}:Broken", "error", 30.0),
              (f"{fx / 'hostile.py'}:LeavesChild(pidfile={str(pid)!r})", "ok", 30.0),
              (str(fx / "not_a_model.pt"), "error", 30.0), (str(fx / "not_a_model.onnx"), "error", 30.0),
              (str(fx / "not_a_model.pt2"), "error", 30.0), ("zoo:alexnet-module", "ok", 60.0)]
    return cases


def leftovers() -> list[int]:
    """Processes a hostile model started that are still running."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if MARK.encode() in (proc / "cmdline").read_bytes() and b" Z " not in (proc / "stat").read_bytes():
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def kill_leftovers() -> None:
    for pid in leftovers():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def settle() -> list[int]:
    end = time.monotonic() + 3
    while leftovers() and time.monotonic() < end:
        time.sleep(0.1)
    return leftovers()


def part_hostile_cli(cases: list[tuple[str, str, float]], notes: list[str]) -> Counter:
    counts: Counter = Counter()
    for ref, expected, timeout in cases:
        code, _, err, took = run_cli(["summary", ref, "--timeout", str(timeout), "--format", "json"], timeout + 30)
        outcome = "hang" if code is None else "ok" if code == 0 else \
            "timeout" if "no answer after" in err else "error"
        left = settle()
        one_line = code != 2 or not CONTROL & set(err.splitlines()[0] if err else "")
        status = "as expected" if outcome == expected and one_line else "hang" if outcome == "hang" else "wrong"
        counts[status] += 1
        if left:
            counts["orphans"] += 1
            notes.append(f"CLI {Path(ref.split(':')[0]).name}:{ref.split(':')[-1][:20]}: {len(left)} process(es) left")
            kill_leftovers()
        if status != "as expected":
            notes.append(f"CLI {ref[-40:]}: expected {expected}, got {outcome} ({took:.1f} s) {err[:100]!r}")
    return counts


def part_hostile_window(cases: list[tuple[str, str, float]], notes: list[str]) -> Counter:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.model_loader import ModelLoader
    from model_io.resolve import LoadOptions

    app = QApplication.instance() or QApplication([])
    counts: Counter = Counter()
    for ref, expected, timeout in cases:
        loader = ModelLoader()
        result: list[str] = []
        loop = QEventLoop()
        loader.loadedReport.connect(lambda *_, r=result, q=loop: (r.append("ok"), q.quit()))
        loader.failed.connect(lambda _ref, m, r=result, q=loop: (r.append(
            "timeout" if "time limit" in m or "no answer" in m else "error"), q.quit()))
        QTimer.singleShot(int((timeout + 30) * 1000), loop.quit)
        loader.load(ref, LoadOptions(timeout=timeout))
        loop.exec()
        outcome = result[0] if result else "hang"
        loader.cancel()
        app.processEvents()
        left = settle()
        status = "as expected" if outcome == expected else "hang" if outcome == "hang" else "wrong"
        counts[status] += 1
        if left:
            counts["orphans"] += 1
            notes.append(f"window {Path(ref.split(':')[0]).name}:{ref.split(':')[-1][:20]}: {len(left)} left")
            kill_leftovers()
        if status != "as expected":
            notes.append(f"window {ref[-40:]}: expected {expected}, got {outcome}")
        loader.deleteLater()
    return counts


# ---- 4. kill -9 during saves ----------------------------------------------------------------------------------
SAVER = """
import sys, json
sys.path.insert(0, sys.argv[2])
from model_io.layer_file import atomic_write
target, i = sys.argv[1], 0
while True:
    i += 1
    doc = {"format": "netcost.layers/1", "name": f"v{i}", "input_shape": [8],
           "layers": [{"type": "Linear", "out_features": 8, "name": "x" * 200}] * 2000}
    atomic_write(target, json.dumps(doc).encode())
"""


def part_kills(n: int, rng: random.Random, folder: Path) -> Counter:
    counts: Counter = Counter()
    target = folder / "saved.json"
    target.write_text(json.dumps({"format": "netcost.layers/1", "name": "v0", "input_shape": [8], "layers": []}))
    for _ in range(n):
        p = subprocess.Popen([sys.executable, "-c", SAVER, str(target), str(ROOT)])
        time.sleep(0.3 + rng.random() * 0.7)
        p.kill()
        p.wait()
        try:
            loads_network(target.read_text())
            counts["intact"] += 1
        except (FormatError, OSError, UnicodeDecodeError):
            counts["lost"] += 1
    temps = list(folder.glob(".saved.json.*.tmp"))
    counts["temporaries left"] = len(temps)
    old = time.time() - 3600  # as if the next save came later than the stale age
    for t in temps:
        os.utime(t, (old, old))
    atomic_write(target, target.read_bytes())
    counts["temporaries after the next save"] = len(list(folder.glob(".saved.json.*.tmp")))
    return counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--cli", type=int, default=300)
    ap.add_argument("--kills", type=int, default=30)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--no-models", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    total: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="netcost-reliability-") as tmp:
        folder = Path(tmp)
        t = time.monotonic()
        files, texts = part_files(a.files, rng, folder)
        print(f"fuzzed files in-process: {a.files} cases {dict(files)} ({time.monotonic() - t:.0f} s)")
        t = time.monotonic()
        cli = part_cli(texts, a.cli, rng, folder)
        print(f"fuzzed files through the CLI: {sum(cli.values())} cases {dict(cli)} ({time.monotonic() - t:.0f} s)")
        for c in (files, cli):
            total.update({"cases": sum(c.values()), "crashes": c["crash"], "hangs": c["hang"],
                          "silent-wrong": c["wrong"], "data lost": c["lost"]})
        if not a.no_models:
            notes: list[str] = []
            cases = hostile_cases(folder)
            t = time.monotonic()
            hc = part_hostile_cli(cases, notes)
            print(f"hostile models through the CLI: {len(cases)} cases {dict(hc)} ({time.monotonic() - t:.0f} s)")
            t = time.monotonic()
            hw = part_hostile_window(cases, notes)
            print(f"hostile models in the window: {len(cases)} cases {dict(hw)} ({time.monotonic() - t:.0f} s)")
            for line in notes:
                print(f"  {line}")
            for c in (hc, hw):
                total.update({"cases": len(cases), "hangs": c["hang"], "silent-wrong": c["wrong"],
                              "orphans": c["orphans"]})
        kills = part_kills(a.kills, rng, folder)
        print(f"kill -9 during saves: {a.kills} cases {dict(kills)}")
        total.update({"cases": a.kills, "data lost": kills["lost"]})
    print("summary: " + ", ".join(f"{k} {total[k]}" for k in ("cases", "crashes", "hangs", "silent-wrong",
                                                               "data lost", "orphans")))


if __name__ == "__main__":
    main()
