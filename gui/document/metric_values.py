"""The value a view colours by, for one row, one container or the whole report.

A `Totals` metric reads the engine's record (`cost_colors.metric_value`); latency is the roofline estimate of the
document's `LatencyState` on its chosen device, a container's being the sum of its rows (they run one after
another). Without a device every latency is 0, which the colour map paints as "none". A training metric (backward
FLOPs, saved activations, training memory) is the step of the document's `TrainingState`, a container's the sum of
its rows.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

from netcost.costing import CostReport, HierarchyNode, LayerCost
from netcost.gui.common.cost_colors import METRICS, MetricSource, metric_field, metric_label
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.latency_state import LatencyState
from netcost.gui.document.training_state import TrainFigure, TrainingState

Subject = LayerCost | HierarchyNode | CostReport


def value_of(document: CostDocument, subject: Subject, metric: str) -> float:
    return getter(document, metric)(subject)


def getter(document: CostDocument, metric: str) -> Callable[[Subject], float]:
    """`value_of` for one metric, looked up once (a refresh calls it for every row)."""
    if METRICS[metric].source is MetricSource.TRAINING:
        training, figure = TrainingState.of(document), TrainFigure(metric)
        return lambda subject: training.value(subject, figure)
    if METRICS[metric].derived:
        state = LatencyState.of(document)

        def seconds(subject: Subject) -> float:
            lat = state.latency_of(subject)
            return lat.seconds if lat is not None else 0.0
        return seconds
    return attrgetter(f"totals.{metric_field(metric, document.convention)}")


def title_of(document: CostDocument, metric: str) -> str:
    """'FLOPs (NetCost)', 'Latency (roofline) on A100 80GB SXM', ... (the colour bar's and tooltips' wording)."""
    label = metric_label(metric, document.convention)
    if METRICS[metric].source is MetricSource.TRAINING:
        return f"{METRICS[metric].name} (training, batch {TrainingState.of(document).batch:,})"
    if not METRICS[metric].derived:
        return label
    device = LatencyState.of(document).device
    return f"{label} on {device.name}" if device else f"{label}: choose a device in the Latency dock"
