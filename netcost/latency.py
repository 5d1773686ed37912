"""`Report.latency(device)`: the roofline latency estimate of a report's model on a device, exactly what
`netcost summary MODEL --device NAME` prints (docs/latency.md has the convention)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netcost.costing.latency import LatencyEstimate, estimate
from netcost.model_io.cli.latency_tables import LatencySummary, render
from netcost.model_io.files import device_files

from .text_forms import TextForms

if TYPE_CHECKING:
    from netcost.report import Report


class Latency(TextForms):
    """A report's latency estimate on one device. `str()` is `netcost summary --device`'s table (each layer's
    estimate and bound beside its counts); `to_dict()`, `to_json()`, `to_csv()` and `to_markdown()` its formats;
    `estimate` the engine's record (per row: seconds and bound; in total: `total_s`). An unknown device or peak
    raises ValueError naming the devices there are."""

    def __init__(self, report: Report, device: str, peak: str | None = None) -> None:
        self.report = report
        self.device = device_files.lookup(device)
        self.estimate: LatencyEstimate = estimate(report.cost_report, self.device, peak)

    @property
    def total_s(self) -> float:
        """The whole model's estimated seconds."""
        return self.estimate.total_s

    def _format(self, form: str) -> str:
        view = LatencySummary(self.report.cost_report, self.estimate, None)
        return render(view, form, self.report.convention, self.report.depth)

    def __repr__(self) -> str:
        return f"<netcost.Latency {self.report.label} on {self.device.name}: {self.total_s * 1e3:.3g} ms>"
