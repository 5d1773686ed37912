"""Evaluate a graph: values flow along the edges, each node gets a `LayerCost`, totals are exact integer sums.

`evaluate_graph(graph, previous, dirty)` re-evaluates only the downstream closure of the `dirty` nodes, in
topological order, and stops along a path as soon as a node's inputs are what they were (its outputs then are too);
the totals are adjusted by difference. A node that cannot be costed (its own error, or an input that could not be
costed) gets no row and a `Problem`: the report says it is incomplete, never silently the old numbers.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from math import prod

from .args import check_output_shape, coerce_args
from .conventions import netcost_flops, peer_figures
from .dtypes import DTYPE_BYTES
from .errors import SpecError
from .evaluate import _part_inputs, _totals, make_report, sum_layers
from .graph import FIXED_DTYPES, Graph, Node, Ref, Value
from .records import CostReport, HierarchyNode, LayerCost, Problem, Totals
from .registry import Out, kind
from .storage import check_allocatable

_MAX_SUMS = 4096  # sums of tensors tried for a tie before it is taken as plausible (an LSTM stack has dozens)
Shape = tuple[int, ...]


class NodeError(SpecError):
    def __init__(self, reason: str, field: str | None = None, stale: bool = False) -> None:
        super().__init__(reason, field)
        self.stale = stale


def _bytes(v: Value, elem: int) -> int:
    shape, dt = v
    return prod(shape) * (elem if dt == "float" else FIXED_DTYPES.get(dt, 8))


def _functional_totals(out: Out, ins: tuple[Value, ...], outs: tuple[Value, ...], category: str, trainable: bool,
                       elem: int) -> Totals:
    read = sum(_bytes(v, elem) for v in ins) if out.read_inputs else 0
    written = 0 if out.view else sum(_bytes(v, elem) for v in outs)
    peers = peer_figures(category, out, out.params)
    p = out.params
    return Totals(params=p, trainable_params=p if trainable else 0, frozen_params=0 if trainable else p,
                  buffers=out.buffers, macs=out.macs, flops=netcost_flops(out), bias_adds=out.bias_adds,
                  elementwise_flops=out.elementwise, attention_macs=out.attention_macs, param_bytes=p * elem,
                  activation_bytes=written, read_bytes=read, written_bytes=written,
                  memory_access_bytes=read + written, **peers)


_MEMO: dict[tuple, tuple[LayerCost, tuple[Value, ...]] | NodeError] = {}
_MEMO_SIZE = 8192
PROGRESS_EVERY = 2048  # nodes between two `progress` calls of a full evaluation


def frozen(v: object) -> object:
    """`v` with dicts and lists as tuples: hashable, for memo keys."""
    if isinstance(v, dict):
        return tuple((k, frozen(x)) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return tuple(frozen(x) for x in v)
    return v


def cost_node(node: Node, ins: tuple[Value, ...], elem: int) -> tuple[LayerCost, tuple[Value, ...]]:
    """One node at its input values: its row (full parameter count) and its output values. Raises NodeError.

    Pure, so remembered: a transformer repeats the same few dozen (op, arguments, shapes) in every block."""
    if node.measured is not None:
        return _cost_node(node, ins, elem)
    try:
        key = (node.op, frozen(node.args), ins, elem, node.trainable, node.label)
        hit = _MEMO.get(key)
    except TypeError:  # an unhashable argument value: cost it as it is
        return _cost_node(node, ins, elem)
    if hit is None:
        try:
            hit = _cost_node(node, ins, elem)
        except NodeError as e:
            hit = e
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.clear()
        _MEMO[key] = hit
    if isinstance(hit, NodeError):
        raise NodeError(hit.reason, hit.field, hit.stale)
    return hit


def _cost_node(node: Node, ins: tuple[Value, ...], elem: int) -> tuple[LayerCost, tuple[Value, ...]]:
    m = node.measured
    if m is not None:
        if ins != m.inputs:
            raise NodeError(f"its inputs changed ({_values(m.inputs)} → {_values(ins)}) and it has no pure-Python "
                            f"rule: the model must be traced again to cost it", "inputs", stale=True)
        row = LayerCost(0, node.display_name, node.type_label, m.category, m.inputs[0][0] if m.inputs else (),
                        m.outputs[0][0] if m.outputs else (), m.totals, opaque=True,
                        param_shapes=None if m.totals.params else ())
        return row, m.outputs
    try:
        k = kind(node.op)
    except (KeyError, TypeError):
        raise NodeError(f"unknown op {node.op!r}", "op") from None
    try:
        if k.functional:
            out = k.fn(dict(node.args), ins)
            outs = out.outputs or ((out.shape, "float"),)
            for shape, _ in outs:
                check_output_shape(shape)
            check_allocatable(out, elem, tuple((s, elem if dt == "float" else FIXED_DTYPES.get(dt, 8))
                                               for s, dt in outs))
            category = out.category or k.category
            totals = _functional_totals(out, ins, outs, category, node.trainable, elem)
            row = LayerCost(0, node.display_name, node.type_label, category, ins[0][0] if ins else (), outs[0][0],
                            totals, args=dict(node.args), param_shapes=_param_shapes(out))
            return row, outs
        if not ins:
            raise NodeError("has no input", "inputs")
        args = node.checked_args(lambda raw: coerce_args(k.args, raw, k.dims))
        x = ins[0][0]
        out = k.fn(args, x)
        check_output_shape(out.shape)  # sizes above int64 are refused, outputs included
        check_allocatable(out, elem)
    except NodeError:
        raise
    except SpecError as e:
        raise NodeError(e.reason, e.field) from None
    except (TypeError, ValueError, ArithmeticError, IndexError, KeyError) as e:  # never let a value crash a view
        raise NodeError(f"cannot evaluate these arguments ({e})") from None
    if out.token_input and ins[0][1] == "float":
        raise NodeError("reads token ids, but its input is a float tensor", "inputs")
    outs = out.outputs or ((out.shape, "float"),)
    resolved = {**args, **out.inferred}
    totals = _totals(out, x, k.category, node.trainable, elem)
    parts = ()
    if out.parts:
        parts = tuple(
            LayerCost(0, pname, ptype, k.category, pin, p.shape, _totals(p, pin, k.category, node.trainable, elem),
                      path=f"{node.display_name}.{pname}", depth=1)
            for (pname, ptype, p), pin in zip(out.parts, _part_inputs(out, x), strict=True))
    row = LayerCost(0, node.display_name, node.type_label, k.category, x, out.shape, totals, args=resolved,
                    inferred=tuple(out.inferred), parts=parts, param_shapes=_param_shapes(out))
    return row, outs


def _param_shapes(out: Out) -> tuple[Shape, ...] | None:
    if out.tensors is not None:
        return out.tensors
    return None if out.params else ()


def _values(vs: tuple[Value, ...]) -> str:
    return ", ".join("×".join(map(str, s)) or "()" for s, _ in vs)


def _check_ties(node: Node, mine: tuple[Shape, ...] | None, rows: Mapping[str, LayerCost]) -> None:
    """torch ties whole tensors: each `shares` entry names a node that holds parameters, and its count is whole
    tensors held there, each of the same shape as one of this node's own (a crafted count would change the total)."""
    for other, n in node.shares:
        held = rows.get(other)
        if held is None:  # not in the graph, or not costed (its own problem says why)
            continue
        theirs = held.param_shapes
        if theirs == ():
            raise NodeError(f"shares {n:,} parameter elements with {held.name}, which holds no parameters", "shares")
        if theirs is None and n > held.params:  # an opaque node: only its count is known
            raise NodeError(f"shares {n:,} parameter elements with {held.name}, which holds only {held.params:,}",
                            "shares")
        if not _whole_tensors(n, mine, theirs):
            raise NodeError(f"shares {n:,} parameter elements with {held.name}, which are not whole parameter "
                            f"tensors of the same shapes in both", "shares")


