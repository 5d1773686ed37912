"""Hostile models through the CLI and through the window's loader (ModelLoader).

Each must end with the expected outcome within its time limit, with a clean one-line message, and with no process
the model started left running — counted through /proc by the marker in their command lines, including daemons
detached (double fork, own session) before the worker exits, crashes (SIGSEGV) or kills its watchdog. Models that
print without end must leave the parent's memory bounded (its RSS, sampled while the load runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import CONTROL, MARK, ROOT, Count, Tally, env, kill_leftovers, rss_kib, settle

RSS_BOUND_MIB = 1024  # the parent keeps a 64 KiB tail of a flood: far below this; 18 GB before the fix

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

def _daemon():
    """A daemon out of the worker's reach: double fork, its own session, then the marked command."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)  # {MARK}"])
        os._exit(0)
    os.wait()
    time.sleep(0.3)

def _my_children():
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{{entry}}/stat", "rb").read()
            except OSError:
                continue
            if stat[stat.rindex(b")") + 2:].split()[1].decode() == me:
                found.append(int(entry))
    return found

class DaemonThenExit(Lin):
    def __init__(self):
        super().__init__()
        _daemon()
        os._exit(0)

class DaemonThenSegv(Lin):
    def __init__(self):
        super().__init__()
        _daemon()
        os.kill(os.getpid(), signal.SIGSEGV)

class KillsWatchdogThenDies(Lin):
    def __init__(self):
        super().__init__()
        for pid in _my_children():  # the worker's watchdog
            os.kill(pid, signal.SIGKILL)
        _daemon()
        os.kill(os.getpid(), signal.SIGKILL)

class DaemonThenAnswers(Lin):
    def __init__(self):
        super().__init__()
        _daemon()

class PrintsForever(Lin):
    def __init__(self):
        super().__init__()
        line = "y" * 65535 + "\\n"
        while True:
            sys.stdout.write(line)
            sys.stderr.write(line)

class PrintsEscapesThenRaises(Lin):
    def __init__(self):
        super().__init__()
        print("\\x1b[2J\\x1b]0;pwned\\x07 forged\\nnetcost: error: fake")
        raise RuntimeError("\\x1b[31mred\\x1b[0m and \\r a carriage return")

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
        ("Recurses", "error"), ("HangsHoldingPipes", "timeout"), ("DaemonThenExit", "error"),
        ("DaemonThenSegv", "error"), ("KillsWatchdogThenDies", "error"), ("DaemonThenAnswers", "ok"),
        ("PrintsForever", "timeout"), ("PrintsEscapesThenRaises", "error")]]
    cases += [(f"{fx / 'hangs.py'}:Slow", "timeout", 8.0), (f"{fx / 'dies.py'}:ExitsHard", "error", 30.0),
              (f"{fx / 'dies.py'}:KillsItself", "error", 30.0), (f"{fx / 'dies.py'}:EatsMemory", "error", 30.0),
              (f"{fx / 'ctor_raises.py'}:Broken(width=5)", "error", 30.0),
              (f"{fx / 'forward_raises.py'}:Broken", "error", 30.0),
              (f"{fx / 'hostile.py'}:LeavesChild(pidfile={str(pid)!r})", "ok", 30.0),
              (f"{fx / 'floods.py'}:Floods(mb=256, then='exit')", "error", 60.0),
              (str(fx / "not_a_model.pt"), "error", 30.0), (str(fx / "not_a_model.onnx"), "error", 30.0),
              (str(fx / "not_a_model.pt2"), "error", 30.0), ("zoo:alexnet-module", "ok", 60.0)]
    return cases


def short(ref: str) -> str:
    return f"{Path(ref.split(':')[0]).name}:{ref.split(':')[-1][:40]}"


