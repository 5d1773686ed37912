"""The one colour map of NetCost: cost value -> colour (diagram, charts, colour bar and exports), plus the fixed
category colours and the metric definitions the views colour by.

Views never compute costs: a metric is a field of `costing.Totals` (FLOPs follow the document's convention), or a
derived analysis of the report (latency: `gui.metric_values` asks the document's latency estimate), and this module
only maps those numbers to colours and labels.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from netcost.costing import CATEGORIES, CONVENTIONS, Totals
from netcost.costing.formatting import duration, nbytes, percent, si
from netcost.gui.common.palette import DARK, LIGHT, palette_is_dark  # noqa: F401 - palette_is_dark: still importable here

COLORMAP_NAME = "viridis"  # perceptually uniform, colour-blind safe, prints in greyscale as a monotone ramp
_LUT_SIZE = 256
# Built once from pyqtgraph's bundled map: a constant table, not a cache of any document's data.
_LUT: tuple[QColor, ...] = tuple(
    QColor(int(r), int(g), int(b))
    for r, g, b, *_ in pg.colormap.get(COLORMAP_NAME).getLookupTable(0.0, 1.0, _LUT_SIZE, alpha=False))
ZERO_COLOR = QColor(150, 150, 150)  # layers with none of the metric: neutral, not "the cheapest colour"

# Fixed, distinguishable category colours (Tableau 10): conv blue vs linear orange carries the product's story.
CATEGORY_COLORS: dict[str, QColor] = {
    "conv": QColor("#4E79A7"),
    "linear": QColor("#F28E2B"),
    "recurrent": QColor("#B07AA1"),
    "attention": QColor("#E15759"),
    "norm": QColor("#59A14F"),
    "activation": QColor("#76B7B2"),
    "pool": QColor("#9C755F"),
    "embedding": QColor("#FF9DA7"),
    "other": QColor("#BAB0AC"),
}
assert tuple(CATEGORY_COLORS) == CATEGORIES


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, CATEGORY_COLORS["other"]))


class MetricSource(Enum):
    """Where a metric's values come from (gui.metric_values reads the derived ones)."""

    TOTALS = "totals"  # a field of the engine's `Totals`
    LATENCY = "latency"  # the roofline estimate on the Latency dock's device
    TRAINING = "training"  # the training step of the document's `TrainingState` (issue 21)


@dataclass(frozen=True)
class Metric:
    key: str  # "flops", "macs", "params", "memory"
    field: str | None  # the Totals field; None: the document's FLOPs convention
    name: str  # short menu text
    is_bytes: bool = False
    source: MetricSource = MetricSource.TOTALS

    @property
    def derived(self) -> bool:
        """Not a Totals field: an analysis of the report (gui.metric_values)."""
        return self.source is not MetricSource.TOTALS


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("flops", None, "FLOPs"),
    Metric("macs", "macs", "MACs"),
    Metric("params", "params", "Params"),
    Metric("memory", "memory_access_bytes", "Memory access", is_bytes=True),
    Metric("latency", "latency_s", "Latency", source=MetricSource.LATENCY),  # roofline seconds on a device
    # a training step's figures per node, offered in Training mode (keys are gui.document.training_state's
    # TrainFigure values)
    Metric("backward_flops", "backward_flops", "Backward FLOPs", source=MetricSource.TRAINING),
    Metric("saved_activations", "saved_activations", "Saved activations", is_bytes=True,
           source=MetricSource.TRAINING),
    Metric("training_memory", "training_memory", "Training memory", is_bytes=True, source=MetricSource.TRAINING),
)}
TRAINING_METRICS = tuple(k for k, m in METRICS.items() if m.source is MetricSource.TRAINING)


def metric_field(metric: str, convention: str = "flops") -> str:
    """The `Totals` field behind `metric` (FLOPs read the convention's own field)."""
    return METRICS[metric].field or convention


def metric_value(totals: Totals, metric: str, convention: str = "flops") -> int:
    if METRICS[metric].derived:
        raise ValueError(f"{metric} is not a field of the totals: gui.metric_values.value_of gives it")
    return int(getattr(totals, metric_field(metric, convention)))


