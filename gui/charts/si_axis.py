"""`SIAxis`: a pyqtgraph axis whose tick labels are NetCost's own number format (`1.2 G`, `340 MiB`), on a
linear or a log scale (pyqtgraph hands a log axis the exponents)."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg

from netcost.costing import formatting as fmt


class SIAxis(pg.AxisItem):
    def __init__(self, orientation: str, is_bytes: bool = False, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)  # the labels carry their own prefix ("1.5 G"), never "(x1e+09)"
        self.is_bytes = is_bytes

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802 (Qt)
        decades = abs(self.range[1] - self.range[0]) if self.logMode else 0.0
        out = []
        for v in values:
            x = 10 ** v if self.logMode else v
            if self.logMode and abs(v - round(v)) > 1e-6:
                mantissa = round(x / 10 ** math.floor(v + 1e-9), 3)
                if decades >= 2 or mantissa not in (2.0, 5.0):  # decades, and 2 and 5 on a short range
                    out.append("")
                    continue
            out.append(fmt.nbytes(x) if self.is_bytes else fmt.si(x))
        return out
