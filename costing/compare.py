"""Two reports side by side: per-row and total deltas (a design variant against its baseline).

Rows are matched by name (a rewrite keeps the names of the rows it does not replace); a row only in the compared
report is `added`, one only in the baseline `removed`, and removed rows are listed where they stood. A different
input, batch or dtype is reported as a settings change, apart from the design change.
"""

from __future__ import annotations

from dataclasses import dataclass

from .records import CostReport, LayerCost, Totals

METRICS: tuple[str, ...] = ("params", "macs", "flops", "activation_bytes", "param_bytes", "memory_access_bytes")


@dataclass(frozen=True)
class RowDelta:
    name: str
    type: str
    status: str  # "same", "changed", "added", "removed"
    before: Totals | None
    after: Totals | None

    def value(self, metric: str, side: str) -> int:
        t = self.before if side == "before" else self.after
        return int(getattr(t, metric)) if t is not None else 0

    def delta(self, metric: str) -> int:
        return self.value(metric, "after") - self.value(metric, "before")


@dataclass(frozen=True)
class Comparison:
    baseline: str
    compared: str
    rows: tuple[RowDelta, ...]
    before: Totals
    after: Totals
    settings: tuple[str, ...]  # "input 1×3×224×224 → 1×3×320×320", "dtype float32 → float16", ...

    @property
    def delta(self) -> Totals:
        return self.after - self.before

    def changed_rows(self) -> tuple[RowDelta, ...]:
        return tuple(r for r in self.rows if r.status != "same")


def _status(a: LayerCost, b: LayerCost) -> str:
    return "same" if a.totals == b.totals and a.type == b.type and a.output_shape == b.output_shape else "changed"


def compare(baseline: CostReport, compared: CostReport) -> Comparison:
    """Per-row and total deltas of `compared` against `baseline`."""
    base_rows = {r.name: (i, r) for i, r in enumerate(baseline.layers)}
    new_names = {r.name for r in compared.layers}
    out: list[RowDelta] = []
    next_base = 0

    def flush(upto: int) -> None:
        nonlocal next_base
        for r in baseline.layers[next_base:upto]:
            if r.name not in new_names:
                out.append(RowDelta(r.name, r.type, "removed", r.totals, None))
        next_base = max(next_base, upto)

    for r in compared.layers:
        hit = base_rows.get(r.name)
        if hit is None:  # what it replaced, if anything, stood here: list the removed rows first
            while next_base < len(baseline.layers) and baseline.layers[next_base].name not in new_names:
                old = baseline.layers[next_base]
                out.append(RowDelta(old.name, old.type, "removed", old.totals, None))
                next_base += 1
            out.append(RowDelta(r.name, r.type, "added", None, r.totals))
            continue
        i, old = hit
        flush(i)
        next_base = max(next_base, i + 1)
        out.append(RowDelta(r.name, r.type, _status(old, r), old.totals, r.totals))
    flush(len(baseline.layers))
    return Comparison(baseline.model, compared.model, tuple(out), baseline.totals, compared.totals,
                      settings_changes(baseline, compared))


def settings_changes(baseline: CostReport, compared: CostReport) -> tuple[str, ...]:
    from .formatting import shape

    out = []
    a = ", ".join(shape(s) for s, _ in baseline.inputs)
    b = ", ".join(shape(s) for s, _ in compared.inputs)
    if a != b:
        out.append(f"input {a} → {b}")
    if baseline.batch_size != compared.batch_size:
        out.append(f"batch {baseline.batch_size} → {compared.batch_size}")
    if baseline.dtype != compared.dtype:
        out.append(f"dtype {baseline.dtype} → {compared.dtype}")
    return tuple(out)