def convention_label(convention: str) -> str:
    """'FLOPs (NetCost)', 'thop flops (MACs)': every FLOPs figure says which convention it counts."""
    c = CONVENTIONS[convention]
    return f"{c.label} (NetCost)" if c.label == c.unit else f"{c.label} ({c.unit})"


def metric_label(metric: str, convention: str = "flops") -> str:
    m = METRICS[metric]
    if m.field is None:
        return convention_label(convention)
    if metric == "memory":
        return "Memory access (bytes)"
    if metric == "latency":
        return "Latency (roofline)"
    if m.is_bytes:
        return f"{m.name} (bytes)"
    return m.name


def format_metric(metric: str, value: float, convention: str = "flops") -> str:
    """'1.72 GFLOPs', '861 MMACs', '61.3 M params', '233.7 MiB' (formatting module, units always shown)."""
    m = METRICS[metric]
    if m.is_bytes:
        return nbytes(value)
    if metric == "latency":
        return duration(value)
    if m.field is None:
        return si(value, CONVENTIONS[convention].unit)
    if metric == "params":
        return f"{si(value)} params"
    if metric == "backward_flops":
        return si(value, "FLOPs")
    return si(value, m.name)


def share_text(fraction: float, digits: int = 1) -> str:
    """'39.0 %', and '<0.1 %' rather than a misleading '0.0 %' for a small non-zero share."""
    floor = 0.5 * 10 ** -(digits + 2)
    return f"<{percent(2 * floor, digits)}" if 0 < fraction < floor else percent(fraction, digits)


# The colour scales the diagram offers: linear (the default: colour proportional to cost, so the few layers that
# hold most of it stand out, AlexNet's conv2 against its cheap ReLUs, fc1 for params), log (every decade its own
# band: tells cheap layers apart, but flattens a 100x difference into a few shades), and share (a layer's colour is
# the cumulative share of the total held by the layers at or below its cost: the top colours mark the layers that
# together hold most of it).
SCALES: dict[str, str] = {"linear": "linear scale", "log": "log scale", "share": "cumulative share"}


