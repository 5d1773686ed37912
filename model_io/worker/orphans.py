"""The parent's guarantee that nothing a model started outlives its worker, whatever way the worker ends.

The worker ends what the model started (model_io.worker.worker_guard: it is a subreaper, and its watchdog ends the
group), but only if it lives to do so: a model that detaches a daemon and then calls `os._exit`, crashes the
worker (SIGSEGV) or kills the watchdog first left its daemon running. So the parent (the CLI process, the window)
is a child subreaper too (Linux, prctl PR_SET_CHILD_SUBREAPER): when a worker dies, everything below it, detached
or not, is re-parented to the parent instead of init, and `end_orphans` kills and reaps each such process once the
worker has ended. It needs nothing from the worker or its watchdog.

Which of the parent's children are orphans: those it did not start itself (`spawned` records what it starts) that
started no earlier than the worker did. Elsewhere than Linux these are no-ops (the group kill still applies).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from .worker_guard import become_subreaper, children_by_parent, descendants

WORKER_FOLDER_PREFIX = "netcost-worker-"  # + the worker's pid + "-": its private folder (worker_guard.private_cwd)
REAP_PAUSE_S = 0.002
REAP_TRIES = 25
MAX_PASSES = 20  # a forking orphan makes new ones while it is being ended; each pass ends a generation

_adopting: bool | None = None
_spawned: set[int] = set()  # children this process started itself: never taken for orphans


def adopt_orphans() -> bool:
    """Make this process a child subreaper (once; Linux). True when it is one."""
    global _adopting
    if _adopting is None:
        _adopting = become_subreaper()
    return _adopting


def spawned(pid: int) -> None:
    """`pid` is a child this process started itself (a worker, a timing run): `end_orphans` spares it."""
    if pid > 0:
        _spawned.add(pid)


def start_ticks(pid: int) -> int:
    """When `pid` started (clock ticks since boot, /proc/PID/stat field 22); -1 when it is gone or unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return -1


def _children() -> list[int]:
    return children_by_parent().get(os.getpid(), [])


def orphans(since: int) -> list[int]:
    """This process's adopted children (not `spawned` by it) that started at or after `since` (clock ticks)."""
    found = []
    children = _children()
    _spawned.intersection_update(children)  # a pid of ours that has ended may come back as someone else's
    for pid in children:
        if pid in _spawned:
            continue
        ticks = start_ticks(pid)
        if ticks >= since >= 0:
            found.append(pid)
    return found


def end_orphans(worker: int, since: int) -> int:
    """Once worker `worker` (started at `since`, clock ticks) has ended: SIGKILL and reap every process it left
    that was re-parented here, with everything below each, and remove the worker's private folder (its watchdog,
    which would have, is among them). Call it after reaping the worker. How many processes were ended."""
    if not adopt_orphans() or since < 0:
        _spawned.discard(worker)
        return 0
    ended: set[int] = set()
    for _ in range(MAX_PASSES):
        found = orphans(since)
        if not found:
            break
        for pid in found:
            for p in [*descendants(pid), pid]:  # below it too: they come here as it dies, killed already
                with contextlib.suppress(OSError):
                    os.kill(p, signal.SIGKILL)
        ended |= _reap(found)
    _spawned.discard(worker)  # reaped by its starter by now (a pid of ours no more)
    _remove_worker_folder(worker)
    return len(ended)


def _reap(pids: list[int]) -> set[int]:
    """Reap what of `pids` has died within a moment (a SIGKILLed process is a zombie a moment later); never
    blocking, since a setuid process cannot be killed by us."""
    left, reaped = set(pids), set()
    for _ in range(REAP_TRIES):
        for pid in list(left):
            try:
                done = os.waitpid(pid, os.WNOHANG)[0] == pid
            except (ChildProcessError, OSError):
                done = True  # not ours to reap (already reaped)
            if done:
                left.discard(pid)
                reaped.add(pid)
        if not left:
            break
        time.sleep(REAP_PAUSE_S)
    return reaped


def _remove_worker_folder(worker: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        for folder in Path(tempfile.gettempdir()).glob(f"{WORKER_FOLDER_PREFIX}{worker}-*"):
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)
