"""`summary --device NAME` and `--measure`: the roofline estimate and measured times added to every format.

JSON rows gain `latency_s` and `bound` (with --device) and `measured_s` (with --measure, null for a row no
module of that path ran); `totals` gains `latency_s` / `measured_s`; top-level `latency` and `measurement`
describe the device, the convention and the run. Text formats gain columns and footer lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netcost.costing import CostReport
from netcost.costing import formatting as fmt
from netcost.costing.latency import CONVENTION_TEXT, LatencyEstimate, RowLatency, device_mismatch, measured_correlation

from .. import escape, strict_json
from ..files import tables
from ..worker.measure_client import Measurement


@dataclass(frozen=True)
class LatencySummary:
    """What a summary shows beside the counts: an estimate, a measurement, or both."""

    report: CostReport
    estimate: LatencyEstimate | None = None
    measurement: Measurement | None = None

    def measured_rows(self) -> list[float | None]:
        return self.measurement.row_seconds(self.report) if self.measurement else []

    def spans(self, depth: int | None) -> list[tuple[int, int]]:
        return tables.visible_spans(self.report, depth)

    def estimated(self, depth: int | None) -> list[RowLatency]:
        assert self.estimate is not None
        return [self.estimate.span(a, b) for a, b in self.spans(depth)]

    def measured(self, depth: int | None) -> list[float | None]:
        rows = self.measured_rows()
        out: list[float | None] = []
        for a, b in self.spans(depth):
            got = [s for s in rows[a:b + 1] if s is not None]
            out.append(sum(got) if got else None)
        return out

    def correlation(self) -> float | None:
        """Spearman rank correlation of estimated and measured per-layer times (rows that ran and do work)."""
        if self.estimate is None or self.measurement is None:
            return None
        return measured_correlation(self.estimate, self.measured_rows())


def to_dict(view: LatencySummary, convention: str, depth: int | None) -> dict[str, Any]:
    d = tables.to_dict(view.report, convention, depth)
    if view.estimate is not None:
        est = view.estimate
        for row, lat in zip(d["layers"], view.estimated(depth), strict=True):
            row["latency_s"], row["bound"] = lat.seconds, lat.bound
        d["totals"]["latency_s"] = est.total_s
        d["latency"] = {"device": est.device.name, "peak_dtype": est.peak_key, "peak_flops": est.peak_flops,
                        "memory_bandwidth": est.bandwidth, "ridge_point": est.ridge_point, "bound": est.total.bound,
                        "convention": CONVENTION_TEXT}
    if view.measurement is not None:
        m = view.measurement
        measured = view.measured(depth)
        for row, s in zip(d["layers"], measured, strict=True):
            row["measured_s"] = s
        d["totals"]["measured_s"] = sum(s for s in view.measured_rows() if s is not None)
        d["measurement"] = {"device": m.device, "threads": m.threads, "repeats": m.repeats, "statistic": "median",
                            "forward_s": m.forward_s, "rank_correlation": view.correlation()}
    return d


def _columns(view: LatencySummary, depth: int | None, raw: bool) -> tables.ExtraColumns:
    cols: tables.ExtraColumns = {}

    def show(s: float | None) -> str:
        return "" if s is None else repr(s) if raw else fmt.duration(s)

    if view.estimate is not None:
        est = view.estimated(depth)
        cols["latency_s" if raw else "Est. latency"] = ([show(e.seconds) for e in est], show(view.estimate.total_s))
        cols["bound" if raw else "Bound"] = ([e.bound for e in est], view.estimate.total.bound)
    if view.measurement is not None:
        total = sum(s for s in view.measured_rows() if s is not None)
        cols["measured_s" if raw else "Measured"] = ([show(s) for s in view.measured(depth)], show(total))
    return cols


def footer(view: LatencySummary) -> list[str]:
    lines = []
    est = view.estimate
    if est is not None:
        t = est.total
        compute = sum(r.seconds for r in est.rows if r.bound == "compute")
        share = compute / t.seconds if t.seconds else 0.0
        lines.append(f"Estimated latency on {est.device.name}: {fmt.duration(t.seconds)} "
                     f"({est.peak_key} peak {fmt.si(est.peak_flops, 'FLOP/s')}, "
                     f"{fmt.si(est.bandwidth, 'B/s')}, ridge point {est.ridge_point:.1f} FLOPs/B; "
                     f"compute-bound {fmt.percent(share)} of the time) — {CONVENTION_TEXT}")
    m = view.measurement
    if m is not None:
        total = sum(s for s in view.measured_rows() if s is not None)
        rho = view.correlation()
        corr = f"; rank correlation with the estimate {rho:.2f}" if rho is not None else ""
        lines.append(f"Measured on {m.device} ({m.threads} threads, median of {m.repeats}): rows add up to "
                     f"{fmt.duration(total)}, the whole forward without timing hooks {fmt.duration(m.forward_s)}"
                     f"{corr}")
        warning = device_mismatch(m.device, est.device) if est is not None else None
        if warning:
            lines.append(f"Warning: {warning}")
    return lines


def render(view: LatencySummary, format_key: str, convention: str = "flops", depth: int | None = None) -> str:
    """The summary in `format_key` (tables.FORMATS) with the latency figures added."""
    if format_key == "json":
        return strict_json.dumps(to_dict(view, convention, depth), indent=2) + "\n"
    if format_key == "csv":
        return tables.to_csv(view.report, convention, depth, _columns(view, depth, raw=True))
    extra = _columns(view, depth, raw=False)
    if format_key == "markdown":
        return tables.to_markdown(view.report, convention, depth, extra) + "".join(
            f"- {escape.markdown(x)}\n" for x in footer(view))
    return tables.to_table(view.report, convention, depth, extra) + "".join(
        f"{escape.printable(x)}\n" for x in footer(view))  # the device's name is the user's text
