"""`Remeasurer`: when an edit leaves opaque nodes stale (no formula, only what the trace measured, and now other
inputs), trace the model again in the worker with the document's layer edits applied and take their new measurements
(model_io.files.retrace). It runs on its own worker, in the background: the edit is shown at once with those rows marked
not costed, and the totals complete when the answer arrives. A new edit meanwhile restarts it; one that cannot help
(another row is broken, the source is unknown, the edit changed the structure) is said in one line.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from netcost.costing.graph_eval import input_values
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.document_types import Loaded
from netcost.gui.document.model_loader import ModelLoader
from netcost.model_io.escape import printable
from netcost.model_io.files.retrace import retrace_blocker, stale_opaque
from netcost.model_io.worker.resolve import LoadOptions, retrace_options


class Remeasurer(QObject):
    message = Signal(str, str)  # text, kind ("info" / "warning"): for the window's status or message bar
    busyChanged = Signal(bool)

    def __init__(self, document: CostDocument, options: Callable[[], LoadOptions | None],
                 command: list[str] | None = None, parent: QObject | None = None, delay_ms: int = 400,
                 consent: Callable[[str], bool] | None = None) -> None:
        """`options`: the load options the model was opened with (inputs, time limit), or None if unknown.
        `consent(ref)`: whether the model `ref` may be traced (its code run); None: always."""
        super().__init__(parent)
        self.document = document
        self._options = options
        self._consent = consent
        self.loader = ModelLoader(self, command)
        self.loader.loaded.connect(self._on_traced)
        self.loader.failed.connect(self._on_failed)
        self.loader.busyChanged.connect(self.busyChanged)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.start)
        self._said = ""  # the last reason given for not tracing again (said once per reason)
        self._failed: dict[str, object] = {}  # node id -> the inputs a trace with the edits could not measure it at
        document.reportChanged.connect(lambda _first: self._schedule())
        document.documentReset.connect(self._on_reset)

    @property
    def busy(self) -> bool:
        return self.loader.busy

    def _on_reset(self) -> None:
        self.loader.cancel()
        self._timer.stop()
        self._said, self._failed = "", {}

    def _schedule(self) -> None:
        if stale_opaque(self.document.report):
            self._timer.start()  # edits in quick succession: one trace, after the last
        elif self.loader.busy:
            self.loader.cancel()  # undone, or the stale rows are gone: the answer is no longer needed

    def start(self) -> bool:
        """Trace the model again with the edits now (False, with the reason said, when that cannot help)."""
        report = self.document.report
        stale = [i for i in stale_opaque(report) if self._failed.get(i) != input_values(report, i)]
        if not stale:  # none, or only those the last trace with these edits could not measure
            return False
        blocker = retrace_blocker(report)
        if blocker:
            self._say(f"{len(stale)} measured row(s) not costed: {blocker}", "warning")
            return False
        graph = report.graph
        assert graph is not None
        ref = str(graph.source["ref"])
        if self._consent is not None and not self._consent(ref):  # a reference a file named: its code never
            self._say(f"{len(stale)} measured row(s) not costed: tracing them again would run {printable(ref)}, "
                      "which this file names as its model and you did not open or allow", "warning")
            return False
        self.loader.load(ref, retrace_options(report, self._options()))
        names = ", ".join(graph.node(i).display_name for i in stale[:3]) + (" …" if len(stale) > 3 else "")
        self.message.emit(f"Measuring {names} again: tracing the model with your edits …", "info")
        return True

    def _on_traced(self, _ref: str, loaded: Loaded) -> None:
        traced = loaded.report
        if traced is None or traced.graph is None:
            return
        asked = self.document.report
        failed = self.document.remeasure(traced.graph)
        self._failed = {i: input_values(asked, i) for i in failed}
        if failed:
            self._say(next(iter(failed.values())), "warning")
        elif not stale_opaque(self.document.report):
            self._said = ""
            self.message.emit("Measured again with your edits: every row is costed", "info")

    def _on_failed(self, _ref: str, text: str) -> None:
        self._say(f"Could not trace the model again with your edits: {text}", "warning")

    def _say(self, text: str, kind: str) -> None:
        if text != self._said:
            self._said = text
            self.message.emit(text, kind)
