"""Tables of a report: the JSON schema (`netcost.report/1`), CSV, Markdown and the terminal table."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

from netcost.costing import CATEGORIES, CONVENTIONS, PEERS, CostReport, LayerCost, convention_value
from netcost.costing import formatting as fmt
from netcost.costing.records import DASH
from netcost.costing.scope_tree import ScopeTree
from netcost.costing.shares import PARAMS, share_text, whole_of

from .. import escape, strict_json

SCHEMA = "netcost.report/1"
TOTAL_KEYS = ("params", "trainable_params", "frozen_params", "buffers", "macs", "flops", "param_bytes",
              "activation_bytes", "memory_access_bytes")


def visible_layers(report: CostReport, depth: int | None = None) -> list[LayerCost]:
    """Leaf layers, or for traced models with `depth`, the rows of containers collapsed at that depth."""
    return [row for row, _, _ in _collapse(report, depth)]


def visible_spans(report: CostReport, depth: int | None = None) -> list[tuple[int, int]]:
    """For each visible row, the range of report.layers it stands for (first, last, inclusive)."""
    return [(a, b) for _, a, b in _collapse(report, depth)]


# Extra columns a derived analysis adds to the text tables (model_io.cli.latency_tables): header -> one value per
# visible row, and the value for CSV's TOTAL row.
ExtraColumns = dict[str, tuple[list[str], str]]


def _collapse(report: CostReport, depth: int | None) -> list[tuple[LayerCost, int, int]]:
    """Visible rows with the range of report.layers each stands for (first, last, inclusive). The rows of a
    container at `depth` become one row with its subtotal, where its first row was; a layer outside every
    container at `depth` stays as it is. The rows' totals add up to the report's totals at every depth."""
    layers = report.layers
    if depth is None or not report.hierarchy:
        return [(r, i, i) for i, r in enumerate(layers)]
    nodes = {n.path: n for n in report.hierarchy if n.depth == depth}
    spans = {i: n.path for n in nodes.values() for i in range(n.first, n.last + 1)}
    tree = report.graph.scope_tree if report.graph is not None else None
    group_of = [_group(r, depth, nodes, tree) if r.node_id and tree is not None else spans.get(i)
                for i, r in enumerate(layers)]
    members: dict[str, list[int]] = {}
    for i, g in enumerate(group_of):
        if g is not None:
            members.setdefault(g, []).append(i)
    # a row's inputs, named as the visible rows that hold them
    shown = {r.name: (g if g is not None else r.name) for r, g in zip(layers, group_of, strict=True)}
    out: list[tuple[LayerCost, int, int]] = []
    for i, (r, g) in enumerate(zip(layers, group_of, strict=True)):
        if g is None:
            out.append((replace(r, inputs=_renamed(r.inputs, shown, r.name)), i, i))
            continue
        idx = members[g]
        if idx[0] != i:
            continue
        node = nodes[g]
        span = [layers[k] for k in idx]
        name = node.path or node.type
        inputs = _renamed(tuple(x for k in idx for x in layers[k].inputs), shown, g)
        out.append((LayerCost(node.first, name, node.type, _dominant_category(span), span[0].input_shape,
                              span[-1].output_shape, node.totals, depth=node.depth, path=node.path,
                              input_shapes=span[0].input_shapes, node_id=name, inputs=inputs, scope=node.path),
                    idx[0], idx[-1]))
    return out


def _group(row: LayerCost, depth: int, nodes: dict[str, object], tree: ScopeTree) -> str | None:
    """The container at `depth` that holds a graph row (its scope or one around it), if any."""
    if row.scope not in tree:
        return None
    return next((p for p in tree.chain(row.scope) if tree[p].depth == depth and p in nodes), None)


def _renamed(inputs: tuple[str, ...], shown: dict[str, str], own: str) -> tuple[str, ...]:
    out: list[str] = []
    for x in inputs:
        base, sep, idx = x.partition(":")
        name = shown.get(base, base)
        text = name if name != base else x
        if name != own and text not in out:
            out.append(text)
    return tuple(out)


def _dominant_category(rows: Any) -> str:
    """The category doing most of a container's work (MACs, then FLOPs, then parameters)."""
    score: dict[str, tuple[int, int, int]] = {}
    for r in rows:
        m, f, p = score.get(r.category, (0, 0, 0))
        score[r.category] = (m + r.macs, f + r.flops, p + r.params)
    return max(score, key=lambda c: score[c]) if score else "other"


