"""The layer table's columns that come from the document's analyses rather than the row's own costs: the latency
estimate on the Latency dock's device and a training step's figures (backward FLOPs, saved activations; issue 21).
Values are the engine's (`LatencyState`, `TrainingState`); this module only formats them."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from netcost.costing import LayerCost
from netcost.costing import formatting as fmt
from netcost.costing.latency import CONVENTION, RowLatency
from netcost.gui.document.latency_state import LatencyState
from netcost.gui.document.training_state import TrainFigure, TrainingState

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_DISPLAY, _TOOLTIP, _SORT = int(Qt.ItemDataRole.DisplayRole), int(Qt.ItemDataRole.ToolTipRole), int(
    Qt.ItemDataRole.UserRole)
_TITLES = {TrainFigure.BACKWARD_FLOPS: "Backward\nFLOPs", TrainFigure.SAVED: "Saved\nactivations"}


def training_header(state: TrainingState, figure: TrainFigure, role: int) -> Any:
    """A training column's header: its title, and what it counts (with the step's settings) in its tooltip."""
    if role == _DISPLAY:
        return _TITLES[figure]
    if role == _TOOLTIP:
        what = (f"backward FLOPs of one training step at the model's batch ({state.optimizer}, {state.precision}): "
                "2 × the MACs of the input and weight gradients + element-wise work"
                if figure is TrainFigure.BACKWARD_FLOPS else
                f"activations this layer saves for the backward at batch {state.batch:,} ({state.precision}); a "
                "tensor kept by several layers counts once, on the first")
        return what + (f"\n— {state.error}" if state.error else "")
    if role == int(Qt.ItemDataRole.TextAlignmentRole):
        return int(_RIGHT)
    return None


def training_cell(state: TrainingState, cost: LayerCost | None, figure: TrainFigure, role: int) -> Any:
    """A row's training figure: display text, raw value to sort by, and its breakdown as a tooltip."""
    train = state.train() if cost is not None else None
    row = train.by_id.get(cost.node_id) if train is not None and cost is not None else None
    if row is None:
        return -1 if role == _SORT else "—" if role == _DISPLAY and cost is None else None
    value = state.figure(train, row, figure)
    if role == _SORT:
        return value
    if role == _DISPLAY:
        return fmt.si(value) if figure is TrainFigure.BACKWARD_FLOPS else fmt.nbytes(value)
    if role == _TOOLTIP:
        if figure is TrainFigure.BACKWARD_FLOPS:
            return (f"backward MACs {fmt.grouped(row.backward_macs)} (input gradient "
                    f"{fmt.grouped(row.backward_input_macs)}, weight gradient {fmt.grouped(row.backward_weight_macs)})"
                    + (f"; recomputed forward {fmt.grouped(row.recompute_macs)}" if row.recompute_macs else ""))
        return (f"saved for the backward: {fmt.grouped(value)} bytes"
                + (" (checkpointed: only the scope's inputs are kept)" if row.checkpointed else ""))
    return None


def latency_header(latency: LatencyState, role: int) -> Any:
    """The Latency column's header: its title, and the device and formula in its tooltip."""
    if role == Qt.ItemDataRole.DisplayRole:
        return "Latency"
    if role == Qt.ItemDataRole.ToolTipRole:
        device = latency.device
        where = f"on {device.name}" if device else "— choose a device in the Latency dock"
        return f"estimated latency {where} ({CONVENTION}: max(FLOPs / peak, memory access / bandwidth))"
    if role == Qt.ItemDataRole.TextAlignmentRole:
        return int(_RIGHT)
    return None


def latency_tip(latency: LatencyState, lat: RowLatency | None) -> str | None:
    """Which roof bounds a row, and both terms with their arithmetic."""
    est = latency.estimate()
    if est is None:
        return "choose a device in the Latency dock to estimate each layer's latency"
    if lat is None:
        return None
    peak, bw = fmt.si(est.peak_flops, "FLOP/s"), fmt.si(est.bandwidth, "B/s")
    return (f"{lat.bound}-bound on {est.device.name} ({est.peak_key})\n"
            f"compute: {fmt.si(lat.flops, 'FLOPs')} / {peak} = {fmt.duration(lat.compute_s)}\n"
            f"memory: {fmt.nbytes(lat.bytes)} / {bw} = {fmt.duration(lat.memory_s)}\n"
            f"launch floor: {fmt.duration(est.device.launch_floor_s)} per kernel\n"
            f"({CONVENTION})")


