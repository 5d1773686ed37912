"""`without_gc`: run a burst of allocations without Python's cyclic garbage collector.

Laying out or recolouring a big graph allocates hundreds of thousands of short-lived tuples and records; each
allocation threshold crossed starts a collection that walks every tracked object of the loaded model (graph,
report, items), which measured here as half of a 5,000-node layout. The collector is paused for the burst and
resumed after it (nothing is lost: it runs at the next threshold); nested uses keep it paused until the outermost
returns.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def without_gc(func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return func(*args, **kwargs)
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper

