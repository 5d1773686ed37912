"""`SweepView`: the input-size sweep of the current graph — params, MACs and activation memory against the image
resolution or the sequence length — computed by `netcost.costing.sweep`, one point per timer tick so a long sweep (a big
model, 32k tokens) shows its progress and never freezes the window.

The sweep reruns (debounced) after an edit while it is on screen; hidden, it only notes that it is stale.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QSizeF, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from netcost.costing import sweep as sw
from netcost.costing.graph import Graph
from netcost.gui.charts.sweep_chart import SweepChart, round_2, size_text
from netcost.gui.common.flow_layout import FlowLayout
from netcost.gui.common.on_screen import CatchUpWhenShown, out_of_sight
from netcost.gui.common.plain_text import plain_label
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report.export_menu import ViewContextMenu, ask_and_export
from netcost.gui.report.exporters import ExportResult, export_view
from netcost.gui.report.views import SingleView, render_widget

DEBOUNCE_MS = 400


class SweepView(QWidget):
    def __init__(self, document: CostDocument, parent: QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.axis: sw.SweepAxis | None = None
        self.points: list[sw.SweepPoint] = []
        self.sizes: tuple[int, ...] = ()
        self._graph: Graph | None = None  # the graph being swept (immutable: edits meanwhile restart the sweep)
        self._next = 0
        self.stale = True
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 2)
        outer.setSpacing(4)
        bar = FlowLayout()  # wraps in a narrow dock (a 1280 px screen)
        self.axis_label = QLabel(self)
        self.first = QSpinBox(self)
        self.last = QSpinBox(self)
        for spin in (self.first, self.last):
            spin.setRange(1, 1 << 20)
            spin.setGroupSeparatorShown(True)
            spin.setKeyboardTracking(False)
        self.count = QSpinBox(self)
        self.count.setRange(2, sw.MAX_POINTS)
        self.count.setSuffix(" sizes")
        self.geometric = QCheckBox("doubling", self)
        self.geometric.setToolTip("Geometric steps (each size a fixed multiple of the last), for token counts")
        self.run_button = QPushButton("Run", self)
        self.run_button.setToolTip("Evaluate the model at each size")
        self.run_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(140)
        self.progress.setTextVisible(True)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("The sweep chart as PNG, SVG or PDF")
        self.export_button.clicked.connect(lambda: self.export())
        bar.addWidget(self.axis_label)
        for text, w in (("from", self.first), ("to", self.last), ("in", self.count)):
            bar.addWidget(QLabel(text, self))
            bar.addWidget(w)
        for w in (self.geometric, self.run_button, self.stop_button, self.progress):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        outer.addLayout(bar)
        self.chart = SweepChart(self, dark)
        outer.addWidget(self.chart, 1)
        self._menu = ViewContextMenu(self.chart, self.chart.viewport(), "Export sweep…", lambda: self.export())
        self.status = plain_label(self, "sweepStatus")
        outer.addWidget(self.status)
        self.timer = QTimer(self)
        self.timer.setInterval(0)  # one point per pass of the event loop
        self.timer.timeout.connect(self._step)
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self._start_if_seen)
        document.documentReset.connect(self._on_document_reset)
        document.reportChanged.connect(lambda _first: self._on_document_changed())
        CatchUpWhenShown(self, self._catch_up_due, self.debounce.start)
        self._on_document_reset()

    # ---- document ------------------------------------------------------------------------------------------
    def _on_document_reset(self) -> None:
        """A new model: its own axis and default sizes."""
        self.stop()
        graph = self.document.graph
        self.axis = sw.default_axis(graph) if graph.nodes else None
        enabled = self.axis is not None
        for w in (self.first, self.last, self.count, self.geometric, self.run_button):
            w.setEnabled(enabled)
        if self.axis is not None:
            sizes = sw.default_sizes(graph, self.axis)
            self.axis_label.setText(f"{self.axis.label[0].upper()}{self.axis.label[1:]} ({self.axis.unit or 'size'}):")
            self.first.setValue(sizes[0])
            self.last.setValue(sizes[-1])
            self.count.setValue(len(sizes))
            self.geometric.setChecked(self.axis.unit == "tokens")
        else:
            self.axis_label.setText("Input size:")
        self.points = []
        self.chart.set_sweep(self.axis, [], None)
        self._on_document_changed()

    def _on_document_changed(self) -> None:
        self.stale = True
        self.timer.stop()  # the points of the graph before this edit are of no use
        # behind another dock's tab (still `isVisible()`): nothing until it is raised. Each point is a whole
        # evaluation, 0.5 s of the window's time per point on Llama-70B after every edit while no one looked
        if not out_of_sight(self) and self.axis is not None:
            self.debounce.start()

    def _start_if_seen(self) -> None:
        if not out_of_sight(self):  # (its tab may have been put behind another since the edit)
            self.start()

    def _catch_up_due(self) -> bool:
        return self.stale and self.axis is not None and not self.timer.isActive() and not self.debounce.isActive()

    # ---- running -------------------------------------------------------------------------------------------
    def requested_sizes(self) -> tuple[int, ...]:
        return sw.sizes_between(self.first.value(), max(self.first.value(), self.last.value()), self.count.value(),
                                self.geometric.isChecked())

    def start(self) -> bool:
        """(Re)start the sweep of the document's graph as it is now."""
        self.debounce.stop()
        if self.axis is None:
            return False
        self._graph = self.document.graph
        self.sizes = self.requested_sizes()
        self.points = []
        self._next = 0
        self.stale = False
        self.progress.setRange(0, len(self.sizes))
        self.progress.setValue(0)
        self.progress.show()
        self.stop_button.setEnabled(True)
        self.status.setText(f"Evaluating {self.document.name} at {len(self.sizes)} sizes …")
        self.chart.set_sweep(self.axis, [], None)
        self.timer.start()
        return True

    def stop(self) -> None:
        self.timer.stop()
        self.stop_button.setEnabled(False)
        if self._next < len(self.sizes) and self.points:
            self.status.setText(f"Stopped after {len(self.points)} of {len(self.sizes)} sizes. " + self._summary())

    def running(self) -> bool:
        return self.timer.isActive()

    def run_to_end(self) -> None:
        """Finish the sweep now (tests, exports from a script)."""
        if not self.timer.isActive() and (self.stale or not self.points):
            self.start()
        while self.timer.isActive():
            self._step()

    def _step(self) -> None:
        if self._graph is None or self.axis is None or self._next >= len(self.sizes):
            self.timer.stop()
            return
        self.points.append(sw.point(self._graph, self.axis, self.sizes[self._next]))
        self._next += 1
        self.progress.setValue(self._next)
        done = self._next >= len(self.sizes)
        self.chart.set_sweep(self.axis, self.points, sw.crossover(self.points) if done else None)
        if done:
            self.timer.stop()
            self.stop_button.setEnabled(False)
            self.status.setText(self._summary())

    def _summary(self) -> str:
        ok = [p for p in self.points if p.ok]
        failed = [p for p in self.points if not p.ok]
        parts = []
        if len(ok) >= 2 and ok[0].macs and ok[-1].macs:
            a, b = ok[0], ok[-1]
            k = math.log(b.macs / a.macs) / math.log(b.size / a.size) if b.size != a.size else 0.0
            parts.append(f"MACs ×{b.macs / a.macs:,.1f} from {size_text(a.size, self.axis)} to "
                         f"{size_text(b.size, self.axis)} (∝ size^{k:.2f})")
            c = sw.crossover(ok)
            if c is not None:
                at = size_text(round_2(c), self.axis)
                parts.append(f"attention's QKᵀ and AV outgrow all other MACs from about {at} "
                             f"{self.axis.unit if self.axis else ''}".rstrip())
            elif any(p.attention_macs for p in ok):
                parts.append("attention stays below the other MACs in this range" if
                             ok[-1].attention_macs < ok[-1].other_macs else
                             "attention already outweighs the other MACs at the first size")
            if a.params != b.params:
                parts.append(f"params {a.params:,} → {b.params:,} (a layer's size follows the input)")
        if failed:
            parts.append(f"{len(failed)} size{'s' * (len(failed) > 1)} not costed, e.g. "
                         f"{size_text(failed[0].size, self.axis)}: {failed[0].error}")
        return ";  ".join(parts) + ("." if parts else "")

    # ---- export --------------------------------------------------------------------------------------------
    def single_view(self, size: QSizeF | None = None, dark: bool | None = None) -> SingleView:
        """The chart as the exporters take a view (a fresh offscreen copy, the window's is never resized)."""
        if size is None:
            shown = self.chart.isVisible() and self.chart.width() >= 300
            size = QSizeF(self.chart.width(), self.chart.height()) if shown else QSizeF(1100, 380)
        chart = SweepChart(None, self.chart.theme.dark if dark is None else dark)
        chart.set_sweep(self.axis, self.points, sw.crossover([p for p in self.points if p.ok]))
        return SingleView(size, chart.theme.background, lambda p, r: render_widget(p, chart, r), chart.deleteLater)

    def export_to(self, path: str | Path, size: QSizeF | None = None, dark: bool | None = None) -> ExportResult:
        """Raises ExportError."""
        with self.single_view(size, dark) as view:
            return export_view(view, path, title=f"NetCost input-size sweep: {self.document.name}")

    def export(self) -> ExportResult | None:
        return ask_and_export(self, "Export sweep", "sweep", self.document.name, self.export_to)
