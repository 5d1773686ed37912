"""`netcost check`: a model against a budget (parameters, MACs, FLOPs, activation memory), for CI pipelines.

One line of report; over budget is exit status 1, within it 0 (a model that cannot be loaded is 2, as for every
command). Under GitHub Actions (`GITHUB_ACTIONS=true`) an exceeded budget is printed as an `::error` annotation so
the run's summary shows it. No torch here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from netcost.costing import CostReport
from netcost.costing import formatting as fmt

_PREFIX = {"": 1, "k": 10 ** 3, "m": 10 ** 6, "g": 10 ** 9, "t": 10 ** 12,
           "ki": 2 ** 10, "mi": 2 ** 20, "gi": 2 ** 30, "ti": 2 ** 40}
MAX_AMOUNT = 10 ** 30  # far above any model (a 1e400 budget would not even print)
_AMOUNT = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:e[0-9]+)?)\s*([kmgt]i?)?b?\s*$", re.I)


def parse_amount(text: str) -> int:
    """`30M` -> 30,000,000; `5G`, `1.5e9`, `25557032`; bytes as `200MB` (10^6) or `1.5GiB` (2^30). ValueError."""
    m = _AMOUNT.match(text)
    if not m:
        raise ValueError(f"{text!r} is not an amount (e.g. 30M, 5G, 1.5e9, 512MiB)")
    try:
        value = Decimal(m[1]) * _PREFIX[(m[2] or "").lower()]
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount (e.g. 30M, 5G, 1.5e9, 512MiB)") from None
    if value > MAX_AMOUNT:
        raise ValueError(f"{text[:40]!r} is larger than any budget NetCost checks (at most 1e30)")
    return int(value)


@dataclass(frozen=True)
class Limit:
    key: str  # the Totals field
    label: str
    is_bytes: bool = False


LIMITS = {"max_params": Limit("params", "params"), "max_macs": Limit("macs", "MACs"),
          "max_flops": Limit("flops", "FLOPs"),
          "max_activation": Limit("activation_bytes", "activation memory", is_bytes=True)}


@dataclass(frozen=True)
class Verdict:
    label: str
    value: int
    limit: int
    is_bytes: bool

    @property
    def over(self) -> bool:
        return self.value > self.limit

    def text(self) -> str:
        show = fmt.nbytes if self.is_bytes else fmt.si
        if self.over:
            excess = f" (+{(self.value / self.limit - 1) * 100:.1f} %)" if self.limit else ""
            return f"{self.label} {show(self.value)} > {show(self.limit)}{excess}"
        return f"{self.label} {show(self.value)} <= {show(self.limit)}"


def verdicts(report: CostReport, limits: dict[str, int]) -> list[Verdict]:
    """One verdict per given limit (`LIMITS` keys), in `LIMITS` order."""
    return [Verdict(spec.label, int(getattr(report.totals, spec.key)), limits[name], spec.is_bytes)
            for name, spec in LIMITS.items() if limits.get(name) is not None]


def report_line(model: str, results: list[Verdict], github: bool = False) -> str:
    """`netcost check: FAIL zoo:resnet50: MACs 4.09 G > 4 G (+2.2 %); params 25.6 M <= 30 M` (or `ok ...`)."""
    over = [v for v in results if v.over]
    within = [v for v in results if not v.over]
    body = "; ".join(v.text() for v in over + within)
    if not over:
        return f"netcost check: ok {model}: {body}"
    line = f"netcost check: FAIL {model}: {body}"
    return f"::error title=netcost check::{line}" if github else line
