"""`netcost.check`: a model against a budget in a test suite, as `netcost check` does on the command line.

    def test_model_fits_the_budget():
        netcost.check(MyNet(), torch.randn(1, 3, 224, 224), max_params="30M", max_macs=5e9)

An exceeded budget raises `BudgetExceeded` (an AssertionError, so pytest reports it as a failed assertion) whose
message names each budget, the figure and the five largest contributors to it.
"""

from __future__ import annotations

from typing import Any

from netcost.costing import formatting as fmt
from netcost.model_io.cli.budget import LIMITS, Verdict, parse_amount, report_line, verdicts

from .records import Row
from .report import Report

TOP = 5


class BudgetExceeded(AssertionError):
    """A model over one of its budgets. `report` is its Report, `verdicts` every budget's verdict (`.over`,
    `.label`, `.value`, `.limit`), `contributors` the five largest rows for each exceeded budget's label."""

    def __init__(self, message: str, report: Report, results: list[Verdict],
                 contributors: dict[str, list[Row]]) -> None:
        super().__init__(message)
        self.report = report
        self.verdicts = results
        self.contributors = contributors


def _amount(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected an amount such as 30_000_000 or '30M', not {value!r}")
    if isinstance(value, (int, float)):
        if value < 0 or value != value:
            raise ValueError(f"{name}: {value!r} is not an amount")
        return int(value)
    return parse_amount(str(value))


def _show(value: int, is_bytes: bool) -> str:
    return fmt.nbytes(value) if is_bytes else fmt.si(value)


def _largest(report: Report, key: str, is_bytes: bool, total: int) -> tuple[list[Row], str]:
    rows = sorted((r for r in report.with_options(depth=None).rows if getattr(r, key) > 0),
                  key=lambda r: getattr(r, key), reverse=True)[:TOP]
    lines = [f"  {i}. {r.name} ({r.type}): {_show(getattr(r, key), is_bytes)}"
             f"{f' ({getattr(r, key) / total * 100:.1f} %)' if total else ''}" for i, r in enumerate(rows, 1)]
    return rows, "\n".join(lines)


def check(model: Any, *inputs: Any, max_params: Any = None, max_macs: Any = None, max_flops: Any = None,
          max_activation: Any = None, **options: Any) -> Report:
    """Cost `model` (as `netcost.analyze(model, *inputs, **options)`; a Report is checked as it is) and raise
    `BudgetExceeded` when it is over a budget: `max_params`, `max_macs`, `max_flops` (NetCost FLOPs) and
    `max_activation` (forward activation bytes), each an int or a string such as "30M", "5G", "512MiB".
    Returns the report when every budget holds."""
    from .api import analyze

    limits = {"max_params": _amount("max_params", max_params), "max_macs": _amount("max_macs", max_macs),
              "max_flops": _amount("max_flops", max_flops),
              "max_activation": _amount("max_activation", max_activation)}
    if all(v is None for v in limits.values()):
        raise TypeError("check: give at least one budget (max_params, max_macs, max_flops, max_activation)")
    report = model if isinstance(model, Report) else analyze(model, *inputs, **options)
    if not report.complete:
        raise BudgetExceeded(f"netcost check: {report.label}: not costed ({report.cost_report.incomplete_note})",
                             report, [], {})
    results = verdicts(report.cost_report, limits)
    over = [v for v in results if v.over]
    if not over:
        return report
    lines = [report_line(report.label, results)]
    contributors: dict[str, list[Row]] = {}
    for name, spec in LIMITS.items():
        verdict = next((v for v in over if v.label == spec.label), None)
        if verdict is None or limits[name] is None:
            continue
        rows, text = _largest(report, spec.key, spec.is_bytes, verdict.value)
        contributors[spec.label] = rows
        lines.append(f"largest contributors to {spec.label} ({name}={_show(verdict.limit, spec.is_bytes)}, "
                     f"model {_show(verdict.value, spec.is_bytes)}):")
        lines.append(text)
    raise BudgetExceeded("\n".join(lines), report, results, contributors)
