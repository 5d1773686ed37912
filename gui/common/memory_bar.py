"""`MemoryBarWidget`: a training step's memory as one horizontal bar, its segments the kinds of memory (weights /
gradients / optimizer states / saved activations) sized by bytes. The Training tab and the Totals panel show it."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from netcost.costing import formatting as fmt
from netcost.gui.common.cost_colors import TRAINING_MEMORY_COLORS

PARTS = ("weights", "gradients", "optimizer", "activations")
PART_LABELS = {"weights": "Weights", "gradients": "Gradients", "optimizer": "Optimizer states",
               "activations": "Saved activations"}


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


def fits_text(fit: int | None, device_name: str) -> str:
    """'fits on DEVICE up to batch N' for `TrainingReport.max_batch`'s answer."""
    if fit == 0:
        return f"does not fit on {device_name}, not even batch 1"
    if fit is None:
        return f"fits on {device_name} at any batch"
    return f"fits on {device_name} up to batch {fit:,}"