def _hierarchy(report: CostReport, depth: int | None) -> list[dict[str, Any]]:
    """Containers with their range of rows in `layers`: all of them, or with `depth`, those down to `depth` (one
    at `depth` spans its own single row), their first/last re-indexed to the collapsed rows."""
    nodes = report.hierarchy
    if depth is not None and nodes:
        where = {}
        for k, (_, a, b) in enumerate(_collapse(report, depth)):
            for j in range(a, b + 1):
                where[j] = k
        nodes = tuple(replace(n, first=where[n.first], last=where[n.last]) for n in nodes if n.depth <= depth)
    return [{"path": n.path, "type": n.type, "depth": n.depth, "first": n.first, "last": n.last,
             **_totals_dict(n.totals)} for n in nodes]


def _totals_dict(t: Any) -> dict[str, int]:
    return {k: int(getattr(t, k)) for k in TOTAL_KEYS}


def to_dict(report: CostReport, convention: str = "flops", depth: int | None = None) -> dict[str, Any]:
    """The documented JSON schema (docs/file-formats.md, "Report JSON"). An incomplete report (the window's export of a
    model with an error) has null totals, categories and torchsummary: a partial sum is no total."""
    total = report.totals
    whole = report.complete
    return {
        "schema": SCHEMA,
        "model": report.model,
        "inputs": [{"name": name, "shape": list(shape), "dtype": dt}
                   for name, (shape, dt) in zip(_input_names(report), report.inputs, strict=True)],
        "batch_size": report.batch_size,
        "dtype": report.dtype,
        "convention": {"key": convention, "label": CONVENTIONS[convention].label,
                       "value": convention_value(total, convention) if whole else None,
                       "description": CONVENTIONS[convention].description},
        "totals": {**_totals_dict(total), "peer_views": {p: int(getattr(total, p)) for p in PEERS}} if whole else None,
        "by_category": {c: {**_totals_dict(report.by_category[c]),
                            "peer_views": {p: int(getattr(report.by_category[c], p)) for p in PEERS}}
                        for c in CATEGORIES if c in report.by_category} if whole else None,
        "torchsummary": {"input_bytes": report.summary.input_bytes,
                         "forward_backward_bytes": report.summary.forward_backward_bytes,
                         "params_bytes": report.summary.params_bytes, "total_bytes": report.summary.total_bytes}
        if whole else None,
        # peak live activations of an inference forward (costing.peak_memory); null when incomplete
        "peak_activation_bytes": report.peak_activation_bytes,
        "layers": [_layer_dict(r, convention) for r in visible_layers(report, depth)],
        "hierarchy": _hierarchy(report, depth),
        "unsupported": [dict(u) for u in report.unsupported],
        "warnings": list(report.warnings),
        "complete": report.complete,
        "problems": [{"name": p.name, "message": p.message, "field": p.field, "stale": p.stale}
                     for p in report.problems],
    }


def _input_names(report: CostReport) -> list[str]:
    names = list(report.input_names)
    return names if len(names) == len(report.inputs) else [f"input_{i}" for i in range(len(report.inputs))]


