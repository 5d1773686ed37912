"""The article's design tricks as rewrites of a graph, each with its exact cost deltas before it is applied.

API (what the GUI and the CLI use; pure Python, no Qt, no torch):

    KINDS = ("two_3x3", "factorize_nx1", "depthwise_separable", "global_avg_pool", "reduce_1x1", "width")

    Rewrite(id, kind, node, description, params)      frozen; id = "kind:node" ("two_3x3:conv2", "width:layer3",
                                                      "width:*" for the whole model), unique among one graph's
                                                      candidates; node = the row name of the conv (of the Linear
                                                      for global_avg_pool; the scope path for width, "" = model)
    candidates(graph, kinds=None, report=None) -> list[Rewrite]    where each kind applies, in graph order;
                                                      width: one per top-level scope plus the whole model
    apply(graph, rewrite, report=None) -> RewriteResult
        RewriteResult.graph     the rewritten graph (validated; always evaluates completely)
        RewriteResult.mapping   old node id -> ids of the nodes that stand for it now (itself when only its
                                arguments changed); a node not in the mapping is untouched
        RewriteResult.touched   ids to pass as `dirty` to evaluate_graph(result.graph, base_report, touched)
        RewriteResult.added / .removed   ids of the new nodes / of the old nodes that are gone
    with_params(rewrite, **params) -> Rewrite         e.g. with_params(r, ratio=0.5) / (r, factor=0.25); checked
    preview(graph, rewrite, report=None) -> RewritePreview   exact deltas, by evaluating the rewritten graph
                                                      (incrementally from `report`, the base graph's, when given)
        RewritePreview.before / .after / .delta (Totals), .report (of the rewritten graph), .result,
        .params_delta, .macs_delta, .flops_delta, .activation_bytes_delta, .param_bytes_delta, .as_dict()
    previews(graph, kinds=None, report=None) -> list[RewritePreview]   every candidate's preview
    find(graph, rewrite_id, report=None) -> Rewrite   the candidate with that id, params from "ID:key=value,..."
    parse_rewrite(text) -> (id, params)               "reduce_1x1:conv2:ratio=0.5" -> ("reduce_1x1:conv2", {...})
    apply_all(graph, texts) -> Graph                  apply "ID[:key=value,...]" texts in order (the CLI's
                                                      repeatable --rewrite)
    RewriteError(ValueError)                          one line naming the node (or the id) that cannot be rewritten

Kinds (semantics of issue 11):
- two_3x3: a k×k conv (k = 5, 7, 9, ...: odd) -> (k-1)/2 stacked 3×3 convs, intermediate width = out_channels,
  each keeping the original's bias setting; the original's stride goes on the first (as a deep stem does) unless
  that would change the output size at this input, then on the last (always exact: the paddings sum to the
  original's). A copy of what follows the original (a norm, an activation, or norm + activation) goes between
  the convs; nothing when no activation follows.
- factorize_nx1: an N×N conv -> N×1 then 1×N (intermediate width = out_channels, same bias, stride/padding/dilation
  split per axis: the output shape is the original's exactly).
- depthwise_separable: a k×k conv C_in -> C_out -> depthwise k×k (groups = C_in) then pointwise 1×1, both with the
  original's bias setting (the article's DepthwiseSeparableConv).
- global_avg_pool: a flatten (+ Dropout) + Linear reading a spatial map -> AdaptiveAvgPool2d(1) before the flatten:
  the Linear then reads C instead of C×H×W features.
- reduce_1x1: a 1×1 conv C_in -> round(ratio × C_in) (ratio default 1/4) inserted before a k×k conv, followed by a
  copy of the conv's activation (as Inception v1's reductions).
- width: scale the channels of a scope by `factor` (default 0.5). Channels coupled through residual adds, concats
  and depthwise groups form one group (Torch-Pruning's DepGraph idea) that is scaled as a whole, and only when
  every layer that sets its width lies in the scope; a group that reaches the graph's output, a tied weight or an
  op whose channel handling is not known (a reshape with fixed sizes, attention heads) is left alone. Readers'
  input sizes (in_channels, in_features, num_features, ...) follow by inference, as `--set` edits do.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from .graph import Graph, Node
from .graph_eval import evaluate_graph
from .records import CostReport
from .registry import has_kind
from .rewrite_kinds import APPLIERS, MATCHERS, conv_geometry
from .rewrite_types import (
    DEFAULTS,
    KINDS,
    WHOLE_MODEL,
    Rewrite,
    RewriteError,
    RewritePreview,
    RewriteResult,
    describe,
    make_rewrite,
)

__all__ = ["DEFAULTS", "KINDS", "WHOLE_MODEL", "Rewrite", "RewriteError", "RewritePreview", "RewriteResult", "apply",
           "apply_all", "candidates", "conv_geometry", "find", "parse_rewrite", "preview", "previews", "with_params"]


# ---- public entry points -------------------------------------------------------------------------------------

def candidates(graph: Graph, kinds: Iterable[str] | None = None, report: CostReport | None = None
               ) -> list[Rewrite]:
    """Every place a rewrite of `kinds` (default: all) applies, in graph order, width candidates last."""
    wanted = _kinds(kinds)
    report = _base_report(graph, report)
    out: list[Rewrite] = []
    for node in graph.nodes:
        row = report.by_id.get(node.id)
        if row is None or not _editable(graph, node):
            continue
        for k in wanted:
            if k == "width":
                continue
            r = MATCHERS[k](graph, node, row, report)
            if r is not None:
                out.append(r)
    if "width" in wanted:
        out += _width_candidates(graph, report)
    return out


def apply(graph: Graph, rewrite: Rewrite, report: CostReport | None = None) -> RewriteResult:
    """The graph with `rewrite` applied (one step: old node ids -> new ones). Raises RewriteError."""
    if rewrite.kind not in KINDS:
        raise RewriteError(f"unknown rewrite kind {rewrite.kind!r} (kinds: {', '.join(KINDS)})")
    report = _base_report(graph, report)
    params = _checked_params(rewrite.kind, rewrite.params, rewrite.id)
    if rewrite.kind == "width":
        return _apply_width(graph, rewrite, report, params)
    node = graph.by_name(rewrite.node)
    if node is None:
        raise RewriteError(f"{rewrite.id}: no row named {rewrite.node!r}")
    row = report.by_id.get(node.id)
    if row is None or not _editable(graph, node):
        raise RewriteError(f"{rewrite.node}: cannot be rewritten ({'not costed' if row is None else 'no formula'})")
    if MATCHERS[rewrite.kind](graph, node, row, report) is None:
        raise RewriteError(f"{rewrite.node} ({node.type_label}): {rewrite.kind} does not apply here")
    return APPLIERS[rewrite.kind](graph, node, row, report, params, rewrite)


def with_params(rewrite: Rewrite, **params: Any) -> Rewrite:
    """The same rewrite with other parameters (checked; unknown names and bad values raise RewriteError)."""
    merged = _checked_params(rewrite.kind, {**rewrite.params, **params}, rewrite.id)
    node = merged["scope"] if rewrite.kind == "width" else rewrite.node
    rid = f"{rewrite.kind}:{node or WHOLE_MODEL}"
    return replace(rewrite, id=rid, node=node, params=merged,
                   description=describe(rewrite.kind, node, merged, rewrite.description))


def preview(graph: Graph, rewrite: Rewrite, report: CostReport | None = None) -> RewritePreview:
    """The exact totals before and after `rewrite`, evaluating the rewritten graph (incrementally from `report`)."""
    report = _base_report(graph, report)
    result = apply(graph, rewrite, report)
    after = evaluate_graph(result.graph, report, result.touched)
    if not after.complete:  # a bug, not a user mistake: every applier keeps the graph valid
        raise RewriteError(f"{rewrite.id}: the rewritten graph does not evaluate ({after.cause})")
    return RewritePreview(rewrite, report.totals, after.totals, after, result)


def previews(graph: Graph, kinds: Iterable[str] | None = None, report: CostReport | None = None
             ) -> list[RewritePreview]:
    report = _base_report(graph, report)
    return [preview(graph, r, report) for r in candidates(graph, kinds, report)]


def parse_rewrite(text: str) -> tuple[str, dict[str, Any]]:
    """`ID` or `ID:key=value[,key=value]` (values are JSON numbers or plain strings)."""
    text = text.strip()
    head, sep, tail = text.rpartition(":")
    if not sep or "=" not in tail:
        return text, {}
    params: dict[str, Any] = {}
    for part in tail.split(","):
        key, eq, raw = part.partition("=")
        if not eq or not key.strip():
            raise RewriteError(f"--rewrite {text!r}: expected ID or ID:key=value, e.g. reduce_1x1:conv2:ratio=0.5")
        try:
            value: Any = json.loads(raw)
        except RecursionError:
            raise RewriteError(f"--rewrite {text[:80]!r}: the value of {key.strip()[:40]!r} is nested too deeply"
                               ) from None
        except ValueError:
            value = raw.strip()
        params[key.strip()] = value
    return head, params


def find(graph: Graph, rewrite_id: str, report: CostReport | None = None) -> Rewrite:
    """The candidate named by `ID[:key=value,...]`, with those params. RewriteError names a close id."""
    rid, params = parse_rewrite(rewrite_id)
    k = rid.partition(":")[0]
    if k not in KINDS:
        raise RewriteError(f"unknown rewrite {rid!r}: its kind must be one of {', '.join(KINDS)}")
    found = candidates(graph, (k,), report)
    by_id = {r.id: r for r in found}
    if rid not in by_id:
        close = difflib.get_close_matches(rid, list(by_id), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else \
            f" (this model has {len(found)} {k} candidate{'s' if len(found) != 1 else ''})"
        raise RewriteError(f"no rewrite {rid!r} applies to this model{hint}")
    r = by_id[rid]
    return with_params(r, **params) if params else r


def apply_all(graph: Graph, texts: Iterable[str]) -> Graph:
    """`graph` with each `ID[:key=value,...]` applied in order (each id is looked up in the graph as it is then)."""
    for text in texts:
        report = evaluate_graph(graph)
        graph = apply(graph, find(graph, text, report), report).graph
    return graph


# ---- shared helpers ------------------------------------------------------------------------------------------

def _kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return KINDS
    out = tuple(kinds)
    bad = [k for k in out if k not in KINDS]
    if bad:
        raise RewriteError(f"unknown rewrite kind {bad[0]!r} (kinds: {', '.join(KINDS)})")
    return out


def _base_report(graph: Graph, report: CostReport | None) -> CostReport:
    if report is None or report.graph is not graph:
        report = evaluate_graph(graph)
    if not report.complete:
        raise RewriteError(f"the model does not evaluate everywhere, so it cannot be rewritten ({report.cause})")
    return report


def _checked_params(kind_: str, params: Mapping[str, Any], rid: str) -> dict[str, Any]:
    defaults = DEFAULTS.get(kind_, {})
    unknown = [k for k in params if k not in defaults]
    if unknown:
        takes = ", ".join(defaults) if defaults else "no parameters"
        raise RewriteError(f"{rid}: unknown parameter {unknown[0]!r} ({kind_} takes {takes})")
    out = {**defaults, **params}
    for key in ("ratio", "factor"):
        if key in out:
            v = out[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise RewriteError(f"{rid}: {key} must be a positive number, not {v!r}")
            out[key] = float(v)
    if "ratio" in out and out["ratio"] >= 1:
        raise RewriteError(f"{rid}: ratio must be below 1 (a reduction), not {out['ratio']!r}")
    if "factor" in out and out["factor"] > 64:
        raise RewriteError(f"{rid}: factor {out['factor']!r} is too large (at most 64)")
    if not isinstance(out.get("scope", ""), str):
        raise RewriteError(f"{rid}: scope must be a module path")
    return out


def _editable(graph: Graph, node: Node) -> bool:
    """A node with a formula, not tied to another and not one of several calls of one module."""
    if node.opaque or node.shares or not has_kind(node.op):
        return False
    return not (node.module and len(graph.modules.get(node.module, ())) > 1)


# ---- width (channel dependency groups) ---------------------------------------------------------------------------

def _width_candidates(graph: Graph, report: CostReport) -> list[Rewrite]:
    from .width import scalable_scopes, scale_width

    out = []
    for s in scalable_scopes(graph, report):
        try:
            scale_width(graph, report, s, DEFAULTS["width"]["factor"])
        except ValueError:
            continue  # every group there had to stay as it is
        out.append(make_rewrite("width", s))
    return out


def _apply_width(graph: Graph, rewrite: Rewrite, report: CostReport, params: dict) -> RewriteResult:
    from .width import scale_width

    scope = params["scope"]
    try:
        g, touched = scale_width(graph, report, scope, params["factor"])
    except ValueError as e:
        raise RewriteError(f"{rewrite.id}: {e}") from None
    return RewriteResult(g, {i: (i,) for i in touched}, frozenset(touched), rewrite, graph)
