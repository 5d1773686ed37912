"""Totals and shares as every view shows them: the Totals panel, the status bar, the layer table and the reports.

A share is a part's fraction of the model's figure for a metric ("params" or a counting convention); a share of a
partial total (an incomplete report) is never shown: its text is a dash.
"""

from __future__ import annotations

from netcost.costing import CONVENTIONS, CostReport, Totals, convention_value
from netcost.costing import formatting as fmt
from netcost.costing.records import DASH

PARAMS = "params"


def measure(totals: Totals, metric: str) -> int:
    """The figure of `totals` for `metric`: "params" or a counting convention ("macs", "flops", …)."""
    return totals.params if metric == PARAMS else convention_value(totals, metric)


def share(part: Totals | None, whole: Totals, metric: str) -> float:
    """`part`'s fraction of `whole` for `metric` (0 for no part, and for a whole of 0)."""
    total = measure(whole, metric)
    return measure(part, metric) / total if part is not None and total else 0.0


def share_text(part: Totals | None, whole: Totals | None, metric: str) -> str:
    """'12.3 %', or a dash where there is no whole to divide by (the report is incomplete: None)."""
    return percent_text(None if whole is None else share(part, whole, metric))


def percent_text(fraction: float | None) -> str:
    """A share (or a sum of shares) as shown: '12.3 %'; a dash for None (a share of a partial total)."""
    return DASH if fraction is None else fmt.percent(fraction)


def share_change_text(diff: float) -> str:
    """A change of share in percentage points ('  (+1.2 pp)'); nothing when it did not move."""
    return f"  ({diff * 100:+.1f} pp)" if abs(diff) >= 0.0005 else ""


def status_totals(report: CostReport, convention: str) -> tuple[str, str]:
    """The status bar's totals line and its tooltip: params, MACs, the chosen measure and the weights' size."""
    if not report.complete:  # a partial sum is no total
        return (f"— params   ·   — MACs   ·   {report.incomplete_note}",
                "the totals are shown once every node is costed")
    t, conv = report.totals, CONVENTIONS[convention]
    parts = [f"{fmt.si(t.params)} params", f"{fmt.si(t.macs)} MACs"]
    if convention != "macs":
        parts.append(f"{fmt.si(convention_value(t, convention))} {conv.label}")
    parts.append(f"{fmt.nbytes(t.param_bytes)} ({report.dtype})")
    return "   ·   ".join(parts), f"{fmt.grouped(t.params)} parameters; {conv.label}: {conv.description}"
