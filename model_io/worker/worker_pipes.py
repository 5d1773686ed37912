"""Reading a worker's stdout and stderr until the worker exits, not until the pipes close, in bounded memory.

A model that starts a process hands it the worker's pipes: EOF then comes when that process ends, possibly never.
Everything the worker wrote is in the pipe by the time it has exited, so: read while it runs, and once it has
exited take what is left without blocking.

A model may print without end (gigabytes in seconds): only the tail of stderr is ever used (the last line of a
dead worker, a trimmed traceback), so only a tail is kept (`Tail`). The answer on stdout is kept whole up to
ANSWER_LIMIT; past it, it is not an answer the parent could use anyway (`Capped`).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time

POLL_S = 0.05
CHUNK = 1 << 16
STDERR_KEEP = 64 * 1024  # bytes of the worker's stderr kept: its tail, for messages
ANSWER_LIMIT = 512 * 1024 * 1024  # bytes of stdout kept: a 100k-node graph's answer is well under 100 MB
DRAIN_LIMIT = 4 * 1024 * 1024  # after the exit, at most this much more per pipe: a child may write without end


class Tail:
    """The last `keep` bytes of a stream, whatever its length; memory stays under 2 * `keep`."""

    def __init__(self, keep: int = STDERR_KEEP) -> None:
        self.keep = keep
        self._buf = bytearray()
        self.total = 0  # bytes seen, kept or not

    def add(self, data: bytes) -> None:
        self.total += len(data)
        self._buf += data[-self.keep:]
        if len(self._buf) > 2 * self.keep:  # trimmed in batches: one copy per `keep` bytes, not per chunk
            del self._buf[:-self.keep]

    def __len__(self) -> int:
        return min(len(self._buf), self.keep)

    def bytes(self) -> bytes:
        return bytes(self._buf[-self.keep:])


class Capped:
    """A stream kept whole up to `limit` bytes; past that it is dropped (`overflowed`) and its memory freed."""

    def __init__(self, limit: int = ANSWER_LIMIT) -> None:
        self.limit = limit
        self._buf = bytearray()
        self.overflowed = False

    def add(self, data: bytes) -> None:
        if self.overflowed:
            return
        if len(self._buf) + len(data) > self.limit:
            self.overflowed, self._buf = True, bytearray()
            return
        self._buf += data

    def __len__(self) -> int:
        return len(self._buf)

    def bytes(self) -> bytes:
        return bytes(self._buf)


def read_until_exit(proc: subprocess.Popen, deadline: float, keep: int = STDERR_KEEP,
                    answer_limit: int = ANSWER_LIMIT) -> tuple[bytes, bytes]:
    """(stdout, tail of stderr) of `proc` once it has exited, or what came before `deadline` (time.monotonic())
    if it is still running then (proc.poll() tells which). A stdout over `answer_limit` comes back empty."""
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Capped(answer_limit), Tail(keep)
    bufs: dict[int, Tail | Capped] = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
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
    return out.bytes(), err.bytes()


def _read_some(fd: int, buf: Tail | Capped, sel: selectors.BaseSelector) -> None:
    data = os.read(fd, CHUNK)
    if data:
        buf.add(data)
    else:
        sel.unregister(fd)


def _drain(fd: int, buf: Tail | Capped) -> None:
    os.set_blocking(fd, False)
    taken = 0
    try:
        while taken < DRAIN_LIMIT and (data := os.read(fd, CHUNK)):
            buf.add(data)
            taken += len(data)
    except BlockingIOError:
        pass
    finally:
        os.set_blocking(fd, True)
