"""`netcost.show`: the desktop window on a live model or a report, without blocking the caller.

The report's graph (edits included) is written as a `netcost.graph/1` file in the user's NetCost folder, and
`python -m netcost gui FILE` starts as a detached process in a session of its own: the notebook or script keeps
running, several windows can be open at once, and ending the kernel does not end a window (it closes as any window
does, with its prompt to save unsaved edits). Edits made there are saved from its File menu as a graph file or
exported as PyTorch code, and read back with `netcost.analyze(path)`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .report import Report


@dataclass(frozen=True)
class Window:
    """A window started by `show`: its process (`process.pid`), the graph file it opened and its log."""

    process: subprocess.Popen
    path: Path
    log: Path

    def close(self) -> None:
        """End the window's process (it saves nothing: save from the window first)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def has_display() -> bool:
    """Whether Qt can open a window here: on Linux without X11/Wayland (a server, a CI box) it cannot."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def shown_folder() -> Path:
    """Where shown models' graph files go: $XDG_DATA_HOME/netcost/shown (~/.local/share/netcost/shown)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "netcost" / "shown"


KEEP_DAYS = 14  # a shown model's file outlives its window by this much, then goes unless the user saved into it
_STAMP = re.compile(r"^(\d{8}-\d{6})-")


def prune_shown(folder: Path, now: float | None = None) -> list[Path]:
    """Remove the graph files (and logs) `show` wrote into `folder` more than KEEP_DAYS ago that were never saved
    into since: their modification time is still their name's time stamp. A file a window saved edits into is
    the user's work and stays. Returns what was removed."""
    now = time.time() if now is None else now
    removed = []
    for path in folder.glob("*.json"):
        stamp = _STAMP.match(path.name)
        try:
            written = time.mktime(time.strptime(stamp[1], "%Y%m%d-%H%M%S")) if stamp else None
            modified = path.stat().st_mtime
        except (ValueError, OSError):
            continue
        if written is None or now - modified < KEEP_DAYS * 86400 or modified - written > 60:
            continue
        for old in (path, path.with_suffix(".log")):
            old.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _file_name(report: Report) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", report.model)[:60].strip("-.") or "model"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{stem}-{uuid.uuid4().hex[:6]}.json"


def _environment() -> dict[str, str]:
    """The caller's environment, with this netcost importable by the child (a checkout that is not installed)."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent.parent)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if here not in paths:
        env["PYTHONPATH"] = os.pathsep.join([here, *paths])
    return env


def show(model_or_report: Any, *example_inputs: Any, folder: str | os.PathLike[str] | None = None,
         **options: Any) -> Window | None:
    """Open NetCost's window on a live model (counted as `netcost.analyze(model, *example_inputs, **options)`)
    or a Report, and return at once with the `Window`. Without a display (a Linux server), says so in one line
    and returns None: `report.save_report("report.png")` renders the same report to a file there."""
    from .api import analyze

    report = model_or_report if isinstance(model_or_report, Report) and not options and not example_inputs \
        else analyze(model_or_report, *example_inputs, **options)
    if not has_display():
        print("netcost.show: no display here (DISPLAY/WAYLAND_DISPLAY unset), so no window; "
              "report.save_report('report.png') writes the same report to a file.", file=sys.stderr)
        return None
    where = Path(folder) if folder is not None else shown_folder()
    where.mkdir(parents=True, exist_ok=True)
    prune_shown(where)
    path = where / _file_name(report)
    report.save_graph(path)
    log = path.with_suffix(".log")
    with open(log, "wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "netcost", "gui", str(path)], stdin=subprocess.DEVNULL,
                                   stdout=err, stderr=err, env=_environment(), cwd=str(where),
                                   start_new_session=True, close_fds=True)
    return Window(process, path, log)