def _whole_tensors(n: int, mine: tuple[Shape, ...] | None, theirs: tuple[Shape, ...] | None) -> bool:
    """Whether `n` elements are a sum of tensors both sides hold (by shape); a side not known is not a limit."""
    if mine is None and theirs is None:
        return True
    if mine is None or theirs is None:
        common = list(mine if theirs is None else theirs)  # type: ignore[arg-type]
    else:
        left = list(theirs)
        common = []
        for s in mine:
            if s in left:
                left.remove(s)
                common.append(s)
    sums = {0}
    for s in common:
        size = prod(s)
        sums |= {v + size for v in sums if v + size <= n}
        if n in sums or len(sums) > _MAX_SUMS:
            break
    return n in sums or len(sums) > _MAX_SUMS


def _attribute(graph: Graph, node: Node, t: Totals, elem: int) -> Totals:
    """Parameters are held once: a repeated call of a module, or elements tied to another node, count zero."""
    shared = 0
    if node.module:
        calls = graph.modules.get(node.module, ())
        if calls and calls[0] != node.id:
            shared = t.params
    tied = sum(n for other, n in node.shares if graph.has(other))
    if tied > t.params:  # a tie never holds more than the node has: a crafted count would change the total
        raise NodeError(f"shares {tied:,} parameter elements but holds only {t.params:,}", "shares")
    shared = min(shared + tied, t.params)
    if not shared:
        return t
    trainable = max(0, t.trainable_params - shared) if t.trainable_params else 0
    p = t.params - shared
    return replace(t, params=p, trainable_params=trainable, frozen_params=p - trainable, param_bytes=p * elem)


