"""`LatencyState`: the chosen device and the last measurement of one document, shared by the latency views.

It lives as a child of the `CostDocument` (`LatencyState.of(document)`), so every view of that document sees the
same device. The estimate itself is the engine's (`netcost.costing.latency.estimate`), recomputed when the report or the
device changes; a measurement belongs to the report it was taken on and is dropped when the model changes.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Signal

from netcost.costing import CostReport, HierarchyNode, LayerCost
from netcost.costing.devices import Device
from netcost.costing.latency import (
    LatencyEstimate,
    RowLatency,
    combine,
    estimate,
    measured_correlation,
    updated_estimate,
)
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files import device_files
from netcost.model_io.worker.measure_client import Measurement

SETTINGS_KEY = "latency/device"


class LatencyState(QObject):
    changed = Signal()  # device, device list or measurement changed (the report's own changes come from the doc)

    def __init__(self, document: CostDocument) -> None:
        super().__init__(document)
        self.setObjectName("latencyState")
        self.document = document
        self.devices: tuple[Device, ...] = ()
        self.device_error = ""  # a broken user device file: said once, presets still offered
        self.device: Device | None = None
        self.peak: str | None = None  # a peak key (tf32, ...) instead of the document dtype's
        self._measurement: tuple[Measurement, CostReport] | None = None  # with the report it was taken on
        self._cache: tuple[CostReport, str, str, LatencyEstimate | None] | None = None  # of this report
        self._lookup: tuple[CostReport, dict[str, int]] | None = None  # node id -> k
        self.reload_devices()
        saved = QSettings().value(SETTINGS_KEY, "", str)
        if saved:
            self.set_device(saved, remember=False)
        document.documentReset.connect(self._on_document_reset)

    @classmethod
    def of(cls, document: CostDocument) -> LatencyState:
        """The document's state, created on first use."""
        found = document.findChild(LatencyState, "latencyState")
        return found if isinstance(found, LatencyState) else cls(document)

    # ---- devices ---------------------------------------------------------------------------------------------
    def reload_devices(self) -> None:
        """Presets, this machine's calibration and the user's file, read again (after a calibration)."""
        self.devices, self.device_error = device_files.devices_or_error()
        if self.device is not None:
            self.device = next((d for d in self.devices if d.name == self.device.name), None)
        self.changed.emit()

    def set_device(self, name: str | None, remember: bool = True) -> None:
        found = next((d for d in self.devices if name and d.name.lower() == name.lower()), None)
        if found == self.device:
            return
        self.device = found
        if remember:
            QSettings().setValue(SETTINGS_KEY, found.name if found else "")
        self.changed.emit()

    def set_peak(self, peak: str | None) -> None:
        if peak != self.peak:
            self.peak = peak
            self.changed.emit()

    # ---- the estimate ----------------------------------------------------------------------------------------
    def estimate(self) -> LatencyEstimate | None:
        """The roofline estimate of the document's current report on the chosen device (None without one)."""
        report = self.document.report
        key = (report, self.device.name if self.device else "", self.peak or "")
        cache = self._cache
        if cache is None or cache[0] is not report or cache[1:3] != key[1:]:
            est = None
            if self.device is not None and cache is not None and cache[3] is not None and cache[1:3] == key[1:]:
                est = updated_estimate(cache[3], cache[0], report)  # an edit: only its rows again
            if self.device is not None and est is None:
                est = estimate(report, self.device, self.peak)
            self._cache = (*key, est)
        return self._cache[3]

    def latency_of(self, subject: LayerCost | HierarchyNode | CostReport) -> RowLatency | None:
        """The estimate of one report row (found by node id: an incomplete report has fewer rows than the
        document), of a container (its member rows, nested ones too, run one after another: the sum) or of the
        whole report; None without a device or for a row of another report."""
        est = self.estimate()
        if est is None:
            return None
        report = self.document.report
        if isinstance(subject, CostReport):
            return est.total if subject is report else None
        if self._lookup is None or self._lookup[0] is not report:
            before = self._lookup[0] if self._lookup is not None else None
            if before is not None and _same_rows(before, report):  # an argument edit: the positions hold
                self._lookup = (report, self._lookup[1])
            else:
                self._lookup = (report, {r.node_id: k for k, r in enumerate(report.layers)})
        _, position = self._lookup
        if isinstance(subject, HierarchyNode):  # its member rows (a scope's rows need not be contiguous)
            graph = self.document.graph
            members = graph.scope_tree.rows(subject.path) if subject.path in graph.scope_tree else ()
            found = (position.get(graph.nodes[r].id) for r in members)  # rows not costed have no estimate
            return combine([est.rows[k] for k in found if k is not None])
        k = position.get(subject.node_id)
        return est.rows[k] if k is not None else None

    def row_latency(self, row: int) -> RowLatency | None:
        """The estimate of the document's row `row` (None while it is not costed)."""
        cost = self.document.row_cost(row)
        return self.latency_of(cost) if cost is not None else None

    # ---- the measurement -------------------------------------------------------------------------------------
    def set_measurement(self, measurement: Measurement | None, report: CostReport | None = None) -> None:
        """Keep a measurement of `report`, the document's report when the run started: it applies while the
        document still shows that very report (an edit, a reload or another model ends it)."""
        self._measurement = None if measurement is None else (measurement, report or self.document.report)
        self.changed.emit()

    @property
    def measurement(self) -> Measurement | None:
        if self._measurement is None:
            return None
        m, report = self._measurement
        return m if self.document.report is report else None

    def measured_rows(self) -> list[float | None]:
        """Measured seconds per row of the current report ([] without a measurement of this model)."""
        m = self.measurement
        return m.row_seconds(self.document.report) if m is not None else []

    def correlation(self) -> float | None:
        est, measured = self.estimate(), self.measured_rows()
        return measured_correlation(est, measured) if est is not None and measured else None

    def _on_document_reset(self) -> None:
        if self._measurement is not None and self.measurement is None:
            self._measurement = None
            self.changed.emit()


def _same_rows(before: CostReport, report: CostReport) -> bool:
    """Whether `report` has the same nodes costed in the same rows as `before` (an edit of arguments only)."""
    a, b = before.graph, report.graph
    return a is not None and b is not None and a.index is b.index and before.complete and report.complete \
        and len(before.layers) == len(report.layers)
