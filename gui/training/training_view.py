"""`TrainingView`: the document's model in training (issue 21): optimizer, precision and a batch what-if next to
each other, the step's memory as a stacked bar (weights / gradients / optimizer states / saved activations), the
peak and "fits on DEVICE up to batch N", and a per-layer chart of training memory stacked by kind — the conv
layers' saved activations against the fully connected layers' weights, gradients and states.

It reads the document's report and asks `netcost.costing.training` (pure) for the step; freezing a layer is the
document's own command (`CostDocument.set_trainable`, one undo step), which this view follows like every other
edit. The batch here is a what-if (the peak at another batch size scales the activations), not an edit.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from netcost.costing import formatting as fmt
from netcost.costing.devices import PRESETS, Device
from netcost.costing.optimizers import OPTIMIZERS, PRECISIONS_ORDER
from netcost.costing.training import TrainingError, TrainingReport, analyze_training
from netcost.gui.common.cost_colors import TRAINING_MEMORY_COLORS, Theme, palette_is_dark
from netcost.gui.common.on_screen import CatchUpWhenShown, out_of_sight
from netcost.gui.document.cost_document import CostDocument

PARTS = ("weights", "gradients", "optimizer", "activations")
PART_LABELS = {"weights": "Weights", "gradients": "Gradients", "optimizer": "Optimizer states",
               "activations": "Saved activations"}


def memory_parts(train: TrainingReport, batch: int) -> dict[str, int]:
    """The step's memory by kind at `batch` (saved activations scale with it)."""
    t = train.totals
    saved = t.saved_activation_bytes * batch // max(1, t.batch_size)
    return {"weights": t.param_bytes, "gradients": t.grad_bytes, "optimizer": t.optimizer_bytes, "activations": saved}


