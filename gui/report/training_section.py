"""The report's training section (issue 21), present when the document's `TrainingState` is in Training mode (the
window's switch, or `netcost report --train`): the step's memory as the window's stacked bar, its totals (memory,
peak, "fits on DEVICE up to batch N", compute) and the layers that hold the most training memory. Figures are
the state's step (the engine's `netcost.costing.training`); this module only lays them out."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QFontMetricsF, QPainter

from netcost.costing import formatting as fmt
from netcost.costing.training import TrainingReport
from netcost.gui.common.cost_colors import TRAINING_MEMORY_COLORS
from netcost.gui.common.memory_bar import PART_LABELS, PARTS, fits_text
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.training_state import ScopeKind, TrainFigure, TrainingState
from netcost.gui.report.blocks import Cell, Column, HeadingBlock, RowBlock, TableBlock
from netcost.gui.report.page_layout import Block
from netcost.gui.report.theme import ReportTheme

BAR_H = 18.0


class MemoryBarBlock(Block):
    """The step's memory as one stacked bar with its legend underneath (as the window's Totals panel)."""

    def __init__(self, theme: ReportTheme, parts: dict[str, int]) -> None:
        self.theme, self.parts = theme, parts
        self.font = theme.font(theme.body_px)

    def height(self, width: float) -> float:
        return BAR_H + 8 + QFontMetricsF(self.font).height() + 2

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        total = sum(self.parts.values())
        x = rect.left()
        for key in PARTS:
            w = rect.width() * self.parts.get(key, 0) / total if total else 0.0
            painter.fillRect(QRectF(x, rect.top(), w, BAR_H), TRAINING_MEMORY_COLORS[key])
            x += w
        painter.setFont(self.font)
        fm = QFontMetricsF(self.font)
        x, y = rect.left(), rect.top() + BAR_H + 8
        for key in PARTS:  # the legend: a swatch and the kind, in bar order
            painter.fillRect(QRectF(x, y + 2, 10, 10), TRAINING_MEMORY_COLORS[key])
            painter.setPen(self.theme.text)
            text = f"{PART_LABELS[key]} {fmt.nbytes(self.parts.get(key, 0))}"
            painter.drawText(QPointF(x + 14, y + fm.ascent()), text)
            x += 14 + fm.horizontalAdvance(text) + 16


def training_blocks(document: CostDocument, theme: ReportTheme, top_n: int = 10) -> list[Block]:
    """The section's blocks; none outside Training mode."""
    state = TrainingState.of(document)
    if not state.training:
        return []
    train = state.train()
    heading = HeadingBlock(theme, "Training step", _settings_note(state))
    if train is None:
        return [heading, TableBlock(theme, [Column("Not costed", elastic=True)], [[state.error]])]
    parts = state.parts()
    assert parts is not None
    return [heading, MemoryBarBlock(theme, parts.as_dict()),
            RowBlock([_totals_table(state, train, theme), _top_table(state, train, theme, top_n)], [0.46, 0.54],
                     min_width=330)]


def _settings_note(state: TrainingState) -> str:
    scopes = [f"{'frozen' if k is ScopeKind.FREEZE else 'checkpointed'}: {', '.join(v)}"
              for k, v in state.scopes.items() if v]
    return "; ".join([f"{state.optimizer}, {state.precision}, batch {state.batch:,}", *scopes])


def _totals_table(state: TrainingState, train: TrainingReport, theme: ReportTheme) -> TableBlock:
    parts = state.parts()
    assert parts is not None
    t = train.totals
    peak = train.peak_at(state.batch)
    rows: list[list[Cell]] = [[PART_LABELS[k], fmt.nbytes(v), fmt.grouped(v)] for k, v in parts.as_dict().items()]
    rows.append(["Peak (steady-state step)", fmt.nbytes(peak), fmt.grouped(peak)])
    device = state.device
    if device is not None and device.memory_bytes:
        rows.append([(fits_text(train.max_batch(int(device.memory_bytes)), device.name), theme.muted), "", ""])
    rows += [["MACs, forward", fmt.si(t.forward_macs), fmt.grouped(t.forward_macs)],
             ["MACs, backward", fmt.si(t.backward_macs), fmt.grouped(t.backward_macs)]]
    if t.recompute_macs:
        rows.append(["MACs, recomputed", fmt.si(t.recompute_macs), fmt.grouped(t.recompute_macs)])
    rows.append(["MACs, step", fmt.si(t.step_macs), fmt.grouped(t.step_macs)])
    columns = [Column("Quantity", elastic=True), Column("Value", right=True), Column("Exact", right=True)]
    return TableBlock(theme, columns, rows, caption="Memory and compute of one step")


def _top_table(state: TrainingState, train: TrainingReport, theme: ReportTheme, top_n: int) -> TableBlock:
    names = {r.node_id: (r.path or r.name or f"{r.type}-{r.index}") for r in train.report.layers}
    ranked = sorted(train.rows, key=lambda r: -state.figure(train, r, TrainFigure.MEMORY))[:top_n]
    rows: list[list[Cell]] = [
        [names.get(r.node_id, r.name), fmt.nbytes(state.figure(train, r, TrainFigure.MEMORY)),
         fmt.nbytes(r.grad_bytes + r.optimizer_bytes), fmt.nbytes(state.figure(train, r, TrainFigure.SAVED))]
        for r in ranked if state.figure(train, r, TrainFigure.MEMORY) > 0]
    columns = [Column("Layer", elastic=True), Column("Training mem.", right=True), Column("Grads + states", right=True),
               Column("Saved act.", right=True)]
    return TableBlock(theme, columns, rows or [["no layer holds any", "", "", ""]],
                      caption=f"The {top_n} layers with the most training memory")
