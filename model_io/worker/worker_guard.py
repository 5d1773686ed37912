"""What the worker does to itself before it runs user model code: the least it needs, and an end it enforces.

- its own session and process group, so that one `killpg` ends it and everything the model started;
- no stdin (the request has been read), a private empty working directory, no core dumps, a CPU-time cap;
- Linux: the worker is a child subreaper, so processes the model detaches (double fork, setsid) stay below it and
  are ended too (`end_descendants`, before the worker exits and by the watchdog);
- a watchdog: a tiny forked process, outside the worker's group, that ends the whole group when the worker is past
  its deadline, when the worker's parent (the CLI or the window) is gone, or as soon as the worker itself has ended
  (children the model left behind do not survive the load). It runs no Python of the model's and needs no GIL of
  the worker's, so a model stuck in native code is ended as surely as one stuck in `time.sleep`.
  A warm worker (started before its request, model_io.worker.worker `--warm`) forks the watchdog before importing torch
  and hands it the deadline through a pipe once the request has come (`set_deadline`).

POSIX only; elsewhere these are no-ops and the parent's own timeout still applies. None of this holds if the
worker dies first or the model kills the watchdog: the parent's own subreaper (model_io.worker.orphans) covers that.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import shutil
import signal
import sys
import tempfile
import time

POLL_S = 0.05
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
CPU_GRACE_S = 5.0  # CPU time is a second, coarser deadline (a busy model): a little after the wall-clock one


def own_session() -> bool:
    """Make the worker the leader of its own session (the parent normally did already). True when it leads its
    process group, i.e. when killing the group cannot reach anything outside the worker."""
    if not hasattr(os, "setsid"):
        return False
    if os.getpgrp() != os.getpid():
        with contextlib.suppress(OSError):
            os.setsid()
    return os.getpgrp() == os.getpid()


def become_subreaper() -> bool:
    """Linux: processes the model starts that detach themselves (double fork, setsid) are re-parented to the
    worker instead of init while it runs, so `end_descendants` still finds them. False where not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def children_by_parent() -> dict[int, list[int]]:
    """Parent pid -> its children's pids, from /proc ({} elsewhere)."""
    children: dict[int, list[int]] = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return {}
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """Every process below `pid` in the parent tree (Linux /proc; [] elsewhere)."""
    children = children_by_parent()
    out, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def end_descendants(pid: int, keep: int = 0) -> int:
    """SIGKILL every process below `pid` except `keep` (the watchdog); a few passes, since a dying parent's
    children are re-parented (to the subreaper) and a forking child makes new ones. How many were signalled."""
    ended = 0
    for _ in range(3):
        found = [p for p in descendants(pid) if p != keep]
        if not found:
            break
        for p in found:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
                ended += 1
        time.sleep(0.01)
    return ended


def detach_stdin() -> None:
    """The request is read: the model's code gets an empty stdin, not the parent's pipe or terminal."""
    fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(fd, 0)
    os.close(fd)


def private_cwd() -> str:
    """Run in a fresh empty folder (references arrive as absolute paths): model code cannot read or litter the
    folder NetCost was started from by relative paths."""
    # named after the worker's pid: a parent that outlives the worker's watchdog removes it (model_io.worker.orphans)
    folder = tempfile.mkdtemp(prefix=f"netcost-worker-{os.getpid()}-")
    os.chdir(folder)
    return folder


def limit_resources(timeout_s: float | None) -> None:
    """No core files of a crashing model; CPU time capped a little past the deadline (SIGXCPU ends a busy loop
    even if the watchdog was killed)."""
    try:
        import resource
    except ImportError:
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    if timeout_s is not None and timeout_s > 0:
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        used = sum(os.times()[:2])  # a warm worker already spent CPU importing torch: the model gets its own
        want = math.ceil(used + timeout_s + CPU_GRACE_S)
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        if soft == resource.RLIM_INFINITY or want < soft:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_CPU, (want, hard))


def start_watchdog(timeout_s: float | None, leads_group: bool, cleanup: str | None = None,
                   deadline_fd: int = -1) -> int:
    """Fork the watchdog (call before any thread exists, i.e. before importing torch). Returns its pid, 0 where
    it cannot run. `cleanup`: a folder it removes once the worker has ended. `deadline_fd`: the read end of a pipe
    the deadline comes through later (`set_deadline`); until then only the parent and the worker are watched."""
    if not hasattr(os, "fork"):
        return 0
    worker, parent = os.getpid(), os.getppid()
    deadline = _deadline(timeout_s)
    try:
        pid = os.fork()
    except OSError:
        return 0
    if pid:
        return pid
    try:  # the watchdog: no Python of the model's ever runs here
        _detach_from_worker(deadline_fd)
        while os.getppid() == worker and _parent_alive(worker, parent) and time.monotonic() < deadline:
            if deadline_fd >= 0 and select.select([deadline_fd], [], [], 0)[0]:
                data = os.read(deadline_fd, 64)  # EOF (the worker closed it or died): no deadline to wait for
                if data:
                    with contextlib.suppress(ValueError):
                        deadline = _deadline(float(data))
                os.close(deadline_fd)
                deadline_fd = -1
            time.sleep(POLL_S)
        if os.getppid() == worker:  # past the deadline or orphaned: detached processes first, then the group
            end_descendants(worker, keep=os.getpid())
        with contextlib.suppress(OSError):
            if leads_group:
                os.killpg(worker, signal.SIGKILL)  # the worker (if still running) and all the model started
            elif os.getppid() == worker:
                os.kill(worker, signal.SIGKILL)
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)
    finally:
        os._exit(0)


def set_deadline(fd: int, timeout_s: float | None) -> None:
    """Tell the watchdog of a warm worker its deadline, `timeout_s` from now (None: none), and close the pipe."""
    with contextlib.suppress(OSError):
        os.write(fd, str(timeout_s if timeout_s is not None and timeout_s > 0 else 0).encode())
    with contextlib.suppress(OSError):
        os.close(fd)


def _deadline(timeout_s: float | None) -> float:
    return time.monotonic() + timeout_s if timeout_s is not None and timeout_s > 0 else math.inf


def _detach_from_worker(keep: int = -1) -> None:
    """Hold none of the parent's pipes (a reader waiting for EOF must not wait for us) and leave the worker's
    process group, so that ending the group (ours to do) is not ended halfway by it. `keep`: the deadline pipe."""
    fd = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(fd, std)
    if keep >= 3:
        os.closerange(3, keep)
        os.closerange(keep + 1, _max_fd())
    else:
        os.closerange(3, _max_fd())
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl+C in a terminal is the parent's to handle


def _max_fd() -> int:
    try:
        return min(os.sysconf("SC_OPEN_MAX"), 65536)
    except (ValueError, OSError):
        return 1024


def _parent_alive(worker: int, parent: int) -> bool:
    """Whether the process that started the worker is still there. On Linux the worker's parent pid in /proc
    changes the moment the parent exits (even before anyone reaps it); elsewhere, ask whether `parent` exists."""
    if parent <= 1:
        return True  # started by init itself: nothing to watch
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{worker}/stat", "rb") as f:
                stat = f.read()
            return int(stat[stat.rindex(b")") + 2:].split()[1]) == parent
        except (OSError, ValueError, IndexError):
            return True  # the worker is gone: the caller's first check ends the loop
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
