"""`without_gc`: run a burst of allocations without Python's cyclic garbage collector; `set_aside_startup_heap`:
keep what start-up made out of every later collection; `set_aside_loaded` / `release_set_aside`: the same for what
a load job made, for as long as its document is the current one; `retire`: free what a replaced document was made of
in the event-loop passes after the one that shows the next.

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

from PySide6.QtCore import QCoreApplication, QTimer

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


def set_aside_startup_heap() -> None:
    """Move every object start-up made (modules, classes, functions, Qt wrappers: about 86,000) to the collector's
    permanent generation. A full collection walks every tracked object, and with these in it one took ~100 ms on
    the GUI thread while Llama-70B opened (bench/open_blocking.py: a 141-153 ms pass in one of every three opens,
    none over 61 ms after). Called once, after the window is built: these objects live as long as the app anyway;
    what the documents allocate later is still collected."""
    gc.collect()
    gc.freeze()


def set_aside_loaded() -> None:
    """Move every tracked object to the permanent generation: called by a load job as it ends, with the collector
    paused. `gc.disable()` is process-wide, so the millions of objects a 100k-node load makes all sit in the young
    generation, and the GUI thread's next collection walked them: a 490-560 ms event-loop pass right after the open
    (bench/open_blocking.py --refs big.json). Freezing is a list splice, O(1). `release_set_aside` undoes it once the
    document is replaced, so nothing stays out of the collector's reach past its document's life."""
    gc.freeze()


def release_set_aside() -> None:
    """Give every frozen object back to the oldest generation (O(1), no collection now): a replaced document's
    reference cycles are then reclaimed by the next full collection, as they would be had it never been frozen.
    (This also gives back what `set_aside_startup_heap` froze; the next load's `set_aside_loaded` takes it again.)"""
    gc.unfreeze()


_retired: list[object] = []
RETIRE_STEP_MS = 20  # one object let go per timer round, this far apart


def retire(*objects: object) -> None:
    """Hold `objects` (what a replaced document was made of: its graph, its report, a view's layout) and let them go
    one per event-loop pass after this one. Freeing a 100k-node graph's report (~35 ms) and graph (~20 ms) in the
    pass that shows the next model made that pass ~100 ms longer. At once where no event loop runs (a script)."""
    if QCoreApplication.instance() is None:
        return
    idle = not _retired
    _retired.extend(o for o in objects if o is not None)
    if idle and _retired:
        QTimer.singleShot(RETIRE_STEP_MS, _let_one_go)


def let_all_go() -> None:
    """Let every retired object go now (a measurement that must not see earlier documents' releases)."""
    _retired.clear()


def _let_one_go() -> None:
    if _retired:
        del _retired[0]  # (its last reference, as a rule: freed here, in a pass of its own)
    if _retired:
        QTimer.singleShot(RETIRE_STEP_MS, _let_one_go)


def release_set_aside_later(delay_ms: int) -> None:
    """`release_set_aside` in `delay_ms` (once the event loop runs again); at once where none can run (no Qt
    application: a script's document)."""
    if QCoreApplication.instance() is None:
        release_set_aside()
    else:
        QTimer.singleShot(delay_ms, release_set_aside)
