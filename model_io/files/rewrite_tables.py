"""Text, JSON, CSV and Markdown of `netcost rewrites` (candidates with their deltas) and `netcost compare`."""

from __future__ import annotations

import io
from collections.abc import Mapping
from enum import Enum
from typing import Any

from netcost.costing import formatting as fmt
from netcost.costing.comparison import METRICS, SAME, Comparison, RowDelta
from netcost.costing.records import Totals
from netcost.costing.rewrite_ranking import Saving
from netcost.costing.rewrites import RewritePreview

from .. import escape, strict_json

REWRITE_FORMATS = ("table", "json", "csv", "markdown")


class RewriteOrder(Enum):
    """`netcost rewrites --sort`: graph order (every candidate) or the biggest saving first."""

    GRAPH = "graph"
    SAVING = "saving"

COMPARE_FORMATS = ("table", "json", "csv", "markdown")


def _signed(v: int) -> str:
    return f"+{v:,}" if v > 0 else f"{v:,}" if v else "0"


# ---- rewrites ------------------------------------------------------------------------------------------------

def rewrites_dict(model: str, previews: list[RewritePreview], hidden: Mapping[str, str] | None = None,
                  ranked: bool = False) -> dict[str, Any]:
    """`rewrites --format json`; a ranked listing (--sort saving) adds each record's `hidden` reason (or null)."""
    records = [p.as_dict() | ({"hidden": (hidden or {}).get(p.rewrite.id)} if ranked else {}) for p in previews]
    return {"model": model, "rewrites": records}


def _rewrite_rows(previews: list[RewritePreview], hidden: Mapping[str, str]) -> tuple[list[str], list[list[str]]]:
    head = ["ID", "Params Δ", "MACs Δ", "FLOPs Δ", "Activations Δ", "Description"]
    rows = [[p.rewrite.id, _signed(p.params_delta), _signed(p.macs_delta), _signed(p.flops_delta),
             ("+" if p.activation_bytes_delta > 0 else "-" if p.activation_bytes_delta < 0 else "")
             + fmt.nbytes(abs(p.activation_bytes_delta)), _described(p, hidden)] for p in previews]
    return head, rows


def _described(p: RewritePreview, hidden: Mapping[str, str]) -> str:
    why = hidden.get(p.rewrite.id)
    return f"{p.rewrite.description} [hidden: {why}]" if why else p.rewrite.description


def format_rewrites(model: str, previews: list[RewritePreview], form: str, hidden: Mapping[str, str] | None = None,
                    left_out: int = 0, by: Saving | None = None) -> str:
    """The candidates as listed. `by` (a --sort saving listing): ranked by that saving, `hidden` the reasons of
    the hidden ones listed anyway (--show-hidden), `left_out` how many hidden ones are not listed."""
    hidden = hidden or {}
    if form == "json":
        return strict_json.dumps(rewrites_dict(model, previews, hidden, by is not None), indent=2,
                                 ensure_ascii=False) + "\n"
    if form == "csv":
        buf = io.StringIO()
        keys = ("id", "kind", "node", "params_delta", "macs_delta", "flops_delta", "activation_bytes_delta",
                "param_bytes_delta", "description")
        buf.write(escape.csv_row(keys))
        for p in previews:
            d = p.as_dict() | {"description": _described(p, hidden)}
            buf.write(escape.csv_row([d[k] for k in keys]))
        return buf.getvalue()
    head, rows = _rewrite_rows(previews, hidden)
    note = (f"{left_out} more hidden (they do not lower {by.label} or make no sense here): --show-hidden lists "
            f"them" if by is not None and left_out else "")
    if not rows:
        if note:
            return f"{model}: no rewrite lowers {by.label if by else 'the cost'}; {note}\n"
        return f"{model}: no rewrite applies (no k×k convs, no Flatten + Linear on a map, no scalable widths)\n"
    order = f", biggest {by.label} saving first" if by is not None else ""
    title = f"{model}: {len(rows)} rewrite{'s' if len(rows) != 1 else ''}{order} (apply with --rewrite ID)"
    return _grid(title, head, rows, {1, 2, 3, 4}, form, [note] if note else None)


