"""The local rewrites of `costing.rewrites` (two_3x3, factorize_nx1, depthwise_separable, reduce_1x1,
global_avg_pool): for each kind, where it applies (its matcher) and the rewritten graph (its applier), plus the
graph-building helpers they share. The semantics of each kind are described in `costing.rewrites`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from .graph import Graph, GraphError, Node, Ref, unique_name
from .records import CostReport, LayerCost
from .registry import has_kind, kind
from .rewrite_types import DEFAULTS, Rewrite, RewriteError, RewriteResult, make_rewrite

# Input-size arguments: inferred from the incoming shape when absent, so a reader whose input changes drops them.
_INPUT_SIZE_ARGS = ("in_channels", "in_features", "num_features", "normalized_shape", "num_channels", "embed_dim",
                    "input_size")



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
    return make_rewrite("two_3x3", node.display_name, what=f"{node.display_name}: {_k_text(c['k'])} conv → {m} stacked "
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
    return make_rewrite("factorize_nx1", node.display_name,
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
    return make_rewrite("depthwise_separable", node.display_name,
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
    return make_rewrite("reduce_1x1", node.display_name, what=f"{node.display_name} ({_k_text(c['k'])}, {c['cin']} in)")


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
    return make_rewrite("global_avg_pool", node.display_name,
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


MATCHERS = {"two_3x3": _match_two_3x3, "factorize_nx1": _match_factorize, "depthwise_separable": _match_dws,
             "global_avg_pool": _match_gap, "reduce_1x1": _match_reduce}
APPLIERS = {"two_3x3": _apply_two_3x3, "factorize_nx1": _apply_factorize, "depthwise_separable": _apply_dws,
             "global_avg_pool": _apply_gap, "reduce_1x1": _apply_reduce}
