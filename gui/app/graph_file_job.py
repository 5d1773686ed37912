"""Opening a large project or graph file off the GUI thread, with progress and cancel.

A 100k-node graph file takes seconds to read, decode, check and cost; on the GUI thread that froze the window with
no sign of life. `GraphFileJob` does those steps on a `QThread` and reports each few thousand nodes; the window
shows the progress in its status bar (with Cancel) and swaps the document in only when everything succeeded, so a
bad or cancelled file leaves the current document as it was. Small files still open synchronously
(`opens_in_background`): their open is instant and callers see the document at once.
"""

from __future__ import annotations

import os
import threading
from enum import Enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from netcost.costing import FormatError
from netcost.costing.graph import Graph
from netcost.costing.graph_eval import evaluate_graph
from netcost.costing.records import CostReport
from netcost.gui.common.gc_pause import without_gc
from netcost.gui.diagram.prepared import prepare
from netcost.gui.document.document_types import Loaded
from netcost.model_io import strict_json
from netcost.model_io.files.graph_file import parse_graph
from netcost.model_io.files.layer_file import read_text

BACKGROUND_BYTES = 1 * 2**20  # files above this open on a thread (Llama-70B's 5k-node graph is ~0.9 MiB)


class Stage(Enum):
    """The steps of an open, in order, with the share of the progress bar each one fills."""

    READ = ("reading", 0, 5)
    DECODE = ("decoding", 5, 25)
    CHECK = ("checking", 25, 55)
    COST = ("costing", 55, 100)

    def __init__(self, label: str, start: int, end: int) -> None:
        self.label, self.start, self.end = label, start, end

    def percent(self, done: int, total: int) -> int:
        return self.start + (self.end - self.start) * done // max(total, 1)


def opens_in_background(path: str | os.PathLike[str]) -> bool:
    try:
        return os.stat(path).st_size > BACKGROUND_BYTES
    except OSError:
        return False  # the synchronous open says what is wrong with it


class _Canceled(Exception):
    pass


class GraphFileJob(QThread):
    """Read, decode, check and cost one file. Exactly one of `loaded`, `failed`, `canceled` follows `start()`."""

    progress = Signal(str, int)  # stage label, percent of the whole open
    loaded = Signal(object)  # Loaded: the graph, its CostReport and the file's other top-level keys
    failed = Signal(str)  # one line: what is wrong with the file
    canceled = Signal()

    def __init__(self, path: str | Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self._stop = threading.Event()

    def cancel(self) -> None:
        """Stop at the next progress point; `canceled` follows."""
        self._stop.set()

    def _report(self, stage: Stage, done: int = 0, total: int = 1) -> None:
        if self._stop.is_set():
            raise _Canceled
        self.progress.emit(stage.label, stage.percent(done, total))

    def run(self) -> None:
        try:
            graph, extra, report = self._open()
        except _Canceled:
            self.canceled.emit()
        except FormatError as e:
            self.failed.emit(str(e))
        except (ValueError, RecursionError, MemoryError) as e:  # never raised into Qt: one line, document kept
            self.failed.emit(f"cannot be read ({type(e).__name__}: {e})")
        else:
            if self._stop.is_set():
                self.canceled.emit()
            else:
                self.loaded.emit(Loaded(graph, report, extra))

    @without_gc  # a collection here holds the GIL over every object of the window: the event loop would stall
    def _open(self) -> tuple[Graph, dict[str, Any], CostReport]:
        self._report(Stage.READ)
        text = read_text(self.path)
        self._report(Stage.DECODE)
        data = strict_json.loads(text)
        del text
        self._report(Stage.CHECK)
        graph, extra = parse_graph(data, lambda done, total: self._report(Stage.CHECK, done, total))
        del data
        self._report(Stage.COST)
        report = evaluate_graph(graph, progress=lambda done, total: self._report(Stage.COST, done, total))
        report.peak_activation_bytes  # noqa: B018 - cached on the report here, off the GUI thread (1.7 s at 100k)
        prepare(graph)  # the diagram's structure, opening scopes and their layout, likewise (0.8 s)
        return graph, extra, report
