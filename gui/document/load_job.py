"""`LoadJob`: the off-thread part of every open — a model's graph read (a file parsed, a worker's answer decoded),
costed, its peak activation worked out and whatever the views prepare ahead (the diagram's structure and layout,
handed in by the app shell) — so that the GUI thread only adopts the result.

A 5,000-node model costs ~0.7 s to parse, evaluate and lay out; on the GUI thread that froze the window. The job
runs those steps on a `QThread` and reports each stage; the GUI thread swaps the document in only when everything
succeeded, so a bad or cancelled open leaves the current document as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from netcost.costing import FormatError
from netcost.costing.graph import Graph
from netcost.costing.graph_eval import evaluate_graph
from netcost.gui.common.gc_pause import set_aside_loaded, without_gc
from netcost.gui.document.document_types import Loaded
from netcost.model_io.errors import ModelError
from netcost.model_io.escape import failure_text

Progress = Callable[["Stage", int, int], None]  # stage, done, total
Reader = Callable[[Progress], tuple[Graph, dict[str, Any]]]  # the graph and a file's other top-level keys
Preparer = Callable[[Graph], object]  # a view's work ahead on a new graph (run on the job's thread)


class Stage(Enum):
    """The steps of an open, in order, with the share of the progress bar each one fills."""

    READ = ("reading", 0, 5)
    DECODE = ("decoding", 5, 25)
    CHECK = ("checking", 25, 55)
    COST = ("costing", 55, 90)
    PREPARE = ("preparing the views", 90, 100)

    def __init__(self, label: str, start: int, end: int) -> None:
        self.label, self.start, self.end = label, start, end

    def percent(self, done: int, total: int) -> int:
        return self.start + (self.end - self.start) * done // max(total, 1)


def _spent(progress: Progress) -> tuple[Graph, dict[str, Any]]:
    raise ValueError("a load job runs once")


class Canceled(Exception):
    """Raised at a progress point once the job was cancelled."""


class LoadJob(QThread):
    """Read (`reader`), cost and prepare (`preparers`) one model. Exactly one of `loaded`, `failed`, `canceled`
    follows `start()`; `error` keeps the exception behind `failed` (a worker's answer carries a failure kind)."""

    progress = Signal(str, int)  # stage label, percent of the whole open
    loaded = Signal(object)  # Loaded: the graph, its CostReport and a file's other top-level keys
    failed = Signal(str)  # one line: what is wrong with the model
    canceled = Signal()

    def __init__(self, reader: Reader, preparers: tuple[Preparer, ...] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader = reader
        self._preparers = preparers
        self._stop = threading.Event()
        self.error: Exception | None = None
        self.worked_on = ""  # the name of the thread that did the work (tests: never the GUI thread)

    def cancel(self) -> None:
        """Stop at the next progress point; `canceled` follows."""
        self._stop.set()

    def _report(self, stage: Stage, done: int = 0, total: int = 1) -> None:
        if self._stop.is_set():
            raise Canceled
        self.progress.emit(stage.label, stage.percent(done, total))

    def run(self) -> None:
        self.worked_on = threading.current_thread().name
        try:
            loaded = self._load()
        except Canceled:
            self.canceled.emit()
        except (FormatError, ModelError) as e:  # a worker's failure keeps its kind: the loader words it
            self.error = e
            self.failed.emit(str(e))
        except OSError as e:  # a name over the file-name limit, a folder it may not read
            self.error = e
            self.failed.emit(failure_text(e))
        except (ValueError, RecursionError, MemoryError) as e:  # never raised into Qt: one line, document kept
            self.error = e
            self.failed.emit(f"cannot be read ({type(e).__name__}: {e})")
        else:
            if self._stop.is_set():
                self.canceled.emit()
            else:
                self.loaded.emit(loaded)

    @without_gc  # a collection here holds the GIL over every object of the window: the event loop would stall
    def _load(self) -> Loaded:
        reader, self._reader = self._reader, _spent  # one run: what it reads from (a worker's answer) is let go
        graph, extra = reader(self._report)
        self._report(Stage.COST)
        report = evaluate_graph(graph, progress=lambda done, total: self._report(Stage.COST, done, total))
        report.peak_activation_bytes  # noqa: B018 - cached on the report here, off the GUI thread (1.7 s at 100k)
        graph.users  # noqa: B018 - the graph's reader index, cached likewise (the diagram's selection walks it)
        for i, prepare in enumerate(self._preparers):
            self._report(Stage.PREPARE, i, len(self._preparers))
            prepare(graph)
        set_aside_loaded()  # (collector still paused) else its objects are all young: a ~0.5 s GUI-thread collection
        return Loaded(graph, report, extra)
