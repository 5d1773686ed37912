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
from dataclasses import dataclass, field, replace
from typing import Any

from .graph import Graph, GraphError, Node, Ref, unique_name
from .graph_eval import evaluate_graph
from .records import CostReport, LayerCost, Totals
from .registry import has_kind, kind

KINDS: tuple[str, ...] = ("two_3x3", "factorize_nx1", "depthwise_separable", "global_avg_pool", "reduce_1x1",
                          "width")
# Adjustable parameters with their defaults; a rewrite's params hold every one of its kind's.
DEFAULTS: dict[str, dict[str, Any]] = {"reduce_1x1": {"ratio": 0.25}, "width": {"factor": 0.5, "scope": ""}}
WHOLE_MODEL = "*"  # the width candidate's id suffix for the whole model (its node and scope are "")

# Input-size arguments: inferred from the incoming shape when absent, so a reader whose input changes drops them.
_INPUT_SIZE_ARGS = ("in_channels", "in_features", "num_features", "normalized_shape", "num_channels", "embed_dim",
                    "input_size")


class RewriteError(ValueError):
    """A rewrite that does not apply here, or a bad id or parameter: one line naming the node or id."""


@dataclass(frozen=True)
class Rewrite:
    id: str
    kind: str
    node: str
    description: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class RewriteResult:
    graph: Graph
    mapping: dict[str, tuple[str, ...]]
    touched: frozenset[str]
    rewrite: Rewrite
    base: Graph = field(repr=False, compare=False)

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.graph.nodes if not self.base.has(n.id))

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.base.nodes if not self.graph.has(n.id))