def _layer_dict(r: LayerCost, convention: str) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": r.name, "type": r.type, "category": r.category, "depth": r.depth, "path": r.path,
        "inputs": list(r.inputs),
        "input_shape": list(r.input_shape), "output_shape": list(r.output_shape),
        "params": r.params, "trainable_params": r.trainable_params, "frozen_params": r.frozen_params,
        "buffers": r.buffers, "macs": r.macs, "flops": r.flops, "param_bytes": r.param_bytes,
        "activation_bytes": r.activation_bytes, "memory_access_bytes": r.memory_access_bytes,
        "read_bytes": r.totals.read_bytes, "written_bytes": r.totals.written_bytes,
        "arithmetic_intensity": round(r.arithmetic_intensity, 4),
        "convention_value": convention_value(r.totals, convention),
    }
    if r.args:
        d["args"] = {k: list(v) if isinstance(v, tuple) else v for k, v in r.args.items()}
    if r.parts:
        d["parts"] = [_layer_dict(p, convention) for p in r.parts]
    if r.shared_with:
        d["shared_with"] = list(r.shared_with)
    return d


def to_json(report: CostReport, convention: str = "flops", depth: int | None = None) -> str:
    return strict_json.dumps(to_dict(report, convention, depth), indent=2) + "\n"


CSV_COLUMNS = ("name", "type", "category", "depth", "output_shape", "params", "trainable_params", "frozen_params",
               "macs", "flops", "convention_value", "pct_params", "pct_convention", "activation_bytes",
               "memory_access_bytes")


def to_csv(report: CostReport, convention: str = "flops", depth: int | None = None,
           extra: ExtraColumns | None = None) -> str:
    buf = io.StringIO()
    extra = extra or {}
    buf.write(escape.csv_row(CSV_COLUMNS + tuple(extra)))
    total_conv = convention_value(report.totals, convention)
    for i, r in enumerate(visible_layers(report, depth)):
        value = convention_value(r.totals, convention)
        p_share = report.share(r, "params")  # None while incomplete: the cells stay empty
        buf.write(escape.csv_row([r.name, r.type, r.category, r.depth, "x".join(map(str, r.output_shape)), r.params,
                    r.trainable_params, r.frozen_params, r.macs, r.flops, value,
                    f"{p_share * 100:.4f}" if p_share is not None else "",
                    f"{value / total_conv * 100 if total_conv else 0:.4f}" if p_share is not None else "",
                    r.activation_bytes, r.memory_access_bytes] + [rows[i] for rows, _ in extra.values()]))
    if not report.complete:  # no total row of partial sums: what is missing instead
        buf.write(escape.csv_row(["TOTAL", report.incomplete_note] + [""] * (len(CSV_COLUMNS) - 2)
                                 + ["" for _ in extra]))
        return buf.getvalue()
    t = report.totals
    buf.write(escape.csv_row(["TOTAL", "", "", "", "x".join(map(str, report.output_shape)), t.params,
                              t.trainable_params, t.frozen_params, t.macs, t.flops, total_conv, "100.0000", "100.0000",
                              t.activation_bytes, t.memory_access_bytes] + [total for _, total in extra.values()]))
    return buf.getvalue()


def _rows(report: CostReport, convention: str, depth: int | None, extra: ExtraColumns | None = None
          ) -> tuple[list[str], list[list[str]]]:
    label = CONVENTIONS[convention].label
    extra = extra or {}
    head = ["#", "Layer", "Type", "Output shape", "Params", "MACs", label, "% params", f"% {label}", "Memory",
            *extra]
    whole = whole_of(report)  # None while incomplete: no shares of a partial total
    rows = []
    for i, r in enumerate(visible_layers(report, depth)):
        value = convention_value(r.totals, convention)
        indent = "  " * r.depth
        rows.append([str(r.index), indent + r.name, r.type, fmt.shape(r.output_shape), fmt.grouped(r.params),
                     fmt.grouped(r.macs), fmt.grouped(value), share_text(r.totals, whole, PARAMS),
                     share_text(r.totals, whole, convention), fmt.nbytes(r.activation_bytes)]
                    + [values[i] for values, _ in extra.values()])
    return head, rows


def _peak_text(report: CostReport) -> str:
    peak = report.peak_activation_bytes
    return "— (not costed)" if peak is None else fmt.nbytes(peak)