def _grid(title: str, head: list[str], rows: list[list[str]], right: set[int], form: str,
          footer: list[str] | None = None) -> str:
    footer = footer or []
    if form == "markdown":
        out = [f"## {escape.markdown(title)}", "", "| " + " | ".join(head) + " |",
               "| " + " | ".join("---:" if i in right else "---" for i in range(len(head))) + " |"]
        out += ["| " + " | ".join(escape.markdown(c) for c in r) + " |" for r in rows]
        out += [""] + [f"- {escape.markdown(line)}" for line in footer]
        return "\n".join(out) + "\n"
    rows = [[escape.printable(c) for c in r] for r in rows]
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    rule = "=" * max(len(line(head)), 20)
    body = [escape.printable(title), rule, line(head), "-" * len(rule), *(line(r) for r in rows), rule]
    return "\n".join(body + [escape.printable(f) for f in footer]) + "\n"


# ---- compare -------------------------------------------------------------------------------------------------

def compare_dict(c: Comparison, names: tuple[str, str] | None = None, changed_only: bool = False) -> dict[str, Any]:
    """`netcost compare --format json`; `names`: (baseline, compared) as the command line named them."""
    base, new = names or (c.baseline.model, c.current.model)

    def figures(t: Totals) -> dict[str, int]:
        return {m: int(getattr(t, m)) for m in METRICS}

    def row(r: RowDelta) -> dict[str, Any]:
        before, after, delta = figures(r.totals("before")), figures(r.totals("after")), figures(r.delta)
        return {"name": r.name, "type": r.type, "status": r.status, **{f"{m}_before": before[m] for m in METRICS},
                **{f"{m}_after": after[m] for m in METRICS}, **{f"{m}_delta": delta[m] for m in METRICS}}

    return {
        "baseline": base, "compared": new, "settings_changes": list(c.settings),
        "totals": {"before": figures(c.baseline.totals), "after": figures(c.current.totals),
                   "delta": figures(c.delta)},
        "rows": [row(r) for r in (c.changed() if changed_only else c.ordered)],
    }


def format_compare(c: Comparison, form: str, changed_only: bool = False,
                   names: tuple[str, str] | None = None) -> str:
    """`netcost compare` in `form`; `names`: (baseline, compared) as the command line named them."""
    rows = c.changed() if changed_only else c.ordered
    t0, t1, dt = c.baseline.totals, c.current.totals, c.delta
    if form == "json":
        return strict_json.dumps(compare_dict(c, names, changed_only), indent=2, ensure_ascii=False) + "\n"
    if form == "csv":
        buf = io.StringIO()
        cols = ["name", "type", "status"] + [f"{m}_{s}" for m in METRICS for s in ("before", "after", "delta")]
        buf.write(escape.csv_row(cols))
        for r in rows:
            sides = (r.totals("before"), r.totals("after"), r.delta)
            buf.write(escape.csv_row([r.name, r.type, r.status] + [getattr(t, m) for m in METRICS for t in sides]))
        buf.write(escape.csv_row(["TOTAL", "", "changed" if c.changed() else SAME] + [
            getattr(t, m) for m in METRICS for t in (t0, t1, dt)]))
        return buf.getvalue()
    head = ["Layer", "Type", "Status", "Params", "Params Δ", "MACs", "MACs Δ", "FLOPs Δ", "Activations Δ"]

    def cells(name: str, type_: str, status: str, shown: Totals, d: Totals) -> list[str]:
        act = d.activation_bytes
        return [name, type_, status, fmt.grouped(shown.params), _signed(d.params), fmt.grouped(shown.macs),
                _signed(d.macs), _signed(d.flops), ("+" if act > 0 else "-" if act < 0 else "") + fmt.nbytes(abs(act))]

    body = [cells(r.name, r.type, r.status, r.row.totals, r.delta) for r in rows]
    body.append(cells("TOTAL", "", "", t1, dt))
    footer = [f"Params: {fmt.grouped(t0.params)} → {fmt.grouped(t1.params)} ({fmt.delta(t1.params, t0.params)})",
              f"MACs: {fmt.grouped(t0.macs)} → {fmt.grouped(t1.macs)} ({fmt.delta(t1.macs, t0.macs)})",
              f"FLOPs: {fmt.grouped(t0.flops)} → {fmt.grouped(t1.flops)} ({fmt.delta(t1.flops, t0.flops)})",
              f"Activations: {fmt.nbytes(t0.activation_bytes)} → {fmt.nbytes(t1.activation_bytes)}   "
              f"Params size: {fmt.nbytes(t0.param_bytes)} → {fmt.nbytes(t1.param_bytes)}"]
    footer += [f"Settings change{'' if c.design else ' (not a design change)'}: {s}" for s in c.settings]
    base, new = names or (c.baseline.model, c.current.model)
    return _grid(f"{new} vs {base} (baseline)", head, body, {3, 4, 5, 6, 7, 8}, form, footer)