def _shared_names(graph: Graph, node: Node) -> tuple[str, ...]:
    """The nodes this node's parameters are tied with, either way."""
    back = graph.__dict__.get("_shared_by")
    if back is None:
        back = {}
        for n in graph.nodes:
            for s, _ in n.shares:
                back.setdefault(s, []).append(n.display_name)
        object.__setattr__(graph, "_shared_by", back)
    names = [graph.node(s).display_name for s, _ in node.shares if graph.has(s)] + back.get(node.id, [])
    return tuple(sorted(set(names)))


def _input_names(graph: Graph, node: Node) -> tuple[str, ...]:
    names = []
    for r in node.inputs:
        src = r.node if not graph.has(r.node) else graph.node(r.node).display_name
        text = src if r.index == 0 else f"{src}:{r.index}"
        if text not in names:
            names.append(text)
    return tuple(names)


def evaluate_graph(graph: Graph, previous: CostReport | None = None, dirty: Collection[str] | None = None,
                   progress: Callable[[int, int], None] | None = None) -> CostReport:
    """Cost every node of `graph`. With `previous` (a report of an earlier version of the same graph under the
    same dtype) and `dirty` (the ids an edit touched), only their downstream closure is evaluated again.
    `progress(done, total)` is called every few thousand nodes of a full evaluation (a caller on another thread
    shows it, and may raise from it to stop)."""
    elem = DTYPE_BYTES[graph.dtype]
    prev_graph: Graph | None = previous.graph if previous is not None else None
    incremental = prev_graph is not None and dirty is not None and prev_graph.dtype == graph.dtype
    nodes = graph.nodes
    pos = graph.index
    if incremental:
        assert previous is not None and prev_graph is not None and dirty is not None
        values: dict[Ref, Value] = dict(previous.__dict__["_values"])
        rows: dict[str, LayerCost] = dict(previous.by_id)
        seen_inputs: dict[str, tuple[Value, ...]] = dict(previous.__dict__["_inputs"])
        problems: dict[str, Problem] = {p.node_id: p for p in previous.problems}
        totals = previous.totals
        by_category = dict(previous.by_category)
        todo = {d for d in dirty if d in pos}
        for gi in graph.inputs:  # settings changes: a new input shape dirties its readers
            if values.get(Ref(gi.name)) != gi.value:
                values[Ref(gi.name)] = gi.value
                todo.update(graph.users.get(gi.name, ()))
        for old_id in set(prev_graph.index) - set(pos):  # removed nodes
            old = rows.pop(old_id, None)
            problems.pop(old_id, None)
            seen_inputs.pop(old_id, None)
            if old is not None:
                totals = totals - old.totals
                by_category[old.category] = by_category[old.category] - old.totals
            for r in [r for r in values if r.node == old_id]:
                del values[r]
            old_node = prev_graph.node(old_id)
            if old_node.module:  # the next call of that module may now hold its parameters
                todo.update(graph.modules.get(old_node.module, ()))
    else:
        values = {Ref(gi.name): gi.value for gi in graph.inputs}
        rows, seen_inputs, problems = {}, {}, {}
        todo = set()
    # what the previous graph derived from all its nodes still holds if no node changed its ties or measurement
    unchanged_whole = incremental and _same_whole(prev_graph, graph)  # type: ignore[arg-type]
    if unchanged_whole and "_shared_by" in prev_graph.__dict__:  # type: ignore[union-attr]
        object.__setattr__(graph, "_shared_by", prev_graph.__dict__["_shared_by"])  # type: ignore[union-attr]
    def visit(p: int, node: Node) -> tuple[LayerCost | None, tuple[Value, ...]]:
        ins = tuple(values.get(r) for r in node.inputs)
        seen_inputs[node.id] = ins  # type: ignore[assignment]
        if None in ins:
            ref = next(r for r, v in zip(node.inputs, ins, strict=True) if v is None)
            what = graph.node(ref.node).display_name if graph.has(ref.node) else ref.node
            if ref.node in rows:  # its source was costed: the output it names does not exist
                n = _n_outputs(values, ref.node)
                reason = f"reads output {ref.index} of {what}, which has {n} output{'s' * (n != 1)}"
                problems[node.id] = Problem(node.id, node.display_name, reason, "inputs", False, node.type_label, p)
            else:
                problems[node.id] = Problem(node.id, node.display_name, f"not costed: its input {what} has no "
                                            "value", "inputs", True, node.type_label, p)
            return None, ()
        try:
            row, outs = cost_node(node, ins, elem)  # type: ignore[arg-type]
        except NodeError as e:
            problems[node.id] = Problem(node.id, node.display_name, e.reason, e.field, e.stale, node.type_label, p)
            return None, ()
        try:
            t = _attribute(graph, node, row.totals, elem)
            _check_ties(node, row.param_shapes, rows)
        except NodeError as e:
            problems[node.id] = Problem(node.id, node.display_name, e.reason, e.field, e.stale, node.type_label, p)
            return None, ()
        new = LayerCost(p, node.display_name, row.type, row.category, row.input_shape, row.output_shape, t,
                        row.args, row.inferred, _depth(graph, node), node.display_name, row.parts,
                        _shared_names(graph, node),
                        tuple(s for s, _ in ins), node.id, _input_names(graph, node),  # type: ignore[misc]
                        tuple(s for s, _ in outs), node.scope, row.opaque, row.param_shapes)
        rows[node.id] = new
        for i, v in enumerate(outs):
            values[Ref(node.id, i)] = v
        return new, outs

    if not incremental:
        for p, node in enumerate(nodes):
            if progress is not None and p % PROGRESS_EVERY == 0:
                progress(p, len(nodes))
            visit(p, node)
        ordered = tuple(rows[n.id] for n in nodes if n.id in rows)
        totals, by_category = sum_layers(ordered)
    else:
        heap = [pos[i] for i in todo]
        heapq.heapify(heap)
        done: set[int] = set()
        scope_delta: dict[str, Totals] = {}  # container -> change of its subtotal
        while heap:
            p = heapq.heappop(heap)
            if p in done:
                continue
            done.add(p)
            node = nodes[p]
            if node.id not in todo and node.id in rows and \
                    seen_inputs.get(node.id) == tuple(values.get(r) for r in node.inputs):
                continue  # an input it does not read changed: nothing to do
            old_row = rows.pop(node.id, None)
            old_outs = [values.pop(Ref(node.id, i)) for i in range(_n_outputs(values, node.id))]
            problems.pop(node.id, None)
            new_row, outs = visit(p, node)
            if old_row is not None:
                totals = totals - old_row.totals
                by_category[old_row.category] = by_category[old_row.category] - old_row.totals
            if new_row is not None:
                totals = totals + new_row.totals
                by_category[new_row.category] = by_category[new_row.category] + new_row.totals
            if old_row is not None or new_row is not None:
                change = (new_row.totals if new_row is not None else Totals()) - \
                    (old_row.totals if old_row is not None else Totals())
                path = node.scope
                while True:
                    scope_delta[path] = scope_delta.get(path, Totals()) + change
                    if not path:
                        break
                    path = path.rpartition(".")[0]
            if list(outs) != old_outs:
                for u in graph.users.get(node.id, ()):
                    heapq.heappush(heap, pos[u])
        if graph.index is prev_graph.index and not problems and not previous.problems:
            # every node costed in the same place before and after (an argument edit): patch the visited rows
            # into the previous list instead of walking all nodes in Python (5 ms of a Llama-70B edit)
            patched = list(previous.layers)
            for p in done:
                patched[p] = rows[nodes[p].id]
            ordered = tuple(patched)
        else:
            ordered = tuple(_renumber(rows[n.id], i) for i, n in enumerate(nodes) if n.id in rows)
    problem_list = tuple(problems[n.id] for n in nodes if n.id in problems) if problems else ()
    # the same rows in the same places (an argument edit that costs everywhere): subtotals change by difference
    same_rows = incremental and previous is not None and graph.index is prev_graph.index and \
        not problem_list and not previous.problems and graph.scopes == prev_graph.scopes
    hierarchy = tuple(replace(h, totals=h.totals + scope_delta[h.path]) if h.path in scope_delta else h
                      for h in previous.hierarchy) if same_rows else _hierarchy(graph, ordered)
    report = make_report(
        graph.name, tuple((gi.shape, _input_dtype(gi.dtype, graph.dtype)) for gi in graph.inputs),
        graph.batch_size, graph.dtype, ordered, totals, by_category, graph=graph, problems=problem_list,
        hierarchy=hierarchy, input_names=graph.input_names,
        source=str(graph.source.get("kind", "graph")), warnings=tuple(graph.source.get("warnings", ())),
        unsupported=previous.unsupported if unchanged_whole and previous is not None else _unsupported(graph))
    object.__setattr__(report, "_values", values)
    object.__setattr__(report, "_inputs", seen_inputs)
    object.__setattr__(report, "_by_id", rows)  # (the rows by node id, as `CostReport.by_id` would build them)
    # which nodes this evaluation visited (None: all of them), so views repaint only those rows
    object.__setattr__(report, "_evaluated", frozenset(nodes[p].id for p in done) if incremental else None)
    return report