class CostScale:
    """Maps values to the shared colour map on a linear (default), log or cumulative-share scale.

    Zero (or negative) values get ZERO_COLOR: on a log scale they have no position, and on a linear one painting
    them with the darkest colour would read as "a little cost"."""

    def __init__(self, vmin: float, vmax: float, log: bool = False, mode: str | None = None,
                 values: Iterable[float] = ()) -> None:
        self.mode = mode or ("log" if log else "linear")
        if self.mode not in SCALES:
            raise KeyError(self.mode)
        self.log = self.mode == "log"
        # log: counts start at 1; seconds (latency) are positive fractions and keep their own minimum
        self.vmin = (vmin if vmin > 0 else 1.0) if self.log else max(vmin, 0.0)
        self.vmax = max(vmax, self.vmin)
        # share: the sorted positive values and their running sums (fraction = sum of values <= v / total)
        self._sorted = sorted(v for v in values if v > 0) if self.mode == "share" else []
        self._cum = list(itertools.accumulate(self._sorted))

    @classmethod
    def from_values(cls, values: Iterable[float], log: bool = False, mode: str | None = None) -> CostScale:
        positive = list(filter((0.0).__lt__, values))  # (v > 0, in C: a 100k-node chain's boxes each refresh)
        mode = mode or ("log" if log else "linear")
        if not positive:
            return cls(1.0, 1.0, mode=mode)
        return cls(min(positive) if mode != "linear" else 0.0, max(positive), mode=mode, values=positive)

    def fraction(self, value: float) -> float:
        """Position of `value` on the bar, 0..1 (clipped)."""
        if self.mode == "share":
            if not self._cum:
                return 1.0
            k = bisect.bisect_right(self._sorted, value)
            return self._cum[k - 1] / self._cum[-1] if k else 0.0
        if self.vmax <= self.vmin:
            return 1.0
        if self.log:
            v = max(value, self.vmin)
            t = (math.log10(v) - math.log10(self.vmin)) / (math.log10(self.vmax) - math.log10(self.vmin))
        else:
            t = (value - self.vmin) / (self.vmax - self.vmin)
        return min(max(t, 0.0), 1.0)

    def value_at(self, t: float) -> float:
        """Inverse of `fraction` (for colour-bar ticks)."""
        if self.mode == "share":
            if not self._cum:
                return self.vmax
            k = bisect.bisect_left(self._cum, t * self._cum[-1])
            return self._sorted[min(k, len(self._sorted) - 1)]
        if self.log:
            return 10 ** (math.log10(self.vmin) + t * (math.log10(self.vmax) - math.log10(self.vmin)))
        return self.vmin + t * (self.vmax - self.vmin)

    def color(self, value: float) -> QColor:
        if value <= 0:
            return QColor(ZERO_COLOR)
        return QColor(_LUT[round(self.fraction(value) * (_LUT_SIZE - 1))])

    def ticks(self) -> list[float]:
        """Round tick values inside the range: decades on a log scale, ~5 nice steps on a linear one (a share
        scale's ticks are fractions: see `labelled_ticks`)."""
        if self.vmax <= self.vmin:
            return [self.vmax]
        if self.mode == "share":
            return []
        if self.log:
            lo, hi = math.ceil(math.log10(self.vmin)), math.floor(math.log10(self.vmax))
            step = max(1, math.ceil((hi - lo + 1) / 7))
            return [10.0 ** e for e in range(lo, hi + 1, step)]
        step = _nice_step((self.vmax - self.vmin) / 5)
        first = math.ceil(self.vmin / step) * step
        return [float(v) for v in np.arange(first, self.vmax + step * 1e-9, step)]

    def labelled_ticks(self, fmt: Callable[[float], str]) -> list[tuple[float, str]]:
        """(position 0..1, label) of the colour bar's ticks: values, or on a share scale the share of the total
        held by everything at or below that colour."""
        if self.mode == "share":
            return [(t, percent(t, 0)) for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
        return [(self.fraction(v), fmt(v)) for v in [self.vmin, *self.ticks(), self.vmax]]


def _nice_step(raw: float) -> float:
    e = 10 ** math.floor(math.log10(raw))
    return next(m * e for m in (1, 2, 2.5, 5, 10) if m * e >= raw)


def gradient_stops() -> list[tuple[float, QColor]]:
    """Stops for drawing the colour bar with a QLinearGradient."""
    return [(i / (_LUT_SIZE - 1), _LUT[i]) for i in range(0, _LUT_SIZE, 16)] + [(1.0, _LUT[-1])]


_INK: dict[int, QColor] = {}  # background rgba -> ink (every block asks on every paint; colours repeat)


def text_color_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on `background` (relative luminance). The colour returned is
    shared: copy it before changing it."""
    key = background.rgba()
    ink = _INK.get(key)
    if ink is None:
        r, g, b = (c / 255 for c in (background.red(), background.green(), background.blue()))
        lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
        ink = QColor(20, 20, 20) if lum > 0.45 else QColor(255, 255, 255)
        if len(_INK) > 4096:
            _INK.clear()
        _INK[key] = ink
    return ink


@dataclass(frozen=True)
class Theme:
    """Neutral colours of a view in the light or dark palette (exports pass `dark` explicitly)."""

    dark: bool
    background: QColor
    foreground: QColor
    muted: QColor
    frame: QColor
    selection: QColor

    @classmethod
    def of(cls, dark: bool) -> Theme:
        if dark:
            return cls(True, QColor(30, 31, 34), QColor(230, 230, 230), QColor(150, 152, 158), QColor(90, 94, 102),
                       DARK.selection)
        return cls(False, QColor(255, 255, 255), QColor(25, 25, 25), QColor(110, 110, 110), QColor(175, 178, 185),
                   LIGHT.selection)


# The parts of a training step's memory (the Training view's stacked bar and per-layer chart), Tableau 10 as above:
# weights, their gradients and the optimizer's states in the blue-orange family of parameters, activations green.
TRAINING_MEMORY_COLORS: dict[str, QColor] = {
    "weights": QColor("#4E79A7"),
    "gradients": QColor("#F28E2B"),
    "optimizer": QColor("#EDC948"),
    "activations": QColor("#59A14F"),
}
