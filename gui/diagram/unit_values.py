"""`UnitValues`: the colour metric's and the width metric's values of a layout's blocks, kept from one colouring to
the next so that an edit reads only the rows it changed.

The colour scale ranges over every box a layout shows. Reading a value per block took three passes over every block
at each refresh (a 100k-node chain: ~20 ms of each ~70 ms edit); here the values sit in arrays, an edit rewrites the
entries of the rows it changed (`CostDocument.changed_since`), and the extremes are read back as the exact values of
the blocks that hold them. Only for metrics read straight from a layer's totals: latency and training figures change
without an edit of the report, and are read in full.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from netcost.costing import CostReport
from netcost.gui.document.metric_values import Subject

Value = Callable[[Subject], float]


class UnitValues:
    """The values of the blocks `ids` in `report` (NaN: not costed), for `key` (the layout and the metrics read)."""

    def __init__(self, key: tuple, report: CostReport, ids: list[str], value: Value, width: Value | None) -> None:
        self.key = key
        self.report = report  # (held: its identity is what the document's `changed_since` is asked about)
        self.ids = ids
        self.index = {nid: k for k, nid in enumerate(ids)}
        by_id = report.by_id
        costs = [by_id.get(i) for i in ids]
        nan = float("nan")
        self.values = np.fromiter((nan if c is None else value(c) for c in costs), float, len(ids))
        self.widths = None if width is None else \
            np.fromiter((nan if c is None else width(c) for c in costs), float, len(ids))

    def follow(self, report: CostReport, changed: Iterable[str], value: Value, width: Value | None) -> None:
        """`report` is now the current one and differs from the last only in the blocks `changed` (node ids)."""
        by_id = report.by_id
        for nid in changed:
            k = self.index.get(nid)
            if k is None:  # not a block of this layout (a hidden view node, a member of a folded scope)
                continue
            c = by_id.get(nid)
            self.values[k] = np.nan if c is None else value(c)
            if self.widths is not None:
                self.widths[k] = np.nan if c is None else width(c)  # type: ignore[misc]
        self.report = report

    def _exact(self, k: int, value: Value) -> float:
        """The value of block `k` as the metric gives it (an int stays an int: the array holds floats)."""
        return value(self.report.by_id[self.ids[k]])

    def positive_range(self, value: Value) -> tuple[float, float] | None:
        """(smallest, largest) positive value of the costed blocks, or None when none is positive."""
        vals = self.values
        positive = vals > 0  # (NaN: not)
        if not positive.any():
            return None
        masked = np.where(positive, vals, np.inf)
        low = int(np.argmin(masked))
        high = int(np.argmax(np.where(positive, vals, -np.inf)))
        return self._exact(low, value), self._exact(high, value)

    def width_max(self, width: Value) -> float | None:
        """The largest width value of the costed blocks, or None when none is costed."""
        w = self.widths
        if w is None or np.isnan(w).all():
            return None
        return self._exact(int(np.nanargmax(w)), width)