@dataclass(frozen=True)
class RewritePreview:
    rewrite: Rewrite
    before: Totals
    after: Totals
    report: CostReport = field(repr=False, compare=False)
    result: RewriteResult = field(repr=False, compare=False)

    @property
    def delta(self) -> Totals:
        return self.after - self.before

    @property
    def params_delta(self) -> int:
        return self.after.params - self.before.params

    @property
    def macs_delta(self) -> int:
        return self.after.macs - self.before.macs

    @property
    def flops_delta(self) -> int:
        return self.after.flops - self.before.flops

    @property
    def activation_bytes_delta(self) -> int:
        return self.after.activation_bytes - self.before.activation_bytes

    @property
    def param_bytes_delta(self) -> int:
        return self.after.param_bytes - self.before.param_bytes

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON record of one candidate."""
        r = self.rewrite
        return {"id": r.id, "kind": r.kind, "node": r.node, "description": r.description, "params": dict(r.params),
                "params_delta": self.params_delta, "macs_delta": self.macs_delta, "flops_delta": self.flops_delta,
                "activation_bytes_delta": self.activation_bytes_delta, "param_bytes_delta": self.param_bytes_delta}


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
            r = _MATCHERS[k](graph, node, row, report)
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
    if _MATCHERS[rewrite.kind](graph, node, row, report) is None:
        raise RewriteError(f"{rewrite.node} ({node.type_label}): {rewrite.kind} does not apply here")
    return _APPLIERS[rewrite.kind](graph, node, row, report, params, rewrite)


def with_params(rewrite: Rewrite, **params: Any) -> Rewrite:
    """The same rewrite with other parameters (checked; unknown names and bad values raise RewriteError)."""
    merged = _checked_params(rewrite.kind, {**rewrite.params, **params}, rewrite.id)
    node = merged["scope"] if rewrite.kind == "width" else rewrite.node
    rid = f"{rewrite.kind}:{node or WHOLE_MODEL}"
    return replace(rewrite, id=rid, node=node, params=merged,
                   description=_describe(rewrite.kind, node, merged, rewrite.description))


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


def _tuple(v: Any, n: int) -> tuple:
    if isinstance(v, str):
        return (v,) * n
    if isinstance(v, (list, tuple)):
        return tuple(v) if len(v) == n else (tuple(v) * n)[:n]
    return (v,) * n


def _conv(row: LayerCost, node: Node) -> dict[str, Any] | None:
    """The resolved geometry of a plain (groups = 1, zero padding) Conv1d/Conv2d, else None."""
    if node.op not in ("Conv1d", "Conv2d"):
        return None
    a = row.args
    n = 1 if node.op == "Conv1d" else 2
    if a.get("groups", 1) != 1 or a.get("padding_mode", "zeros") != "zeros":
        return None
    k = _tuple(a["kernel_size"], n)
    return {"n": n, "k": k, "s": _tuple(a.get("stride", 1), n), "p": a.get("padding", 0),
            "d": _tuple(a.get("dilation", 1), n), "cin": a["in_channels"], "cout": a["out_channels"],
            "bias": bool(a.get("bias", True)),
            "x": row.input_shape}


conv_geometry = _conv  # the public name (costing.rewrite_ranking reads a conv's channels with it)


def _name(graph: Graph, wanted: str, taken: set[str]) -> str:
    if not taken:
        taken |= {n.display_name for n in graph.nodes} | {n.id for n in graph.nodes} | set(graph.input_names)
    name = unique_name(wanted, taken)
    taken.add(name)
    return name


def _conv_node(base: Node, name: str, args: dict[str, Any], inputs: tuple[Ref, ...]) -> Node:
    return Node(name, base.op, args, inputs, name=name, scope=base.scope, trainable=base.trainable)


def _follower_chain(graph: Graph, node: Node) -> list[Node]:
    """What follows a conv and is copied between the pieces: [norm], activation, or nothing (no activation)."""
    chain: list[Node] = []
    cur = node
    for _ in range(2):
        users = graph.users.get(cur.id, ())
        if len(users) != 1:
            break
        nxt = graph.node(users[0])
        if len(nxt.inputs) != 1 or not has_kind(nxt.op) or nxt.opaque:
            break
        cat = kind(nxt.op).category
        if cat == "norm" and not chain and not kind(nxt.op).functional:
            chain.append(nxt)
            cur = nxt
            continue
        if cat == "activation" and nxt.op not in ("Softmax", "softmax", "_softmax", "_safe_softmax", "log_softmax",
                                                   "_log_softmax"):
            chain.append(nxt)
        break
    return chain if chain and kind(chain[-1].op).category == "activation" else []


def _copies(graph: Graph, chain: list[Node], base: str, src: Ref, taken: set[str]) -> tuple[list[Node], Ref]:
    """Copies of `chain` reading `src` (their input-size arguments dropped: they follow by inference)."""
    out: list[Node] = []
    for c in chain:
        name = _name(graph, f"{base}.{c.op.lower()}", taken)
        args = {k: v for k, v in c.args.items() if k not in _INPUT_SIZE_ARGS}
        out.append(Node(name, c.op, args, (src,), name=name, scope=c.scope, trainable=c.trainable, label=c.label))
        src = Ref(name)
    return out, src


def _splice(graph: Graph, old: Node, new: list[Node], rewrite: Rewrite, extra: Iterable[Node] = ()
            ) -> RewriteResult:
    """Replace `old` (one output) by the chain `new`, whose last node's output its readers read instead."""
    last = Ref(new[-1].id)
    remap = {Ref(old.id): last} if new[-1].id != old.id else {}
    extra_by_id = {n.id: n for n in extra}
    touched = {n.id for n in new} | set(extra_by_id)
    nodes: list[Node] = []
    for n in graph.nodes:
        if n.id == old.id:
            nodes += new
            continue
        n = extra_by_id.get(n.id, n)
        if remap and any(r in remap for r in n.inputs):
            n = replace(n, inputs=tuple(remap.get(r, r) for r in n.inputs))
            touched.add(n.id)
        nodes.append(n)
    outputs = tuple(remap.get(r, r) for r in graph.outputs)
    g = replace(graph, nodes=tuple(nodes), outputs=outputs)
    try:
        g.validate()
    except GraphError as e:
        raise RewriteError(f"{rewrite.node}: {e}") from None
    mapping = {old.id: tuple(n.id for n in new), **{i: (i,) for i in extra_by_id}}
    return RewriteResult(g, mapping, frozenset(touched), rewrite, graph)


def _make(kind_: str, node: str, params: dict[str, Any] | None = None, what: str = "") -> Rewrite:
    full = {**DEFAULTS.get(kind_, {}), **(params or {})}
    if kind_ == "width":
        full["scope"] = node
    suffix = node if node else WHOLE_MODEL
    return Rewrite(f"{kind_}:{suffix}", kind_, node, _describe(kind_, node, full, what), full)


