"""The worker's memory cap: how `--memory` is read, how the worker applies it, and how running out is reported.

The cap limits the worker's *data* memory (RLIMIT_DATA: heap and private anonymous mappings: tensors, Python
objects), not its address space. The address space of a process that imported a CUDA build of torch is over 3 GB
of mapped shared libraries before any model is built (`VmSize` 3.3 GB, 3.6 GB with torchvision), which a 4 GiB
RLIMIT_AS left no room above; library code is mapped from files and does not count against RLIMIT_DATA.
No torch here: the CLI parses `--memory` with it.
"""

from __future__ import annotations

import re

DEFAULT_MEMORY_MB = 4096
MIN_MEMORY_MB = 512  # python and torch's import alone need a few hundred MiB of data
MAX_MEMORY_MB = 1024 ** 3  # 1 PiB in MiB: past any machine, and far inside RLIMIT_DATA's 64-bit byte count
_UNITS = {"": 1, "m": 1, "mb": 1, "mib": 1, "g": 1024, "gb": 1024, "gib": 1024, "t": 1024 ** 2, "tb": 1024 ** 2,
          "tib": 1024 ** 2}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)\s*$")


def parse_memory(text: str) -> int:
    """`4G`, `4096M`, `4096` (MiB), `1.5GiB` -> MiB; `0` or `none` -> 0 (no cap); from MIN_MEMORY_MB to
    MAX_MEMORY_MB. ValueError with one line."""
    lowered = text.strip().lower()
    if lowered in ("none", "off", "unlimited"):
        return 0
    m = _SIZE.match(lowered)
    if not m or m[2] not in _UNITS:
        raise ValueError(f"{text!r} is not a memory size (e.g. 4G, 6144M, or none for no cap)")
    mb = int(float(m[1]) * _UNITS[m[2]])  # digits only: finite, though maybe astronomically large
    if mb == 0:
        return 0
    # checked here, not when the worker applies it: a tiny cap killed the worker with std::bad_alloc before it
    # could answer, a huge one overflowed setrlimit in a traceback
    if mb < MIN_MEMORY_MB:
        raise ValueError(f"{text!r} is too small a memory cap: the worker needs at least {describe(MIN_MEMORY_MB)} "
                         f"to start (give a unit, e.g. 4G; or none for no cap)")
    if mb > MAX_MEMORY_MB:
        raise ValueError(f"{text!r} is more memory than any machine has (at most {describe(MAX_MEMORY_MB)}; "
                         f"give none for no cap)")
    return mb


def describe(mb: int) -> str:
    """`4 GiB` / `1536 MiB` / `no cap`, as the messages name the cap."""
    if mb <= 0:
        return "no cap"
    return f"{mb // 1024} GiB" if mb % 1024 == 0 else f"{mb} MiB"


def apply(mb: int) -> None:
    """Cap this process's data memory at `mb` MiB (0: no cap). Worker only."""
    if mb <= 0:
        return
    try:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        want = mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (want, hard))
    except (ImportError, ValueError, OSError, AttributeError):  # not on this platform: the timeout still applies
        pass


def is_out_of_memory(exc: BaseException) -> bool:
    """A MemoryError, or torch's allocator failing under the cap (a RuntimeError, not a MemoryError)."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("can't allocate memory" in text or "not enough memory" in text)


def out_of_memory_message(what: str, mb: int) -> str:
    """One line naming the cap and how to raise it."""
    if mb <= 0:
        return f"{what}: ran out of memory (the worker has no memory cap; the machine itself ran out)"
    return (f"{what}: ran out of memory (the worker's memory cap is {describe(mb)}; raise it with "
            f"--memory {max(2 * mb // 1024, 1)}G, or --memory none)")
