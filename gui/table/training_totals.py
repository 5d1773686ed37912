"""`TrainingTotalsWidget`: the Totals panel's training section (issue 21), shown in Training mode: the step's memory
as the Training tab's stacked bar (weights / gradients / optimizer states / saved activations), each part, the
estimated peak and "fits on DEVICE up to batch N". Figures are the document's `TrainingState` (the engine's step)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from netcost.costing import formatting as fmt
from netcost.costing.records import DASH
from netcost.gui.common.cost_colors import TRAINING_MEMORY_COLORS
from netcost.gui.common.inputs import figures_grid
from netcost.gui.common.memory_bar import PART_LABELS, PARTS, MemoryBarWidget, fits_text
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.training_state import ScopeKind, TrainingState


class TrainingTotalsWidget(QWidget):
    def __init__(self, document: CostDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.state = TrainingState.of(document)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 4, 0, 0)
        outer.setSpacing(4)
        self.title = QLabel(self)
        bold = QFont(self.font())
        bold.setBold(True)
        self.title.setFont(bold)
        self.title.setWordWrap(True)
        outer.addWidget(self.title)
        self.bar = MemoryBarWidget(self)
        outer.addWidget(self.bar)
        grid = figures_grid(2)
        self.values: dict[str, QLabel] = {}
        for i, key in enumerate((*PARTS, "peak")):
            text = "Peak (steady-state step)" if key == "peak" else \
                f"<span style='color:{TRAINING_MEMORY_COLORS[key].name()}'>■</span> {PART_LABELS[key]}"
            value = QLabel(self)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(QLabel(text, self), i, 0)
            grid.addWidget(value, i, 1)
            self.values[key] = value
        outer.addLayout(grid)
        self.fits = QLabel(self)
        self.fits.setWordWrap(True)
        outer.addWidget(self.fits)
        self.state.changed.connect(self.refresh)
        document.reportChanged.connect(lambda _first: self.refresh())
        document.documentReset.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        s = self.state
        if self.isHidden() == s.training:
            self.setVisible(s.training)
        if not s.training:
            return  # (no step is costed in Inference mode)
        scopes = "; ".join(f"{'frozen' if k is ScopeKind.FREEZE else 'checkpointed'}: {', '.join(v)}"
                           for k, v in s.scopes.items() if v)
        self.title.setText(f"Training step ({s.optimizer}, {s.precision}, batch {s.batch:,})"
                           + (f" — {scopes}" if scopes else ""))
        train, parts = s.train(), s.parts()
        if train is None or parts is None:
            self.bar.set_parts({})
            for v in self.values.values():
                v.setText(DASH)
            self.fits.setText(s.error)
            return
        d = parts.as_dict()
        self.bar.set_parts(d)
        for key in PARTS:
            self.values[key].setText(fmt.nbytes(d[key]))
            self.values[key].setToolTip(fmt.grouped(d[key]))
        peak = train.peak_at(s.batch)
        self.values["peak"].setText(fmt.nbytes(peak))
        self.values["peak"].setToolTip(fmt.grouped(peak))
        device = s.device
        self.fits.setText(fits_text(train.max_batch(int(device.memory_bytes)), device.name)
                          if device is not None and device.memory_bytes else "")
