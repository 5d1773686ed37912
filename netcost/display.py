"""The notebook display of a `Report` (`_repr_html_`): the totals with the convention named, the conv-vs-linear
split and the layer table with share bars.

Readable in light and dark notebook themes alike: no colours of its own but `currentColor` (the theme's text
colour) at reduced opacity for the bars and rules, and transparent backgrounds.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from netcost.costing import CONVENTIONS
from netcost.costing import formatting as fmt

if TYPE_CHECKING:
    from .report import Report

MAX_ROWS = 80  # rows shown inline; `report.rows` holds them all

_STYLE = """<style>
.netcost-report{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;color:inherit;
background:transparent;max-width:100%}
.netcost-report table{border-collapse:collapse;background:transparent;color:inherit;margin:4px 0 10px 0}
.netcost-report th,.netcost-report td{padding:2px 8px;background:transparent!important;color:inherit;
border-bottom:1px solid color-mix(in srgb,currentColor 18%,transparent);text-align:left;white-space:nowrap}
.netcost-report td.num,.netcost-report th.num{text-align:right;font-variant-numeric:tabular-nums}
.netcost-report .bar{position:relative;min-width:110px}
.netcost-report .bar span.fill{position:absolute;left:0;top:3px;bottom:3px;background:currentColor;opacity:.22;
border-radius:2px}
.netcost-report .bar span.text{position:relative}
.netcost-report .muted{opacity:.7}
.netcost-report h4{margin:6px 0 2px 0;color:inherit}
</style>"""


def _bar(share: float | None) -> str:
    if share is None:
        return '<td class="num bar muted">—</td>'
    width = max(0.0, min(1.0, share)) * 100
    return (f'<td class="num bar"><span class="fill" style="width:{width:.1f}%"></span>'
            f'<span class="text">{escape(fmt.percent(share))}</span></td>')


def _totals_html(report: Report) -> str:
    t = report.totals
    cost = report.cost_report
    if t is None:
        cause = cost.cause
        return (f'<p><b>Totals: — ({escape(cost.incomplete_note)}'
                f'{escape(f"; from {cause}") if cause else ""})</b></p>')
    conv = CONVENTIONS[report.convention]
    peak = "—" if t.peak_activation_bytes is None else fmt.nbytes(t.peak_activation_bytes)
    items = [
        ("Params", f"{fmt.grouped(t.params)} ({fmt.si(t.params)})",
         f"trainable {fmt.grouped(t.trainable_params)}, frozen {fmt.grouped(t.frozen_params)}; "
         f"buffers {fmt.grouped(t.buffers)}"),
        ("MACs", f"{fmt.grouped(t.macs)} ({fmt.si(t.macs)})", "multiply-accumulates"),
        ("FLOPs", f"{fmt.grouped(t.flops)} ({fmt.si(t.flops)})", CONVENTIONS["flops"].description),
    ]
    if report.convention not in ("flops", "macs"):
        items.append((conv.label, f"{fmt.grouped(t.value)} ({fmt.si(t.value)})", conv.description))
    items += [
        (f"Params size ({cost.dtype})", fmt.nbytes(t.param_bytes), ""),
        ("Activations", fmt.nbytes(t.activation_bytes), f"forward; peak (inference) {peak}"),
        ("Memory access", fmt.nbytes(t.memory_access_bytes), "bytes read + written"),
    ]
    rows = "".join(f'<tr><th>{escape(k)}</th><td class="num">{escape(v)}</td><td class="muted">{escape(d)}</td></tr>'
                   for k, v, d in items)
    split = "".join(
        f'<tr><th>{cat}</th>{_bar(cost.category_share(cat, "params"))}{_bar(cost.category_share(cat, "macs"))}</tr>'
        for cat in ("conv", "linear"))
    return (f'<table><tbody>{rows}</tbody></table>'
            f'<h4>Conv vs linear</h4><table><thead><tr><th></th><th class="num">% of params</th>'
            f'<th class="num">% of MACs</th></tr></thead><tbody>{split}</tbody></table>')


def _layers_html(report: Report) -> str:
    conv = CONVENTIONS[report.convention]
    rows = report.rows
    head = ("#", "Layer", "Type", "Output shape", "Params", "MACs", conv.label, "% params", f"% {conv.label}")
    out = ["<table><thead><tr>" + "".join(
        f'<th class="{"num" if i in (0, 4, 5, 6, 7, 8) else ""}">{escape(h)}</th>' for i, h in enumerate(head))
        + "</tr></thead><tbody>"]
    for i, r in enumerate(rows[:MAX_ROWS]):
        indent = "&nbsp;&nbsp;" * r.depth
        out.append(f'<tr><td class="num muted">{i}</td><td>{indent}{escape(r.name)}</td><td>{escape(r.type)}</td>'
                   f'<td>{escape(fmt.shape(r.output_shape))}</td><td class="num">{fmt.grouped(r.params)}</td>'
                   f'<td class="num">{fmt.grouped(r.macs)}</td><td class="num">{fmt.grouped(r.value)}</td>'
                   f'{_bar(r.params_share)}{_bar(r.value_share)}</tr>')
    out.append("</tbody></table>")
    if len(rows) > MAX_ROWS:
        out.append(f'<p class="muted">… {len(rows) - MAX_ROWS} more rows (all of them in <code>report.rows</code>, '
                   f'or <code>report.with_options(depth=1)</code> for a folded table)</p>')
    return "".join(out)


def report_html(report: Report) -> str:
    cost = report.cost_report
    conv = CONVENTIONS[report.convention]
    inputs = ", ".join(fmt.shape(s) for s, _ in cost.inputs)
    title = (f'<h4>{escape(report.label)}</h4><p class="muted">input {escape(inputs)} · batch {cost.batch_size} · '
             f'{escape(cost.dtype)} · convention: <b>{escape(conv.label)}</b> — {escape(conv.description)}</p>')
    warnings = "".join(f'<p class="muted">Warning: {escape(w)}</p>' for w in cost.warnings)
    return (f'{_STYLE}<div class="netcost-report">{title}{_totals_html(report)}<h4>Layers</h4>'
            f'{_layers_html(report)}{warnings}</div>')
