"""The status bar's totals line. Shares are formatted by `netcost.costing.shares` (the Totals panel, the layer
table, the report pages and model_io's report tables use the same functions)."""

from __future__ import annotations

from netcost.costing import CONVENTIONS, CostReport, convention_value
from netcost.costing import formatting as fmt


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
