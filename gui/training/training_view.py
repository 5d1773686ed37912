"""`TrainingView`: the document's model in training (issue 21): optimizer, precision, a batch what-if and a device
next to each other (the document's one `TrainingState`, shared with the toolbar's switch), the step's memory as a
stacked bar (weights / gradients / optimizer states / saved activations), the peak and "fits on DEVICE up to batch
N", and a per-layer chart of training memory stacked by kind — the conv layers' saved activations against the fully
connected layers' weights, gradients and states.

The step is the state's (`netcost.costing.training`, pure); freezing a layer (`CostDocument.set_trainable`) or a
scope (`TrainingState.set_scope`) is one undo step, which this view follows like every other edit.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from netcost.costing import formatting as fmt
from netcost.costing.devices import Device
from netcost.costing.training import TrainingReport
from netcost.gui.common.cost_colors import TRAINING_MEMORY_COLORS, Theme, palette_is_dark
from netcost.gui.common.memory_bar import PART_LABELS, PARTS, MemoryBarWidget, fits_text
from netcost.gui.common.on_screen import CatchUpWhenShown, out_of_sight
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.training_state import TrainingState
from netcost.gui.training.training_controls import TrainingControls


class TrainingView(QWidget):
    def __init__(self, document: CostDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.state = TrainingState.of(document)
        self.train: TrainingReport | None = None
        self.stale = False  # the model changed while the view was hidden: cost the step when it shows
        outer = QVBoxLayout(self)
        self.controls = TrainingControls(self.state, self, switch=False, device=True)
        self.optimizer, self.precision, self.batch = (self.controls.optimizer, self.controls.precision,
                                                      self.controls.batch)
        self.device = self.controls.device
        outer.addWidget(self.controls)
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
        self.state.changed.connect(self.refresh)
        document.reportChanged.connect(self.refresh)
        CatchUpWhenShown(self, lambda: self.stale, self.refresh)  # its tab raised: costed then
        self.refresh()

    def refresh(self, *_: object) -> None:
        """Cost the step again (optimizer, precision or the model changed); a hidden view waits until shown."""
        if out_of_sight(self) and self.train is not None:  # a tab behind another is visible, with nothing seen
            self.stale = True
            return
        self.stale = False
        self.train = self.state.train()
        self._show_figures()
        if self.train is None:
            self.values["peak"].setText(f"— ({self.state.error})")

    def current_device(self) -> Device | None:
        return self.state.device

    def _show_figures(self, *_: object) -> None:
        train = self.train
        if train is None:
            self._show_chart(1)
            self.bar.set_parts({})
            for key in (*PARTS, "fits", "compute"):
                self.values[key].setText("—")
            return
        batch = self.state.batch
        self._show_chart(batch)
        parts = self.state.parts().as_dict()
        self.bar.set_parts(parts)
        for key in PARTS:
            self.values[key].setText(fmt.nbytes(parts[key]))
        self.values["peak"].setText(fmt.nbytes(train.peak_at(batch)))
        device = self.current_device()
        if device is not None and device.memory_bytes:
            self.values["fits"].setText(fits_text(train.max_batch(int(device.memory_bytes)), device.name))
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