def _describe(kind_: str, node: str, params: Mapping[str, Any], what: str = "") -> str:
    if kind_ == "reduce_1x1":
        return f"{what or node}: 1×1 reduction to {params['ratio']:g} of the input channels before it"
    if kind_ == "width":
        where = node or "the whole model"
        return f"{where}: channel widths × {params['factor']:g} (coupled channels kept consistent)"
    return what or node


def _k_text(k: tuple) -> str:
    return "×".join(map(str, k))


# ---- two_3x3 ---------------------------------------------------------------------------------------------------

def _match_two_3x3(graph: Graph, node: Node, row: LayerCost, report: CostReport) -> Rewrite | None:
    c = _conv(row, node)
    if c is None or len(set(c["k"])) != 1 or c["k"][0] < 5 or c["k"][0] % 2 == 0 or set(c["d"]) != {1}:
        return None
    k = c["k"][0]
    m = (k - 1) // 2
    three = _k_text((3,) * c["n"])
    return _make("two_3x3", node.display_name, what=f"{node.display_name}: {_k_text(c['k'])} conv → {m} stacked "
                                                    f"{three} convs (same receptive field and output)")


def _paddings(p: Any, m: int, n: int) -> list[Any]:
    """Each 3×3's padding: 'same'/'valid' stay; a number p splits into m parts summing to p (per axis)."""
    if isinstance(p, str):
        return [p] * m
    pt = _tuple(p, n)
    return [tuple(pd // m + (1 if i < pd % m else 0) for pd in pt) for i in range(m)]


def _out_size(x: int, k: int, s: int, p: int) -> int:
    return (x + 2 * p - k) // s + 1


def _apply_two_3x3(graph: Graph, node: Node, row: LayerCost, report: CostReport, params: dict, rewrite: Rewrite
                   ) -> RewriteResult:
    c = _conv(row, node)
    assert c is not None
    n, k = c["n"], c["k"][0]
    m = (k - 1) // 2
    pads = _paddings(c["p"], m, n)
    strides = [(1,) * n] * m
    if any(s != 1 for s in c["s"]):  # stride on the first conv when that keeps this input's output size
        spatial = c["x"][2:]
        first_ok = all(_out_size(spatial[i], 3, c["s"][i], pads[0][i]) + sum(2 * q[i] - 2 for q in pads[1:]) ==
                       row.output_shape[2 + i] for i in range(n))
        strides[0 if first_ok else -1] = c["s"]
    taken: set[str] = set()
    chain = _follower_chain(graph, node)
    new: list[Node] = []
    src = node.inputs[0]
    for i in range(m):
        name = _name(graph, f"{node.display_name}.3x3_{i + 1}", taken)
        args = {"out_channels": c["cout"], "kernel_size": 3, "stride": strides[i] if n > 1 else strides[i][0],
                "padding": pads[i] if isinstance(pads[i], str) or n > 1 else pads[i][0], "bias": c["bias"]}
        if i == 0 and "in_channels" in node.args:
            args["in_channels"] = c["cin"]
        new.append(_conv_node(node, name, args, (src,)))
        src = Ref(name)
        if i < m - 1:
            acts, src = _copies(graph, chain, node.display_name, src, taken)
            new += acts
    return _splice(graph, node, new, rewrite)


# ---- factorize_nx1 ---------------------------------------------------------------------------------------------

def _match_factorize(graph: Graph, node: Node, row: LayerCost, report: CostReport) -> Rewrite | None:
    c = _conv(row, node)
    if c is None or c["n"] != 2 or c["k"][0] != c["k"][1] or c["k"][0] < 3:
        return None
    k = c["k"][0]
    return _make("factorize_nx1", node.display_name,
                 what=f"{node.display_name}: {k}×{k} conv → {k}×1 then 1×{k} (same output)")


def _apply_factorize(graph: Graph, node: Node, row: LayerCost, report: CostReport, params: dict, rewrite: Rewrite
                     ) -> RewriteResult:
    c = _conv(row, node)
    assert c is not None
    k, (sh, sw), (dh, dw), p = c["k"][0], c["s"], c["d"], c["p"]
    ph, pw = (p, p) if isinstance(p, str) else _tuple(p, 2)
    taken: set[str] = set()
    a_name = _name(graph, f"{node.display_name}.{k}x1", taken)
    b_name = _name(graph, f"{node.display_name}.1x{k}", taken)
    a = {"out_channels": c["cout"], "kernel_size": (k, 1), "stride": (sh, 1), "dilation": (dh, 1),
         "padding": p if isinstance(p, str) else (ph, 0), "bias": c["bias"]}
    b = {"out_channels": c["cout"], "kernel_size": (1, k), "stride": (1, sw), "dilation": (1, dw),
         "padding": p if isinstance(p, str) else (0, pw), "bias": c["bias"]}
    if "in_channels" in node.args:
        a["in_channels"] = c["cin"]
    first = _conv_node(node, a_name, a, (node.inputs[0],))
    return _splice(graph, node, [first, _conv_node(node, b_name, b, (Ref(a_name),))], rewrite)


# ---- depthwise_separable ---------------------------------------------------------------------------------------

def _match_dws(graph: Graph, node: Node, row: LayerCost, report: CostReport) -> Rewrite | None:
    c = _conv(row, node)
    if c is None or all(v == 1 for v in c["k"]) or c["cin"] < 2:
        return None
    return _make("depthwise_separable", node.display_name,
                 what=f"{node.display_name}: {_k_text(c['k'])} conv → depthwise {_k_text(c['k'])} "
                      f"(groups={c['cin']}) + pointwise 1×1")


def _apply_dws(graph: Graph, node: Node, row: LayerCost, report: CostReport, params: dict, rewrite: Rewrite
               ) -> RewriteResult:
    c = _conv(row, node)
    assert c is not None
    taken: set[str] = set()
    dw_name = _name(graph, f"{node.display_name}.depthwise", taken)
    pw_name = _name(graph, f"{node.display_name}.pointwise", taken)
    dw = {"in_channels": c["cin"], "out_channels": c["cin"], "kernel_size": row.args["kernel_size"],
          "stride": row.args["stride"], "padding": row.args["padding"], "dilation": row.args["dilation"],
          "groups": c["cin"], "bias": c["bias"]}
    pw = {"out_channels": c["cout"], "kernel_size": 1, "bias": c["bias"]}
    first = _conv_node(node, dw_name, dw, (node.inputs[0],))
    return _splice(graph, node, [first, _conv_node(node, pw_name, pw, (Ref(dw_name),))], rewrite)


# ---- reduce_1x1 ------------------------------------------------------------------------------------------------

def _reduced(cin: int, ratio: float) -> int:
    return max(1, math.floor(cin * ratio + 0.5))


def _match_reduce(graph: Graph, node: Node, row: LayerCost, report: CostReport) -> Rewrite | None:
    c = _conv(row, node)
    if c is None or all(v == 1 for v in c["k"]) or _reduced(c["cin"], DEFAULTS["reduce_1x1"]["ratio"]) >= c["cin"]:
        return None
    return _make("reduce_1x1", node.display_name, what=f"{node.display_name} ({_k_text(c['k'])}, {c['cin']} in)")


def _apply_reduce(graph: Graph, node: Node, row: LayerCost, report: CostReport, params: dict, rewrite: Rewrite
                  ) -> RewriteResult:
    c = _conv(row, node)
    assert c is not None
    r = _reduced(c["cin"], params["ratio"])
    if r >= c["cin"]:
        raise RewriteError(f"{node.display_name}: ratio {params['ratio']:g} of {c['cin']} channels reduces nothing")
    taken: set[str] = set()
    red_name = _name(graph, f"{node.display_name}.reduce", taken)
    red_args: dict[str, Any] = {"out_channels": r, "kernel_size": 1, "bias": c["bias"]}
    if "in_channels" in node.args:
        red_args["in_channels"] = c["cin"]
    red = _conv_node(node, red_name, red_args, (node.inputs[0],))
    acts, src = _copies(graph, _follower_chain(graph, node), red_name, Ref(red_name), taken)
    args = {k: v for k, v in node.args.items() if k != "in_channels"}
    conv = replace(node, args=args, inputs=(src,))
    return _splice(graph, node, [red, *acts, conv], rewrite)


# ---- global_avg_pool -------------------------------------------------------------------------------------------

_PASS_1D = ("Dropout", "Identity")
_FLATTENS = ("Flatten", "view", "reshape", "_unsafe_view")


def _gap_site(graph: Graph, node: Node, report: CostReport) -> Node | None:
    """The flatten a Linear reads (through Dropout/Identity) when it flattens a (B, C, H, W) map with H×W > 1."""
    if node.op != "Linear" or len(node.inputs) != 1:
        return None
    cur = graph.node(node.inputs[0].node) if graph.has(node.inputs[0].node) else None
    while cur is not None and cur.op in _PASS_1D and len(graph.users.get(cur.id, ())) == 1 and cur.inputs:
        cur = graph.node(cur.inputs[0].node) if graph.has(cur.inputs[0].node) else None
    if cur is None or cur.op not in _FLATTENS or cur.opaque or len(graph.users.get(cur.id, ())) != 1:
        return None
    row = report.by_id.get(cur.id)
    if row is None or len(row.input_shape) != 4 or len(row.output_shape) != 2 or cur.inputs[0].index != 0:
        return None
    b, ch, h, w = row.input_shape
    if h * w <= 1 or row.output_shape != (b, ch * h * w):
        return None
    return cur


def _match_gap(graph: Graph, node: Node, row: LayerCost, report: CostReport) -> Rewrite | None:
    flat = _gap_site(graph, node, report)
    if flat is None:
        return None
    b, ch, h, w = report.by_id[flat.id].input_shape
    return _make("global_avg_pool", node.display_name,
                 what=f"{node.display_name}: global average pooling before {flat.display_name} "
                      f"(reads {ch} features instead of {ch}×{h}×{w})")


def _apply_gap(graph: Graph, node: Node, row: LayerCost, report: CostReport, params: dict, rewrite: Rewrite
               ) -> RewriteResult:
    flat = _gap_site(graph, node, report)
    assert flat is not None
    taken: set[str] = set()
    prefix = flat.display_name.rpartition(".")[0]
    pool_name = _name(graph, f"{prefix}.gap" if prefix else "gap", taken)
    pool = Node(pool_name, "AdaptiveAvgPool2d", {"output_size": 1}, (flat.inputs[0],), name=pool_name,
                scope=flat.scope, trainable=flat.trainable)
    args = dict(flat.args)
    for key in ("size", "shape"):
        if key in args:
            args[key] = [report.by_id[flat.id].input_shape[0], -1]
    new_flat = replace(flat, args=args, inputs=(Ref(pool_name),))
    linear = replace(node, args={k: v for k, v in node.args.items() if k != "in_features"})
    result = _splice(graph, flat, [pool, new_flat], rewrite, extra=[linear])
    return result


_MATCHERS = {"two_3x3": _match_two_3x3, "factorize_nx1": _match_factorize, "depthwise_separable": _match_dws,
             "global_avg_pool": _match_gap, "reduce_1x1": _match_reduce}
_APPLIERS = {"two_3x3": _apply_two_3x3, "factorize_nx1": _apply_factorize, "depthwise_separable": _apply_dws,
             "global_avg_pool": _apply_gap, "reduce_1x1": _apply_reduce}


# ---- width (channel dependency groups) ---------------------------------------------------------------------------

def _width_candidates(graph: Graph, report: CostReport) -> list[Rewrite]:
    from .width import scalable_scopes, scale_width

    out = []
    for s in scalable_scopes(graph, report):
        try:
            scale_width(graph, report, s, DEFAULTS["width"]["factor"])
        except ValueError:
            continue  # every group there had to stay as it is
        out.append(_make("width", s))
    return out


def _apply_width(graph: Graph, rewrite: Rewrite, report: CostReport, params: dict) -> RewriteResult:
    from .width import scale_width

    scope = params["scope"]
    try:
        g, touched = scale_width(graph, report, scope, params["factor"])
    except ValueError as e:
        raise RewriteError(f"{rewrite.id}: {e}") from None
    return RewriteResult(g, {i: (i,) for i in touched}, frozenset(touched), rewrite, graph)
