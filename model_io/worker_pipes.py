"""Reading a worker's stdout and stderr until the worker exits, not until the pipes close.

A model that starts a process hands it the worker's pipes: EOF then comes when that process ends, possibly never.
Everything the worker wrote is in the pipe by the time it has exited, so: read while it runs, and once it has
exited take what is left without blocking.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time

POLL_S = 0.05
CHUNK = 1 << 16


def read_until_exit(proc: subprocess.Popen, deadline: float) -> tuple[bytes, bytes]:
    """(stdout, stderr) of `proc` once it has exited, or what came before `deadline` (time.monotonic()) if it is
    still running then (proc.poll() tells which)."""
    assert proc.stdout is not None and proc.stderr is not None
    bufs = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    with selectors.DefaultSelector() as sel:
        for fd in bufs:
            sel.register(fd, selectors.EVENT_READ)
        while sel.get_map():
            exited = proc.poll() is not None
            for key, _ in sel.select(0 if exited else POLL_S):
                _read_some(key.fd, bufs[key.fd], sel)
            if exited:
                for fd in list(sel.get_map()):  # the rest of what the worker wrote, never waiting for EOF
                    _drain(fd, bufs[fd])
                break
            if time.monotonic() >= deadline:
                break
        else:  # both pipes closed: the worker is ending (or has)
            remaining = max(0.0, deadline - time.monotonic())
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=remaining)
    return bytes(bufs[proc.stdout.fileno()]), bytes(bufs[proc.stderr.fileno()])


def _read_some(fd: int, buf: bytearray, sel: selectors.BaseSelector) -> None:
    data = os.read(fd, CHUNK)
    if data:
        buf += data
    else:
        sel.unregister(fd)


def _drain(fd: int, buf: bytearray) -> None:
    os.set_blocking(fd, False)
    try:
        while data := os.read(fd, CHUNK):
            buf += data
    except BlockingIOError:
        pass
    finally:
        os.set_blocking(fd, True)
