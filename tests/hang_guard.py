"""`no_hang(seconds)`: turn a hang into a test failure instead of a stuck suite (SIGALRM interrupts Python loops).

A guard, not a speed target: the bound is far above any normal run, only a formula that loops over a user-given
size (or a read that never returns) reaches it.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


class Hang(AssertionError):
    pass


@contextlib.contextmanager
def no_hang(seconds: float = 20.0, what: str = "the call") -> Iterator[None]:
    def alarm(*_: object) -> None:
        raise Hang(f"{what} did not return within {seconds:g} s (it hangs)")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
