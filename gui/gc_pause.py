"""`without_gc`: run a burst of allocations without Python's cyclic garbage collector; `freeze_loaded`: keep
an open model's objects out of the collector's way.

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


def freeze_loaded() -> None:
    """Called once a model is loaded and shown. Its objects (graph, report, the views' items) live as long as it
    is open, yet every full collection walked them all: 0.35 s for Llama-70B, every few edits, a stall in the
    middle of editing. They are moved to the collector's permanent generation (`gc.freeze`), after the previous
    model's leftover cycles are collected; objects made later (each edit's report) are collected as usual."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
