"""Small input widgets configured in one call, so each form says what its fields are rather than how to set
them up."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QWidget


def double_spin(parent: QWidget, low: float, high: float, step: float, tip: str, *, decimals: int = 2,
                suffix: str = "") -> QDoubleSpinBox:
    """A QDoubleSpinBox over [low, high] that steps by `step`, with its tooltip (and a unit suffix)."""
    box = QDoubleSpinBox(parent)
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setSuffix(suffix)
    box.setToolTip(tip)
    return box


def figures_grid(row_spacing: int) -> QGridLayout:
    """A panel's grid of figures: names in the first column, which takes the spare width, values right of it."""
    grid = QGridLayout()
    grid.setHorizontalSpacing(14)
    grid.setVerticalSpacing(row_spacing)
    grid.setColumnStretch(0, 1)
    return grid