def footer_lines(report: CostReport, convention: str) -> list[str]:
    t = report.totals
    s = report.summary
    conv = CONVENTIONS[convention]
    if not report.complete:
        cause = report.cause
        lines = [f"Totals: {DASH} ({report.incomplete_note}{f'; from {cause}' if cause else ''})"]
        names = ", ".join(p.name for p in report.problems[:10])
        more = len(report.problems) - 10
        lines.append(f"Not costed: {names}{f' and {more} more' if more > 0 else ''}")
        return lines + [f"Warning: {w}" for w in report.warnings]
    lines = [
        f"Total params: {fmt.grouped(t.params)}  (trainable {fmt.grouped(t.trainable_params)}, "
        f"frozen {fmt.grouped(t.frozen_params)}; buffers {fmt.grouped(t.buffers)})",
        f"MACs: {fmt.grouped(t.macs)} ({fmt.si(t.macs)})   FLOPs: {fmt.grouped(t.flops)} ({fmt.si(t.flops)})",
        f"{conv.label}: {fmt.grouped(convention_value(t, convention))}  — {conv.description}",
        f"Params size ({report.dtype}): {fmt.nbytes(t.param_bytes)}   Activations (forward): "
        f"{fmt.nbytes(t.activation_bytes)}   Peak activations (inference): {_peak_text(report)}   "
        f"Memory access: {fmt.nbytes(t.memory_access_bytes)}",
        f"torchsummary: input {fmt.mib(s.input_bytes)} MB, "
        f"forward/backward pass {fmt.mib(s.forward_backward_bytes)} MB, "
        f"params {fmt.mib(s.params_bytes)} MB, total {fmt.mib(s.total_bytes)} MB",
        "Peer views: " + ", ".join(f"{CONVENTIONS[p].label} {fmt.grouped(getattr(t, p))}" for p in PEERS),
    ]
    shares = []
    for cat in ("conv", "linear"):
        part = report.by_category.get(cat)
        shares.append(f"{cat}: {share_text(part, t, PARAMS)} of params, {share_text(part, t, 'macs')} of MACs")
    lines.append("Split — " + "; ".join(shares))
    for u in report.unsupported:
        lines.append(f"Unsupported: {u.get('op')} ×{u.get('count', 1)} in {u.get('module', '?')}")
    lines += [f"Warning: {w}" for w in report.warnings]
    return lines


def to_markdown(report: CostReport, convention: str = "flops", depth: int | None = None,
                extra: ExtraColumns | None = None) -> str:
    head, rows = _rows(report, convention, depth, extra)
    right = {0, 4, 5, 6, 7, 8, 9, *range(10, len(head))}
    out = [f"## {escape.markdown(report.model)}", "",
           f"Input {', '.join(fmt.shape(s) for s, _ in report.inputs)} · batch {report.batch_size} · "
           f"{report.dtype} · convention: {CONVENTIONS[convention].label}", "",
           "| " + " | ".join(head) + " |",
           "| " + " | ".join("---:" if i in right else "---" for i in range(len(head))) + " |"]
    out += ["| " + " | ".join(escape.markdown(c.strip()) for c in row) + " |" for row in rows]
    out += [""] + [f"- {escape.markdown(line)}" for line in footer_lines(report, convention)]
    return "\n".join(out) + "\n"


def to_table(report: CostReport, convention: str = "flops", depth: int | None = None,
             extra: ExtraColumns | None = None) -> str:
    """A terminal table in the spirit of torchsummary / torchinfo."""
    head, rows = _rows(report, convention, depth, extra)
    rows = [[escape.printable(c) for c in row] for row in rows]
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(len(head))]
    right = {0, 4, 5, 6, 7, 8, 9, *range(10, len(head))}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    rule = "=" * len(line(head))
    title = (f"{escape.printable(report.model)} — input {', '.join(fmt.shape(s) for s, _ in report.inputs)}, "
             f"batch {report.batch_size}, {report.dtype}")
    body = [title, rule, line(head), "-" * len(rule)] + [line(r) for r in rows] + [rule]
    return "\n".join(body + [escape.printable(text) for text in footer_lines(report, convention)]) + "\n"


FORMATS = {"table": to_table, "json": to_json, "csv": to_csv, "markdown": to_markdown}
