"""Measuring a traced model's opaque nodes again after edits (pure: no torch, no Qt).

An opaque node (a custom op, a module without a NetCost formula) carries only what was measured when the model was
traced. An edit upstream of it changes its inputs, so the graph marks it stale. To cost it again the model is traced
once more in the worker with the graph's layer edits applied to its modules (`module_edits`: the constructor
arguments NetCost resolved for every layer node, the worker rebuilds those that differ), and each stale opaque node
takes the measurement of the same node in the new trace (`remeasured`) when the re-traced model fed it exactly the
inputs the edited graph does. Edits that code cannot express (inserted, removed or replaced nodes, functional ops
changed) give other inputs there, and the node stays stale with that reason.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from netcost.costing import CostReport, LayerCost
from netcost.costing.formatting import shape
from netcost.costing.graph import Graph, Node
from netcost.costing.graph_eval import evaluate_graph, input_values
from netcost.costing.registry import has_kind, kind


class RetraceError(ValueError):
    """Why the edited model cannot be traced again (one line)."""


def constructor_args(node: Node, row: LayerCost) -> dict[str, Any]:
    """The arguments to build `node`'s torch module with: those it states plus those inferred from its input."""
    return {k: v for k, v in row.args.items() if k in node.args or k in row.inferred}


def _json(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_json(x) for x in v]
    return v


def module_edits(report: CostReport) -> tuple[dict[str, Any], ...]:
    """Every layer node of a traced graph as the module the worker should run (model_io.importers.module_swap): the
    arguments it states and, where it could be costed, all its constructor arguments. One per module."""
    graph = report.graph
    if graph is None:
        return ()
    out, seen = [], set()
    for node in graph.nodes:
        if not node.module or node.module in seen or node.opaque or not has_kind(node.op) or \
                kind(node.op).functional:
            continue
        seen.add(node.module)
        edit: dict[str, Any] = {"module": node.module, "type": node.op,
                                "args": {k: _json(v) for k, v in node.args.items()}}
        row = report.by_id.get(node.id)
        if row is not None:
            edit["resolved"] = {k: _json(v) for k, v in constructor_args(node, row).items()}
        out.append(edit)
    return tuple(out)


def stale_opaque(report: CostReport) -> list[str]:
    """The ids of opaque nodes that cannot be costed only because their inputs changed."""
    graph = report.graph
    if graph is None:
        return []
    out = []
    for p in report.problems:
        ins = input_values(report, p.node_id)
        if p.field == "inputs" and graph.has(p.node_id) and graph.node(p.node_id).opaque and ins is not None \
                and None not in ins:  # its own inputs have values: it is the node that needs measuring
            out.append(p.node_id)
    return out


def retrace_blocker(report: CostReport) -> str:
    """Why tracing again cannot help now ("" when it can): a node that fails for another reason comes first."""
    if report.graph is None or not report.graph.source.get("ref"):
        return "the model's source is unknown: open it again from its file or reference"
    stale = set(stale_opaque(report))
    for p in report.problems:
        if not p.stale and p.node_id not in stale:
            return f"fix {p.name} first ({p.message})"
    return ""


def remeasured(current: Graph, report: CostReport, traced: Graph) -> tuple[Graph, CostReport, dict[str, str]]:
    """`current` with each stale opaque node measured as in `traced` (the model traced with the edits) where the
    inputs match, its report, and for the opaque nodes that still cannot be costed, why. Opaque nodes in a row
    (an FFT, then `abs` of its complex output) are measured one after the other as each gets its inputs."""
    failed: dict[str, str] = {}
    graph = current
    while True:
        nodes = []
        for node_id in stale_opaque(report):
            if node_id in failed:
                continue
            node, want = graph.node(node_id), input_values(report, node_id)
            new = traced.node(node_id) if traced.has(node_id) else None
            got = new.measured.inputs if new is not None and new.measured is not None else None
            if new is None or new.op != node.op or got is None:
                failed[node_id] = f"{node.display_name}: the model traced with your edits has no such node (edits " \
                                  "that change the model's structure cannot be applied to its code)"
            elif got != want:
                failed[node_id] = (f"{node.display_name}: traced with your layer edits it reads "
                                   f"{', '.join(shape(s) for s, _ in got)}, the edited graph gives it "
                                   f"{', '.join(shape(s) for s, _ in want or ())} (inserted, removed or "
                                   "functional-op edits cannot be applied to the model's code)")
            else:
                nodes.append(replace(node, measured=new.measured))
        if not nodes:
            return graph, report, failed
        graph, touched = graph.replace_nodes(nodes)
        report = evaluate_graph(graph, report, touched)


def carried_over(edited: Graph, traced: Graph) -> str:
    """One line after tracing an edited model again (new settings, its layer edits applied): what came along."""
    lost = [n.display_name for n in edited.nodes if not traced.has(n.id)]
    gone = [n.display_name for n in traced.nodes if not edited.has(n.id)]
    text = "Traced again with the new settings and your layer edits"
    if lost or gone:
        names = ", ".join((lost + gone)[:3]) + (" …" if len(lost) + len(gone) > 3 else "")
        text += (f"; {len(lost)} inserted and {len(gone)} removed node(s) were not carried over ({names}): only "
                 "layer arguments can be applied to the model's code")
    return text
