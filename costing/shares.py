"""Shares as every table, panel and report shows them: a part's fraction of a model's figure for a metric.

A metric is "params" or a counting convention ("macs", "flops", …). A share of a partial total (an incomplete
report) is never shown: its text is a dash. The GUI's Totals panel, layer table and report pages and model_io's
report tables (CSV, Markdown, terminal) all format shares here.
"""

from __future__ import annotations

from . import formatting as fmt
from .conventions import convention_value
from .records import DASH, CostReport, Totals

PARAMS = "params"


def measure(totals: Totals, metric: str) -> int:
    """The figure of `totals` for `metric`: "params" or a counting convention ("macs", "flops", …)."""
    return totals.params if metric == PARAMS else convention_value(totals, metric)


def share(part: Totals | None, whole: Totals, metric: str) -> float:
    """`part`'s fraction of `whole` for `metric` (0 for no part, and for a whole of 0)."""
    total = measure(whole, metric)
    return measure(part, metric) / total if part is not None and total else 0.0


def whole_of(report: CostReport) -> Totals | None:
    """What a share of `report` divides by: its totals, or None while it is incomplete (no share of a partial
    total)."""
    return report.totals if report.complete else None


def share_text(part: Totals | None, whole: Totals | None, metric: str) -> str:
    """'12.3 %', or a dash where there is no whole to divide by (the report is incomplete: None)."""
    return percent_text(None if whole is None else share(part, whole, metric))


def percent_text(fraction: float | None) -> str:
    """A share (or a sum of shares) as shown: '12.3 %'; a dash for None (a share of a partial total)."""
    return DASH if fraction is None else fmt.percent(fraction)


def share_change_text(diff: float) -> str:
    """A change of share in percentage points ('  (+1.2 pp)'); nothing when it did not move."""
    return f"  ({diff * 100:+.1f} pp)" if abs(diff) >= 0.0005 else ""