def _watched_cli(args: list[str], limit: float) -> tuple[int | None, str, str, int]:
    """Run the CLI with its output in files (no pipe to drain) while sampling its RSS: (code, out, err, peak KiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([sys.executable, "-m", "netcost.model_io", *args], stdout=out, stderr=err,
                             stdin=subprocess.DEVNULL, cwd=str(ROOT), env=env(), start_new_session=True)
        peak, end = 0, time.monotonic() + limit
        while p.poll() is None and time.monotonic() < end:
            peak = max(peak, rss_kib(p.pid))
            time.sleep(0.05)
        if p.poll() is None:
            os.killpg(p.pid, 9)
            p.wait()
            code = None
        else:
            code = p.returncode
        out.seek(0)
        err.seek(0)
        return code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), peak


def _check(tally: Tally, where: str, ref: str, expected: str, outcome: str, message: str, peak_kib: int) -> None:
    left = settle()
    if left:
        tally.fail(Count.ORPHAN, f"{where} {short(ref)}: {len(left)} process(es) left running")
        kill_leftovers()
    if peak_kib > RSS_BOUND_MIB * 1024:
        tally.fail(Count.CRASH, f"{where} {short(ref)}: the parent grew to {peak_kib // 1024} MiB")
    if outcome == "hang":
        tally.fail(Count.HANG, f"{where} {short(ref)}: no outcome within its limit + 30 s")
    elif CONTROL & set(message):
        bad = "".join(sorted(CONTROL & set(message)))
        tally.fail(Count.UNESCAPED, f"{where} {short(ref)}: raw {bad!r} in the message {message[-120:]!r}")
    elif outcome != expected:
        tally.fail(Count.WRONG, f"{where} {short(ref)}: expected {expected}, got {outcome}: {message[:100]!r}")
    else:
        tally.case("as expected")
        return
    tally.case("failed")


def run_cli_cases(cases: list[tuple[str, str, float]]) -> Tally:
    tally = Tally("hostile models through the CLI")
    peaks = []
    for ref, expected, timeout in cases:
        code, _, err, peak = _watched_cli(["summary", ref, "--timeout", str(timeout), "--format", "json"],
                                          timeout + 30)
        outcome = "hang" if code is None else "ok" if code == 0 else \
            "timeout" if "no answer after" in err else "error"
        if "Traceback" in err:
            tally.fail(Count.CRASH, f"CLI {short(ref)}: {err.strip().splitlines()[-1][:120]}")
        message = err.splitlines()[0] if code == 2 and err else ""
        _check(tally, "CLI", ref, expected, outcome, message, peak)
        peaks.append((peak, short(ref)))
    top = max(peaks)
    tally.figures.append(f"largest RSS of the CLI process {top[0] / 1024:.1f} MiB ({top[1]}); "
                         f"bound {RSS_BOUND_MIB} MiB")
    return tally


def run_window_cases(cases: list[tuple[str, str, float]]) -> Tally:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from netcost.gui.document.model_loader import ModelLoader
    from netcost.model_io.worker.resolve import LoadOptions

    app = QApplication.instance() or QApplication([])
    tally = Tally("hostile models in the window")
    growth = []
    for ref, expected, timeout in cases:
        loader = ModelLoader()
        result: list[tuple[str, str]] = []
        loop = QEventLoop()
        loader.loaded.connect(lambda *_, r=result, q=loop: (r.append(("ok", "")), q.quit()))
        loader.failed.connect(lambda _ref, m, r=result, q=loop: (r.append((
            "timeout" if "time limit" in m or "no answer" in m else "error", m)), q.quit()))
        base = rss_kib(os.getpid())
        peak = [base]
        sampler = QTimer()
        sampler.timeout.connect(lambda p=peak: p.__setitem__(0, max(p[0], rss_kib(os.getpid()))))
        sampler.start(50)
        QTimer.singleShot(int((timeout + 30) * 1000), loop.quit)
        loader.load(ref, LoadOptions(timeout=timeout))
        loop.exec()
        sampler.stop()
        outcome, message = result[0] if result else ("hang", "")
        loader.cancel()
        app.processEvents()
        growth.append((peak[0] - base, short(ref)))
        _check(tally, "window", ref, expected, outcome, message, peak[0] - base)
        loader.deleteLater()
    top = max(growth)
    tally.figures.append(f"largest growth of the window's RSS during a load {top[0] / 1024:.1f} MiB ({top[1]}); "
                         f"bound {RSS_BOUND_MIB} MiB")
    return tally