class MemoryBarWidget(QWidget):
    """One horizontal bar, its segments the memory parts, sized by bytes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.parts: dict[str, int] = {}
        self.setMinimumHeight(22)

    def set_parts(self, parts: dict[str, int]) -> None:
        self.parts = dict(parts)
        self.setToolTip("\n".join(f"{PART_LABELS[k]}: {fmt.nbytes(v)}" for k, v in self.parts.items()))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt)
        total = sum(self.parts.values())
        if not total:
            return
        p = QPainter(self)
        x, w, h = 0.0, float(self.width()), float(self.height())
        for key in PARTS:
            width = w * self.parts.get(key, 0) / total
            p.fillRect(QRectF(x, 0, width, h), TRAINING_MEMORY_COLORS[key])
            x += width
        p.end()


class TrainingView(QWidget):
    def __init__(self, document: CostDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.train: TrainingReport | None = None
        self.stale = False  # the model changed while the view was hidden: cost the step when it shows
        self.devices: tuple[Device, ...] = tuple(d for d in PRESETS if d.memory_bytes)
        outer = QVBoxLayout(self)
        controls = QHBoxLayout()
        self.optimizer = QComboBox(self)
        self.optimizer.addItems(list(OPTIMIZERS))
        self.optimizer.setCurrentText("adam")
        self.precision = QComboBox(self)
        self.precision.addItems(list(PRECISIONS_ORDER))
        self.batch = QSpinBox(self)
        self.batch.setRange(1, 1 << 24)
        self.batch.setToolTip("What-if batch size: the saved activations and the peak at this batch")
        self.device = QComboBox(self)
        self.device.addItems([d.name for d in self.devices])
        for label, widget in (("Optimizer", self.optimizer), ("Precision", self.precision), ("Batch", self.batch),
                              ("Device", self.device)):
            controls.addWidget(QLabel(label, self))
            controls.addWidget(widget)
        controls.addStretch(1)
        outer.addLayout(controls)
        self.bar = MemoryBarWidget(self)
        outer.addWidget(self.bar)
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for key in (*PARTS, "peak", "fits", "compute"):
            self.values[key] = QLabel(self)
            self.values[key].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for key in PARTS:
            swatch = TRAINING_MEMORY_COLORS[key].name()
            form.addRow(f"<span style='color:{swatch}'>■</span> {PART_LABELS[key]}", self.values[key])
        form.addRow("Peak (steady-state step)", self.values["peak"])
        form.addRow("", self.values["fits"])
        form.addRow("Step compute", self.values["compute"])
        outer.addLayout(form)
        self.chart = pg.PlotWidget(self)
        self.chart.setLabel("left", "MiB")  # short: the chart is low, a longer title is cut
        self.chart.setLabel("bottom", "layer (graph order)")
        # one row across the top, over headroom kept free of bars (_show_chart): the tallest bars (often the fully
        # connected layers at the right) are never hidden behind it
        self.legend = self.chart.addLegend(offset=(10, 1), colCount=len(PARTS))
        self.bars: dict[str, pg.BarGraphItem] = {}
        for key in PARTS:
            color = TRAINING_MEMORY_COLORS[key]
            item = pg.BarGraphItem(x=[], height=[], width=0.8, brush=color, pen=color, name=PART_LABELS[key])
            self.chart.addItem(item)
            self.bars[key] = item
        outer.addWidget(self.chart, 1)
        self._apply_theme()
        for combo in (self.optimizer, self.precision):
            combo.currentTextChanged.connect(self.refresh)
        self.device.currentTextChanged.connect(self._show_figures)
        self.batch.valueChanged.connect(self._show_figures)
        document.reportChanged.connect(self.refresh)
        document.documentReset.connect(self._reset)
        document.settingsChanged.connect(self._reset)
        CatchUpWhenShown(self, lambda: self.stale, self.refresh)  # its tab raised: costed then
        self._reset()

    def _reset(self) -> None:
        self.batch.blockSignals(True)
        self.batch.setValue(max(1, self.document.graph.batch_size))
        self.batch.blockSignals(False)
        self.refresh()

    def refresh(self, *_: object) -> None:
        """Cost the step again (optimizer, precision or the model changed); a hidden view waits until shown."""
        if out_of_sight(self) and self.train is not None:  # a tab behind another is visible, with nothing seen
            self.stale = True
            return
        self.stale = False
        try:
            self.train = analyze_training(self.document.report, self.optimizer.currentText(),
                                          self.precision.currentText())
        except TrainingError as e:
            self.train = None
            self.values["peak"].setText(f"— ({e})")
        self._show_figures()

    def current_device(self) -> Device | None:
        i = self.device.currentIndex()
        return self.devices[i] if 0 <= i < len(self.devices) else None

    def _show_figures(self, *_: object) -> None:
        train = self.train
        if train is None:
            self._show_chart(1)
            self.bar.set_parts({})
            for key in (*PARTS, "fits", "compute"):
                self.values[key].setText("—")
            return
        batch = self.batch.value()
        self._show_chart(batch)
        parts = memory_parts(train, batch)
        self.bar.set_parts(parts)
        for key in PARTS:
            self.values[key].setText(fmt.nbytes(parts[key]))
        self.values["peak"].setText(fmt.nbytes(train.peak_at(batch)))
        device = self.current_device()
        if device is not None and device.memory_bytes:
            fit = train.max_batch(int(device.memory_bytes))
            self.values["fits"].setText(
                f"does not fit on {device.name}, not even batch 1" if fit == 0 else
                f"fits on {device.name} at any batch" if fit is None else
                f"fits on {device.name} up to batch {fit:,}")
        else:
            self.values["fits"].setText("")
        t = train.totals
        self.values["compute"].setText(f"forward {fmt.si(t.forward_macs)} + backward {fmt.si(t.backward_macs)} "
                                       f"MACs = {fmt.si(t.step_macs)} at the model's batch of {t.batch_size:,}")

    def _show_chart(self, batch: int) -> None:
        rows = self.train.rows if self.train is not None else ()
        scale = batch / max(1, self.train.totals.batch_size) if self.train is not None else 1.0
        mib = float(2 ** 20)
        x = np.arange(len(rows), dtype=float)
        heights = {
            "weights": np.array([r.param_bytes for r in rows], dtype=float) / mib,
            "gradients": np.array([r.grad_bytes for r in rows], dtype=float) / mib,
            "optimizer": np.array([r.optimizer_bytes for r in rows], dtype=float) / mib,
            "activations": np.array([r.saved_activation_bytes for r in rows], dtype=float) * scale / mib,
        }
        base = np.zeros(len(rows))
        for key in PARTS:
            self.bars[key].setOpts(x=x, height=heights[key], y0=base.copy(), width=0.8)
            base = base + heights[key]
        top = float(base.max()) if len(rows) else 1.0
        self.chart.setYRange(0, top * 1.3 or 1.0, padding=0)  # the legend's row above the tallest bar


    def _apply_theme(self) -> None:
        t = Theme.of(palette_is_dark(self.palette()))
        self.chart.setBackground(t.background)
        for name in ("left", "bottom"):
            axis = self.chart.getPlotItem().getAxis(name)
            axis.setPen(pg.mkPen(t.muted))
            axis.setTextPen(pg.mkPen(t.foreground))
        self.legend.setLabelTextColor(t.foreground)
        for _sample, label in self.legend.items:  # pyqtgraph stores the colour; the text is drawn again to take it
            label.setText(label.text)
        ground = QColor(t.background)
        ground.setAlpha(220)  # the legend sits over the bars: a ground keeps its names legible
        self.legend.setBrush(pg.mkBrush(ground))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_theme()
        super().changeEvent(event)