def evaluated_ids(report: CostReport) -> frozenset[str] | None:
    """The node ids the incremental evaluation that made `report` visited; None after a full evaluation."""
    return report.__dict__.get("_evaluated")


def input_values(report: CostReport, node_id: str) -> tuple[Value | None, ...] | None:
    """The (shape, dtype) values `node_id` read in the evaluation that made `report` (None: not evaluated)."""
    seen = report.__dict__.get("_inputs")
    return None if seen is None else seen.get(node_id)


def _n_outputs(values: dict[Ref, Value], node_id: str) -> int:
    n = 0
    while Ref(node_id, n) in values:
        n += 1
    return n


def _renumber(row: LayerCost, index: int) -> LayerCost:
    return row if row.index == index else replace(row, index=index)


def _input_dtype(kind_: str, dtype: str) -> str:
    return dtype if kind_ == "float" else kind_


def _same_whole(old: Graph, new: Graph) -> bool:
    """The same nodes in the same places, and the ones an edit replaced keep their names, weight ties and trace
    measurements (what `_shared_names` and `_unsupported` read of every node)."""
    if new.index is not old.index:
        return False
    return all(a.display_name == b.display_name and a.shares == b.shares and a.measured == b.measured
               for a, b in zip(old.nodes, new.nodes, strict=True) if a is not b)


