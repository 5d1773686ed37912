"""Text, JSON, CSV and Markdown of `netcost rewrites` (candidates with their deltas) and `netcost compare`."""

from __future__ import annotations

import io
import json
from typing import Any

from costing import formatting as fmt
from costing.compare import METRICS, Comparison
from costing.rewrites import RewritePreview

from . import escape

REWRITE_FORMATS = ("table", "json", "csv", "markdown")
COMPARE_FORMATS = ("table", "json", "csv", "markdown")


def _signed(v: int) -> str:
    return f"+{v:,}" if v > 0 else f"{v:,}" if v else "0"


# ---- rewrites ------------------------------------------------------------------------------------------------

def rewrites_dict(model: str, previews: list[RewritePreview]) -> dict[str, Any]:
    return {"model": model, "rewrites": [p.as_dict() for p in previews]}


def _rewrite_rows(previews: list[RewritePreview]) -> tuple[list[str], list[list[str]]]:
    head = ["ID", "Params Δ", "MACs Δ", "FLOPs Δ", "Activations Δ", "Description"]
    rows = [[p.rewrite.id, _signed(p.params_delta), _signed(p.macs_delta), _signed(p.flops_delta),
             ("+" if p.activation_bytes_delta > 0 else "-" if p.activation_bytes_delta < 0 else "")
             + fmt.nbytes(abs(p.activation_bytes_delta)), p.rewrite.description] for p in previews]
    return head, rows


def format_rewrites(model: str, previews: list[RewritePreview], form: str) -> str:
    if form == "json":
        return json.dumps(rewrites_dict(model, previews), indent=2, ensure_ascii=False) + "\n"
    if form == "csv":
        buf = io.StringIO()
        keys = ("id", "kind", "node", "params_delta", "macs_delta", "flops_delta", "activation_bytes_delta",
                "param_bytes_delta", "description")
        buf.write(escape.csv_row(keys))
        for p in previews:
            d = p.as_dict()
            buf.write(escape.csv_row([d[k] for k in keys]))
        return buf.getvalue()
    head, rows = _rewrite_rows(previews)
    if not rows:
        return f"{model}: no rewrite applies (no k×k convs, no Flatten + Linear on a map, no scalable widths)\n"
    title = f"{model}: {len(rows)} rewrite{'s' if len(rows) != 1 else ''} (apply with --rewrite ID)"
    return _grid(title, head, rows, {1, 2, 3, 4}, form)


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

def compare_dict(c: Comparison) -> dict[str, Any]:
    def totals(side: str) -> dict[str, int]:
        t = c.before if side == "before" else c.after
        return {m: int(getattr(t, m)) for m in METRICS}

    return {
        "baseline": c.baseline, "compared": c.compared, "settings_changes": list(c.settings),
        "totals": {"before": totals("before"), "after": totals("after"),
                   "delta": {m: int(getattr(c.delta, m)) for m in METRICS}},
        "rows": [{"name": r.name, "type": r.type, "status": r.status,
                  **{f"{m}_before": r.value(m, "before") for m in METRICS},
                  **{f"{m}_after": r.value(m, "after") for m in METRICS},
                  **{f"{m}_delta": r.delta(m) for m in METRICS}} for r in c.rows],
    }


def format_compare(c: Comparison, form: str, changed_only: bool = False) -> str:
    rows = c.changed_rows() if changed_only else c.rows
    if form == "json":
        d = compare_dict(c)
        if changed_only:
            d["rows"] = [r for r in d["rows"] if r["status"] != "same"]
        return json.dumps(d, indent=2, ensure_ascii=False) + "\n"
    if form == "csv":
        buf = io.StringIO()
        cols = ["name", "type", "status"] + [f"{m}_{s}" for m in METRICS for s in ("before", "after", "delta")]
        buf.write(escape.csv_row(cols))
        for r in rows:
            buf.write(escape.csv_row([r.name, r.type, r.status] + [
                v for m in METRICS for v in (r.value(m, "before"), r.value(m, "after"), r.delta(m))]))
        buf.write(escape.csv_row(["TOTAL", "", "changed" if c.changed_rows() else "same"] + [
            v for m in METRICS for v in (getattr(c.before, m), getattr(c.after, m), getattr(c.delta, m))]))
        return buf.getvalue()
    head = ["Layer", "Type", "Status", "Params", "Params Δ", "MACs", "MACs Δ", "FLOPs Δ", "Activations Δ"]

    def cells(name: str, type_: str, status: str, before: Any, after: Any) -> list[str]:
        def d(m: str) -> int:
            return int(getattr(after, m, 0) or 0) - int(getattr(before, m, 0) or 0)

        act = d("activation_bytes")
        src = after if after is not None else before
        return [name, type_, status, fmt.grouped(src.params), _signed(d("params")), fmt.grouped(src.macs),
                _signed(d("macs")), _signed(d("flops")),
                ("+" if act > 0 else "-" if act < 0 else "") + fmt.nbytes(abs(act))]

    body = [cells(r.name, r.type, r.status, r.before, r.after) for r in rows]
    body.append(cells("TOTAL", "", "", c.before, c.after))
    t0, t1 = c.before, c.after
    footer = [f"Params: {fmt.grouped(t0.params)} → {fmt.grouped(t1.params)} ({fmt.delta(t1.params, t0.params)})",
              f"MACs: {fmt.grouped(t0.macs)} → {fmt.grouped(t1.macs)} ({fmt.delta(t1.macs, t0.macs)})",
              f"FLOPs: {fmt.grouped(t0.flops)} → {fmt.grouped(t1.flops)} ({fmt.delta(t1.flops, t0.flops)})",
              f"Activations: {fmt.nbytes(t0.activation_bytes)} → {fmt.nbytes(t1.activation_bytes)}   "
              f"Params size: {fmt.nbytes(t0.param_bytes)} → {fmt.nbytes(t1.param_bytes)}"]
    footer += [f"Settings change (not a design change): {s}" for s in c.settings]
    title = f"{c.compared} vs {c.baseline} (baseline)"
    return _grid(title, head, body, {3, 4, 5, 6, 7, 8}, form, footer)
