"""Reading a file the user named, without hanging and in bounded memory.

A FIFO named `x.json` blocked the CLI and froze the window forever (opening it waits for a writer, reading it for
an end that may never come), and a device such as /dev/zero never ends. So a file is opened without blocking
(O_NONBLOCK), must be a regular file, and is read only up to a limit for its kind. Errors are one line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .escape import short_path

MiB = 1024 * 1024
DOCUMENT_LIMIT = 256 * MiB  # layer lists, graph files, projects, autosaves (a 100k-node graph is far below)
SMALL_LIMIT = 16 * MiB  # devices files, the calibration cache, a model's Python source


class UnreadableFile(ValueError):
    """A file that is not a regular file, is over its limit, or cannot be read; `str()` is one line (the path,
    then why)."""


def _kind(mode: int) -> str:
    for test, what in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a regular file"


def _check(p: Path, st: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableFile(f"cannot read {short_path(p)}: it is {_kind(st.st_mode)}, not a regular file")
    if st.st_size > limit:
        raise UnreadableFile(f"cannot read {short_path(p)}: {st.st_size:,} bytes, over the {limit // MiB} MiB "
                             f"limit for this kind of file")


def read_regular(path: str | os.PathLike[str], limit: int = DOCUMENT_LIMIT) -> bytes:
    """The bytes of regular file `path`, at most `limit` of them; UnreadableFile otherwise (never blocks on a FIFO
    or a device: checked before opening, and again on what was opened)."""
    p = Path(path)
    try:
        _check(p, os.stat(p), limit)  # before opening: opening some devices has effects
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise UnreadableFile(f"cannot read {short_path(p)}: {e.strerror or e}") from None
    try:
        _check(p, os.fstat(fd), limit)  # what was opened, in case it was swapped after the first check
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, min(1 * MiB, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise UnreadableFile(f"cannot read {short_path(p)}: {e.strerror or e}") from None
    finally:
        os.close(fd)
    if size > limit:  # it grew while being read
        raise UnreadableFile(f"cannot read {short_path(p)}: over the {limit // MiB} MiB limit for this kind of file")
    return b"".join(chunks)


def read_regular_text(path: str | os.PathLike[str], limit: int = DOCUMENT_LIMIT) -> str:
    """`read_regular` decoded as UTF-8; UnreadableFile when it is not UTF-8."""
    try:
        return read_regular(path, limit).decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableFile(f"cannot read {short_path(path)}: not a UTF-8 text file") from None
