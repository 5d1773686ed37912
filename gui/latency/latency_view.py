"""`LatencyView`: the Latency dock — device picker, calibrate and measure actions, the roofline chart and a
per-layer table of estimated latency, bound and measured time, all on the shared selection.

Measuring runs the document's model for real in the worker: a layer list as its exported nn.Sequential, a traced
model from the window's `source` (its reference and load options).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QItemSelection, QItemSelectionModel, QModelIndex, QSizeF, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from netcost.costing import CostReport
from netcost.costing import formatting as fmt
from netcost.costing.devices import PEAK_DTYPES
from netcost.costing.latency import CONVENTION_TEXT, device_mismatch, measured_place
from netcost.gui.charts.roofline_chart import RooflineChart
from netcost.gui.common.flow_layout import FlowLayout
from netcost.gui.common.on_screen import CatchUpWhenShown, out_of_sight
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.latency_state import LatencyState
from netcost.gui.document.timing_jobs import TimingJob
from netcost.gui.latency.device_picker import DevicePickerWidget
from netcost.gui.report.export_menu import IMAGE_FILTER, ViewContextMenu, _ask_path, _done, _stem, _with_suffix
from netcost.gui.report.exporters import ExportError, ExportResult
from netcost.gui.report.roofline_export import export_roofline
from netcost.model_io.worker.measure_client import Measurement, measure_refusal

COLUMNS = ("Layer", "Bound", "Est. latency", "Measured", "Measured ÷ est.")
HEADERS = ("Layer", "Bound", "Est.\nlatency", "Measured", "Measured\n÷ est.")  # as shown: narrow columns
MEASURED, RATIO = 3, 4
MEASURE_TIP = "Run the model for real (random weights) and time every layer: median of 5"


def _short_place(measured_device: str) -> str:
    return "CPU" if measured_device == "cpu" else measured_device


class LatencyTableModel(QAbstractTableModel):
    """One row per report layer: the roofline estimate beside the measured time."""

    def __init__(self, state: LatencyState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._rows: list[tuple[str, str, str, str, str]] = []
        self._seconds: list[tuple[float, float]] = []  # (estimate, measured or -1), for sorting
        self._stale = False  # an edit arrived while the table was hidden
        state.document.reportChanged.connect(self.refresh)
        state.document.documentReset.connect(self.refresh)
        state.changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *args: object) -> None:
        view = self.parent()
        # hidden, or a background dock tab (visible with nothing exposed): caught up when shown or painted
        if isinstance(view, QWidget) and out_of_sight(view):
            self._stale = True
            return
        self._stale = False
        self.beginResetModel()
        report = self.state.document.report
        est = self.state.estimate()
        measured = self.state.measured_rows() or [None] * len(report.layers)
        self._rows = []
        for i, row in enumerate(report.layers):
            e = est.rows[i] if est else None
            s = measured[i]
            ratio = f"{s / e.seconds:.1f}×" if e is not None and s and e.seconds else ""
            self._rows.append((row.name, e.bound if e else "", fmt.duration(e.seconds) if e else "",
                               fmt.duration(s) if s is not None else "", ratio))
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
                   ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        m, est = self.state.measurement, self.state.estimate()
        if role == Qt.ItemDataRole.DisplayRole:
            # the ratio divides one device's time by another's estimate: both are named
            # on two lines: in one, the names took the Measured and ratio columns off a 1280 px screen
            if section == RATIO and m is not None and est is not None:
                return f"{_short_place(m.device)} ÷\n{est.device.name} est."
            if section == MEASURED and m is not None:
                return f"Measured\n({_short_place(m.device)})"
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole and section in (MEASURED, RATIO):
            if m is None:
                return "Measure on this machine to time every layer for real"
            if section == MEASURED:
                return f"measured on {measured_place(m.device)} ({m.threads} threads, median of {m.repeats})"
            if est is None:
                return "choose a device to compare the measured times with its estimate"
            text = f"measured on {measured_place(m.device)} ÷ estimate for {est.device.name}"
            warning = device_mismatch(m.device, est.device)
            return f"{text}\nWarning: {warning}" if warning else text
        return None


class LatencyView(QWidget):
    def __init__(self, document: CostDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.state = LatencyState.of(document)
        self.job = TimingJob(self)
        self._measured_report: CostReport | None = None
        self.picker = DevicePickerWidget(self.state, self)
        self.peak_box = QComboBox(self)
        self.peak_box.setToolTip("Which of the device's peaks: the document dtype's, or e.g. TF32 tensor cores")
        self.peak_box.addItem("dtype's peak", None)
        for key in PEAK_DTYPES:
            self.peak_box.addItem(key, key)
        self.peak_box.currentIndexChanged.connect(lambda: self.state.set_peak(self.peak_box.currentData()))
        self.calibrate_button = QPushButton("Calibrate this machine", self)
        self.calibrate_button.setToolTip("Measure this machine's GEMM FLOP/s and copy bandwidth (a few seconds); "
                                         "adds the device 'this-machine'")
        self.measure_button = QPushButton("Measure on this machine", self)
        self.measure_button.setToolTip(MEASURE_TIP)
        self._busy = False
        self._watched: QWidget | None = None  # the main window whose `sourceChanged` this view follows
        self.status = QLabel(self)
        self.status.setObjectName("latencyStatus")
        self.status.setWordWrap(True)  # on its own line under the controls: a long message wraps, never widens
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setObjectName("latencySummary")
        self.chart = RooflineChart(document, self, state=self.state)
        self.table = QTableView(self)
        self.model = LatencyTableModel(self.state, self.table)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        # every column as wide as its text, the last one taking what is left: a narrow dock scrolls sideways
        # rather than squeezing the Layer column (Stretch) down to "…"
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setResizeContentsPrecision(64)  # widths from the first rows: not every row's text on every edit
        bar = FlowLayout()  # wraps in a narrow dock (a 1280 px screen)
        bar.addWidget(QLabel("Device:", self))
        for w in (self.picker, self.peak_box, self.calibrate_button, self.measure_button):
            bar.addWidget(w)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.chart)
        split.addWidget(self.table)
        split.setSizes([500, 500])  # in proportion as the dock resizes; half: Measured and the ratio fit at 1280 px
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(bar)
        lay.addWidget(self.status)
        lay.addWidget(self.summary)
        lay.addWidget(split, 1)
        self.calibrate_button.clicked.connect(self.job.calibrate)
        self.destroyed.connect(self.job.cancel)  # closing the window ends a run in flight
        self.measure_button.clicked.connect(self.measure)
        self.job.calibrated.connect(self._on_job_calibrated)
        self.job.measured.connect(self._on_job_measured)
        self.job.failed.connect(self.status.setText)
        self.job.busyChanged.connect(self._on_job_busy_changed)
        self.state.changed.connect(self._update_summary)
        document.reportChanged.connect(self._update_summary)
        document.documentReset.connect(self._update_summary)
        document.selection.rowsChanged.connect(self._on_selection_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        # the chart's context menu exports it, as the other charts' menus do (gui.export_menu)
        self._context_menu = ViewContextMenu(self.chart, self.chart.viewport(), "Export roofline chart…",
                                             self.export_chart)
        document.documentReset.connect(self._update_measurable)
        document.settingsChanged.connect(self._update_measurable)
        self._update_summary()
        self._update_measurable()
        CatchUpWhenShown(self, lambda: self.model._stale, self.model.refresh)

    def showEvent(self, event: Any) -> None:
        self._update_measurable()  # docked into a window now: follow its source
        super().showEvent(event)

    def measure_refusal(self) -> str | None:
        """Why the document cannot be measured (one line), or None."""
        doc = self.document
        window = self.window()
        if self._watched is not window and hasattr(window, "sourceChanged"):
            window.sourceChanged.connect(self._update_measurable)
            self._watched = window
        if not doc.traced and doc.network is not None:  # a layer list: its rows, as exported PyTorch
            return measure_refusal(None, doc.graph.dtype)
        source = getattr(window, "source", None)
        if not doc.traced or source is None:
            return "this model's source is not known to the window: open it again to measure it"
        ref, opts = source
        return measure_refusal(ref, opts.dtype or doc.graph.dtype)

    def _update_measurable(self) -> None:
        """The Measure button is enabled only for a model that can be measured; its tooltip says why not."""
        refusal = self.measure_refusal()
        self.measure_button.setEnabled(refusal is None and not self._busy)
        self.measure_button.setToolTip(MEASURE_TIP if refusal is None else f"Cannot measure this model: {refusal}")

    # ---- actions -----------------------------------------------------------------------------------------
    def measure(self) -> None:
        """Time the window's traced model for real (a layer list: a one-line explanation instead)."""
        refusal = self.measure_refusal()
        if refusal is not None:  # (the button is disabled then; a shortcut or a stale state still gets a word)
            self.status.setText(f"Cannot measure this model: {refusal}")
            return
        self._measured_report = self.document.report  # what the result will belong to
        network = self.document.network
        if not self.document.traced and network is not None:  # a layer list: its rows, as exported PyTorch
            self.job.measure_network(network)
        else:
            ref, opts = self.window().source  # type: ignore[attr-defined]  # (measure_refusal checked it)
            self.job.measure(ref, opts)

    def export_chart(self, path: str = "") -> ExportResult | None:
        """The roofline at its on-screen size and palette to PNG, SVG or PDF (asks for the file without `path`)."""
        window = self.window()
        path = path or _ask_path(window)("Export roofline chart", f"{_stem(self.document.name)}-roofline.png",
                                         IMAGE_FILTER)
        if not path:
            return None
        visible = self.chart.isVisible() and self.chart.width() >= 200
        size = QSizeF(self.chart.width(), self.chart.height()) if visible else None
        try:
            result = export_roofline(self.document, _with_suffix(path), dark=self.chart.theme.dark, size=size)
        except ExportError as e:
            _done(window, None, str(e))
            return None
        _done(window, result)
        return result

    def _on_job_busy_changed(self, busy: bool) -> None:
        self._busy = busy
        self.calibrate_button.setEnabled(not busy)
        self._update_measurable()
        if busy:
            self.status.setText("Running on this machine …")

    def _on_job_calibrated(self) -> None:
        self.state.reload_devices()
        self.state.set_device("this-machine")
        self.status.setText("Calibrated: 'this-machine' added to the devices")

    def _on_job_measured(self, report: CostReport, measurement: Measurement) -> None:
        self.state.set_measurement(measurement, self._measured_report)
        self.status.setText("")

    # ---- read-outs ---------------------------------------------------------------------------------------
    def _update_summary(self, *args: object) -> None:
        est = self.state.estimate()
        parts = []
        if self.state.device_error:
            parts.append(f"Your devices file was not read: {self.state.device_error}")
        if est is None:
            parts.append("Choose a device to estimate each layer's latency with the roofline model.")
        else:
            t = est.total
            parts.append(f"Estimated {fmt.duration(t.seconds)} on {est.device.name} ({t.bound}-bound overall; "
                         f"launch floor {fmt.duration(est.device.launch_floor_s)} per kernel) — {CONVENTION_TEXT}.")
        m = self.state.measurement
        if m is not None:
            total = sum(s for s in self.state.measured_rows() if s is not None)
            rho = self.state.correlation()
            corr = f"; rank correlation with the estimate {rho:.2f}" if rho is not None else ""
            parts.append(f"Measured {fmt.duration(total)} on {measured_place(m.device)} ({m.threads} threads, "
                         f"median of {m.repeats}){corr}.")
            warning = device_mismatch(m.device, est.device) if est is not None else None
            if warning:
                parts.append(f"Warning: {warning[0].upper()}{warning[1:]}.")
        self.summary.setText(" ".join(parts))

    def _on_selection_changed(self, rows: list[int], source: object) -> None:
        if source is self:
            return
        indices = self.chart.indices_of_rows(rows)
        sel = QItemSelection()
        for i in indices:
            sel.select(self.model.index(i, 0), self.model.index(i, len(COLUMNS) - 1))
        sm = self.table.selectionModel()
        sm.blockSignals(True)
        sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        sm.blockSignals(False)
        if indices:
            self.table.scrollTo(self.model.index(indices[0], 0))

    def _on_table_selection_changed(self, *args: object) -> None:
        indices = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        self.document.selection.set_rows(self.chart.rows_of_indices(indices), self)
