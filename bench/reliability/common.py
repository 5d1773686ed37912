"""What every family shares: the counts a case can fail on, a tally per family, the CLI runner, process checks."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTROL = {chr(c) for c in range(32) if chr(c) != "\n"} | {"\x7f"}  # a raw one reaching a terminal is unescaped
MARK = "netcost-reliability-marker"  # in the command line of every process a hostile model starts
EXAMPLES = 2  # failing cases listed per family, count and class


class Count(Enum):
    """What a case can find; the summary prints each, and every one must be 0."""

    CRASH = "crashes"
    HANG = "hangs"
    WRONG = "silent-wrong"
    LOST = "data lost"
    ORPHAN = "orphans"
    INJECTED = "injections executed"
    UNESCAPED = "unescaped outputs"


@dataclass
class Tally:
    """One family's cases: outcomes that are fine (`ok`, `refused`, ...) and failures by count, with examples.

    A failure may carry a `kind` (the mutation class of a fuzzed file): the counts are then broken down by kind and
    the first failing cases of each kind are listed, so every class that fails shows up."""

    family: str
    cases: int = 0
    outcomes: Counter = field(default_factory=Counter)
    failures: dict[Count, list[tuple[str, str]]] = field(default_factory=dict)  # count -> [(kind, what)]
    figures: list[str] = field(default_factory=list)  # measurements reported as they are, not pass/fail

    def case(self, outcome: str = "ok") -> None:
        self.cases += 1
        self.outcomes[outcome] += 1

    def fail(self, count: Count, what: str, kind: str = "") -> None:
        """A failure of the current case (a case may fail on several counts)."""
        self.failures.setdefault(count, []).append((kind, what.replace("\n", "\\n")[:240]))

    def count(self, c: Count) -> int:
        return len(self.failures.get(c, ()))

    def lines(self, seconds: float) -> list[str]:
        fails = ", ".join(f"{c.value} {self.count(c)}" for c in Count if self.count(c))
        out = [f"{self.family}: {self.cases} cases {dict(self.outcomes)}"
               f"{'; FAILED: ' + fails if fails else ''} ({seconds:.0f} s)"]
        out += [f"  {line}" for line in self.figures]
        for c in Count:
            found = self.failures.get(c, [])
            kinds = Counter(k for k, _ in found)
            if kinds and (len(kinds) > 1 or "" not in kinds):
                out.append(f"  {c.value} by class: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
            for kind in kinds:
                for _, what in [f for f in found if f[0] == kind][:EXAMPLES]:
                    out.append(f"  {c.value}: {what}")
        return out


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", **extra}


@dataclass(frozen=True)
class Run:
    code: int | None  # None: it did not end within its limit (a hang)
    out: str
    err: str
    seconds: float


def run_cli(args: list[str], timeout: float, module: str = "model_io", cwd: Path = ROOT,
            extra_env: dict[str, str] | None = None) -> Run:
    """`python -m netcost.model_io ARGS` (module "gui": `python -m netcost`, for report/roofline), killed with its group
    after `timeout`."""
    t = time.monotonic()
    command = [sys.executable, "-m", "netcost" if module == "gui" else f"netcost.{module}", *args]
    p = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, cwd=str(cwd), env=env(**(extra_env or {})), start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return Run(None, "", "", time.monotonic() - t)
    return Run(p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), time.monotonic() - t)


def judge_cli(tally: Tally, what: str, run: Run, fmt: str | None = None, kind: str = "") -> str | None:
    """The rules every CLI call keeps: ends in time, exit 0 with output or exit 2 with one clean error line, no
    traceback, no raw control character on a terminal format, strict JSON for --format json. Records the failures
    on `tally`; the outcome ('ok' / 'refused') or None when it failed."""
    if run.code is None:
        tally.fail(Count.HANG, f"{what}: no exit within the limit", kind)
        return None
    if "Traceback" in run.err:
        tally.fail(Count.CRASH, f"{what}: {run.err.strip().splitlines()[-1][:160]}", kind)
        return None
    if run.code == 2:
        first = run.err.splitlines()[0] if run.err else ""
        if CONTROL & set(run.err):
            tally.fail(Count.UNESCAPED, f"{what}: error line {first[:120]!r}", kind)
            return None
        if run.err.count("\n") != 1 or not first.startswith("netcost: error: "):
            tally.fail(Count.CRASH, f"{what}: exit 2 without one error line: {run.err[:160]!r}", kind)
            return None
        return "refused"
    if run.code != 0:
        tally.fail(Count.CRASH, f"{what}: exit {run.code}: {run.err[-160:]!r}", kind)
        return None
    if fmt in ("table", "markdown", None) and CONTROL & set(run.out.replace("\r\n", "\n")):
        bad = sorted(CONTROL & set(run.out))
        tally.fail(Count.UNESCAPED, f"{what}: raw {bad[:3]} in the output", kind)
        return None
    if fmt == "json" and not strict_json_ok(run.out):
        tally.fail(Count.WRONG, f"{what}: --format json is not strict JSON", kind)
        return None
    return "ok"


def _refuse_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def strict_json_ok(text: str) -> bool:
    """What a JSON parser outside Python accepts (no NaN / Infinity)."""
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        return False
    return True


# ---- processes a hostile model started ------------------------------------------------------------------------
def leftovers(mark: str = MARK) -> list[int]:
    """Running processes (not zombies) whose command line holds `mark`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            stat = (proc / "stat").read_bytes()
            if mark.encode() in (proc / "cmdline").read_bytes() and stat[stat.rindex(b")") + 2:][:1] != b"Z":
                found.append(int(proc.name))
        except (OSError, ValueError):
            pass
    return found


def kill_leftovers(mark: str = MARK) -> None:
    for pid in leftovers(mark):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def settle(mark: str = MARK, seconds: float = 3.0) -> list[int]:
    """Leftovers once the caller had `seconds` to end them."""
    end = time.monotonic() + seconds
    while leftovers(mark) and time.monotonic() < end:
        time.sleep(0.1)
    return leftovers(mark)


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