def _unsupported(graph: Graph) -> tuple[dict, ...]:
    out = []
    for n in graph.nodes:
        if n.measured is not None:
            for op, count in n.measured.unsupported:
                out.append({"op": op, "count": count, "module": n.display_name})
    return tuple(out)


def _hierarchy(graph: Graph, rows: tuple[LayerCost, ...]) -> tuple[HierarchyNode, ...]:
    """Containers with the rows they hold (first and last row index), their subtotals (sums of the costed members)
    and how many members are not costed. Every container of the graph is listed, a wholly uncosted one too."""
    if not graph.scopes:
        return ()
    # Each row is summed once into its own scope, then scopes into their parents, deepest first: summing every
    # scope's members directly would add a row once per enclosing scope.
    costed = {r.node_id: r for r in rows}
    span: dict[str, list[int]] = {}  # path -> [first, last] node row (rows not costed included)
    direct: dict[str, list[Totals]] = {}
    missing: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        r = costed.get(node.id)
        if r is not None:
            direct.setdefault(node.scope, []).append(r.totals)
        path = node.scope
        while True:
            got = span.get(path)
            if got is None:
                span[path] = [i, i]
            else:
                got[1] = i
            if r is None:
                missing[path] = missing.get(path, 0) + 1
            if not path:
                break
            path = path.rpartition(".")[0]
    subtotal = {path: Totals.sum(ts) for path, ts in direct.items()}
    for path in sorted(span, key=lambda p: -p.count(".") if p else 1):
        if path and path in subtotal:
            parent = path.rpartition(".")[0]
            subtotal[parent] = subtotal[parent] + subtotal[path] if parent in subtotal else subtotal[path]
    out = []
    for s in graph.scopes:
        first_last = span.get(s.path)
        if first_last is None:
            continue
        out.append(HierarchyNode(s.path, s.type, s.depth, first_last[0], first_last[1],
                                 subtotal.get(s.path, Totals()), missing.get(s.path, 0)))
    out.sort(key=lambda h: (h.first, -h.last))
    return tuple(out)


def _depth(graph: Graph, node: Node) -> int:
    """Rows of a traced model sit one below their container (as torchinfo indents); a flat graph's rows at 0."""
    if not graph.scopes:
        return 0
    return (node.scope.count(".") + 1 if node.scope else 0) + 1
