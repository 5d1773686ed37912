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

from .chain import graph_from_network
from .dtypes import DTYPE_BYTES, TOKEN_BYTES
from .errors import LayerError
from .eval_state import EvalCaches, EvalState
from .graph import Graph, Node, Ref, Value
from .node_cost import NodeError, RuleMemo, cost_layer, cost_node, frozen
from .peak_memory import report_peak
from .records import CostReport, LayerCost, Problem, SummaryFigures, Totals, empty_categories
from .scope_tree import ScopeTree, hierarchy_of
from .spec import Network

__all__ = ["PROGRESS_EVERY", "NodeError", "RuleMemo", "cost_node", "evaluate", "evaluate_graph", "evaluated_ids",
           "frozen", "input_values", "make_report", "sum_layers"]

_MAX_SUMS = 4096  # sums of tensors tried for a tie before it is taken as plausible (an LSTM stack has dozens)
Shape = tuple[int, ...]
PROGRESS_EVERY = 2048  # nodes between two `progress` calls of a full evaluation


def _check_ties(node: Node, mine: tuple[Shape, ...] | None, rows: Mapping[str, LayerCost], pos: Mapping[str, int],
                here: int) -> None:
    """torch ties whole tensors: each `shares` entry names a node that holds parameters, and its count is whole
    tensors held there, each of the same shape as one of this node's own (a crafted count would change the total).
    Only nodes placed before this one (`here`) are checked against, as a full evaluation in graph order meets
    them; an incremental one holds later rows too."""
    for other, n in node.shares:
        held = rows.get(other)
        if held is None or pos[other] > here:  # not in the graph, not costed (its own problem says why) or later
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


def _tied_by(graph: Graph) -> dict[str, list[str]]:
    """Node id -> the ids of the nodes whose parameters are tied to it."""
    back: dict[str, list[str]] = {}
    for n in graph.nodes:
        for s, _ in n.shares:
            back.setdefault(s, []).append(n.id)
    return back


def _shared_names(graph: Graph, node: Node, tied_by: Mapping[str, list[str]]) -> tuple[str, ...]:
    """The nodes this node's parameters are tied with, either way."""
    names = [graph.node(s).display_name for s, _ in node.shares if graph.has(s)] + \
        [graph.node(i).display_name for i in tied_by.get(node.id, ()) if graph.has(i)]
    return tuple(sorted(set(names)))


def _tie_partners(prev: Graph, graph: Graph, changed: set[str], tied_before: Mapping[str, list[str]]) -> set[str]:
    """The nodes whose rows a change of `changed` (edited, added or removed nodes) may change through weight ties:
    the nodes a changed node ties to, before or after (their `shared_with` names it), and the nodes tied to a
    changed one (their ties are checked against its parameters)."""
    out: set[str] = set()
    for nid in changed:
        old = prev.node(nid).shares if prev.has(nid) else ()
        new = graph.node(nid).shares if graph.has(nid) else ()
        out.update(s for s, _ in (*old, *new))
        out.update(tied_before.get(nid, ()))
    return {i for i in out if graph.has(i)}


def _holds_otherwise(old: LayerCost | None, new: LayerCost | None) -> bool:
    """Whether a node's row changed in what `_check_ties` reads of it (costed or not, its parameters, its name)."""
    if old is None or new is None:
        return old is not new
    return old.param_shapes != new.param_shapes or old.params != new.params or old.name != new.name


def _input_names(graph: Graph, node: Node) -> tuple[str, ...]:
    names = []
    for r in node.inputs:
        src = r.node if not graph.has(r.node) else graph.node(r.node).display_name
        text = src if r.index == 0 else f"{src}:{r.index}"
        if text not in names:
            names.append(text)
    return tuple(names)


def evaluate(model: Graph | Network, previous: CostReport | None = None, dirty: Collection[str] | None = None,
             progress: Callable[[int, int], None] | None = None) -> CostReport:
    """The report of a graph (`evaluate_graph`), or of a layer list, which is the chain graph it is
    (`costing.chain.graph_from_network`). A layer list must cost everywhere: the first layer that cannot be costed
    raises `LayerError` naming it (a graph's report lists its problems instead)."""
    if not isinstance(model, Network):
        return evaluate_graph(model, previous, dirty, progress)
    report = evaluate_graph(graph_from_network(model), previous, dirty, progress)
    cause = report.cause
    if cause is not None:
        read = report.state.inputs.get(cause.node_id) if report.state is not None else None
        if read and read[0] is not None and 0 <= cause.index < len(model.layers):  # node i is layer i
            # the layer's own error, as a layer list words it (its type, its name as the list shows it)
            cost_layer(model.layers[cause.index], cause.index, read[0][0], model.dtype)
        raise LayerError(cause.message, cause.field, cause.index, cause.name, cause.type)
    return report


def evaluate_graph(graph: Graph, previous: CostReport | None = None, dirty: Collection[str] | None = None,
                   progress: Callable[[int, int], None] | None = None) -> CostReport:
    """Cost every node of `graph`. With `previous` (a report of an earlier version of the same graph under the
    same dtype) and `dirty` (the ids an edit touched), only their downstream closure is evaluated again.
    `progress(done, total)` is called every few thousand nodes of a full evaluation (a caller on another thread
    shows it, and may raise from it to stop)."""
    elem = DTYPE_BYTES[graph.dtype]
    prev_graph: Graph | None = previous.graph if previous is not None else None
    before: EvalState | None = previous.state if previous is not None else None
    incremental = prev_graph is not None and before is not None and dirty is not None and \
        prev_graph.dtype == graph.dtype
    nodes = graph.nodes
    pos = graph.index
    # the caches are of pure functions (keyed by dtype too): a full evaluation after an earlier one hands them on
    caches = before.caches if before is not None else EvalCaches()
    memo = caches.rules
    if incremental:
        assert previous is not None and prev_graph is not None and before is not None and dirty is not None
        values: dict[Ref, Value] = dict(before.values)
        rows: dict[str, LayerCost] = dict(previous.by_id)
        seen_inputs: dict[str, tuple[Value | None, ...]] = dict(before.inputs)
        problems: dict[str, Problem] = {p.node_id: p for p in previous.problems}
        totals = previous.totals
        by_category = dict(previous.by_category)
        todo = {d for d in dirty if d in pos}
        for gi in graph.inputs:  # settings changes: a new input shape dirties its readers
            if values.get(Ref(gi.name)) != gi.value:
                values[Ref(gi.name)] = gi.value
                todo.update(graph.users.get(gi.name, ()))
        removed = set(prev_graph.index) - set(pos)
        tied_before = before.shared_by if before.shared_by is not None else _tied_by(prev_graph)
        if tied_before or any(graph.node(i).shares for i in todo):  # weight ties: partners' rows may change too
            todo.update(_tie_partners(prev_graph, graph, todo | removed, tied_before))
        for old_id in removed:
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
    tied_by: Mapping[str, list[str]] | None = before.shared_by if unchanged_whole and before is not None else None

    def visit(p: int, node: Node) -> tuple[LayerCost | None, tuple[Value, ...]]:
        nonlocal tied_by
        ins = tuple(values.get(r) for r in node.inputs)
        seen_inputs[node.id] = ins
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
            row, outs = cost_node(node, ins, elem, memo)  # type: ignore[arg-type]
        except NodeError as e:
            problems[node.id] = Problem(node.id, node.display_name, e.reason, e.field, e.stale, node.type_label, p)
            return None, ()
        try:
            t = _attribute(graph, node, row.totals, elem)
            _check_ties(node, row.param_shapes, rows, pos, p)
        except NodeError as e:
            problems[node.id] = Problem(node.id, node.display_name, e.reason, e.field, e.stale, node.type_label, p)
            return None, ()
        if tied_by is None:
            tied_by = _tied_by(graph)
        new = LayerCost(p, node.display_name, row.type, row.category, row.input_shape, row.output_shape, t,
                        row.args, row.inferred, _depth(graph, node), node.display_name, row.parts,
                        _shared_names(graph, node, tied_by),
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
        # (category, container, totals) of the rows the visits replaced and made: the sums change by difference
        gone: list[tuple[str, str, Totals]] = []
        prev_pos, prev_nodes = prev_graph.index, prev_graph.nodes
        made: list[tuple[str, str, Totals]] = []
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
                gone.append((old_row.category, node.scope, old_row.totals))
            if new_row is not None:
                made.append((new_row.category, node.scope, new_row.totals))
            # a new name shows in its readers' rows (and problems) too, even where their inputs are what they were
            j = prev_pos.get(node.id)
            renamed = j is not None and prev_nodes[j] is not node and prev_nodes[j].display_name != node.display_name
            if renamed or list(outs) != old_outs:
                for u in graph.users.get(node.id, ()):
                    if renamed:
                        todo.add(u)
                    heapq.heappush(heap, pos[u])
            if _holds_otherwise(old_row, new_row):  # the nodes tied to it check their ties against what it holds
                if tied_by is None:
                    tied_by = _tied_by(graph)
                for t in tied_by.get(node.id, ()):
                    if pos[t] > p:
                        todo.add(t)
                        heapq.heappush(heap, pos[t])
        totals, scope_delta = _by_difference(totals, by_category, gone, made)
        if graph.index is prev_graph.index and not problems and not previous.problems:
            # every node costed in the same place before and after (an argument edit): patch the visited rows
            # into the previous list instead of walking all nodes in Python (5 ms of a Llama-70B edit)
            patched = list(previous.layers)
            for p in done:
                patched[p] = rows[nodes[p].id]
            ordered = tuple(patched)
        else:
            ordered = tuple(_renumbered(rows, nodes))
    problem_list = tuple(_placed(problems[n.id], i) for i, n in enumerate(nodes) if n.id in problems) \
        if problems else ()
    # the same rows in the same places (an argument edit that costs everywhere): subtotals change by difference
    same_rows = incremental and previous is not None and graph.index is prev_graph.index and \
        not problem_list and not previous.problems and graph.scopes == prev_graph.scopes
    if same_rows:
        deltas = _scope_deltas(graph.scope_tree, scope_delta)
        hierarchy = tuple(replace(h, totals=h.totals + deltas[h.path]) if h.path in deltas else h
                          for h in previous.hierarchy)
    else:
        costed = {r.node_id: r for r in ordered}
        hierarchy = hierarchy_of(graph.scope_tree, [costed.get(n.id) for n in nodes])
    state = EvalState(ordered, rows, values, seen_inputs,
                      frozenset(nodes[p].id for p in done) if incremental else None, tied_by, caches,
                      base=before.token if incremental and before is not None else None)
    return make_report(
        graph.name, tuple((gi.shape, _input_dtype(gi.dtype, graph.dtype)) for gi in graph.inputs),
        graph.batch_size, graph.dtype, ordered, totals, by_category, graph=graph, problems=problem_list,
        hierarchy=hierarchy, input_names=graph.input_names,
        source=str(graph.source.get("kind", "graph")), warnings=tuple(graph.source.get("warnings", ())),
        unsupported=previous.unsupported if unchanged_whole and previous is not None else _unsupported(graph),
        state=state)


def _by_difference(totals: Totals, by_category: dict[str, Totals], gone: list[tuple[str, str, Totals]],
                   made: list[tuple[str, str, Totals]]) -> tuple[Totals, dict[str, Totals]]:
    """The totals after the rows `gone` (category, scope, totals) were replaced by the rows `made` (the category
    sums are adjusted in place), and the change of each scope's own rows (`_scope_deltas` adds them up the tree).
    Column sums per group, not a `+` and a `-` per row: exact either way (integers only)."""
    totals = totals + Totals.sum(t for _, _, t in made) - Totals.sum(t for _, _, t in gone)
    by_cat: dict[str, tuple[list[Totals], list[Totals]]] = {}
    by_scope: dict[str, tuple[list[Totals], list[Totals]]] = {}
    for side, items in enumerate((gone, made)):
        for category, scope, t in items:
            by_cat.setdefault(category, ([], []))[side].append(t)
            by_scope.setdefault(scope, ([], []))[side].append(t)
    for category, (old, new) in by_cat.items():
        by_category[category] = by_category[category] + Totals.sum(new) - Totals.sum(old)
    return totals, {scope: Totals.sum(new) - Totals.sum(old) for scope, (old, new) in by_scope.items()}


def _scope_deltas(tree: ScopeTree, own: dict[str, Totals]) -> dict[str, Totals]:
    """Each scope's change of subtotal, its sub-scopes' included, from the change of each scope's own rows."""
    out: dict[str, Totals] = {}
    for scope, change in own.items():
        for path in tree.chain(scope):
            out[path] = out[path] + change if path in out else change
    return out


def evaluated_ids(report: CostReport) -> frozenset[str] | None:
    """The node ids the incremental evaluation that made `report` visited (so views repaint only those rows);
    None after a full evaluation."""
    return report.state.evaluated if report.state is not None else None


def input_values(report: CostReport, node_id: str) -> tuple[Value | None, ...] | None:
    """The (shape, dtype) values `node_id` read in the evaluation that made `report` (None: not evaluated)."""
    return report.state.inputs.get(node_id) if report.state is not None else None


def sum_layers(rows: list[LayerCost] | tuple[LayerCost, ...]) -> tuple[Totals, dict[str, Totals]]:
    """Totals over `rows` and per category (every category present, empty ones zero)."""
    groups: dict[str, list[Totals]] = {}
    for r in rows:
        groups.setdefault(r.category, []).append(r.totals)
    by_category = empty_categories()
    for c, items in groups.items():
        by_category[c] = Totals.sum(items)
    return Totals.sum(r.totals for r in rows), by_category


def make_report(model: str, inputs: tuple[tuple[Shape, str], ...], batch_size: int, dtype: str,
                rows: tuple[LayerCost, ...], totals: Totals, by_category: dict[str, Totals], **extra: object
                ) -> CostReport:
    """Assemble a report; the torchsummary figures follow from the totals (forward + backward = 2 x activations)."""
    elem = DTYPE_BYTES[dtype]
    input_bytes = sum(prod(shape) * (TOKEN_BYTES if dt == "int64" else elem) for shape, dt in inputs)
    summary = SummaryFigures(input_bytes=input_bytes, forward_backward_bytes=2 * totals.activation_bytes,
                             params_bytes=totals.params * elem)
    return CostReport(model=model, inputs=inputs, batch_size=batch_size, dtype=dtype, layers=rows, totals=totals,
                      by_category=by_category, summary=summary, peak_of=report_peak, **extra)  # type: ignore[arg-type]


def _n_outputs(values: dict[Ref, Value], node_id: str) -> int:
    n = 0
    while Ref(node_id, n) in values:
        n += 1
    return n


def _placed(problem: Problem, index: int) -> Problem:
    """A problem numbered by its node's place now (an insert or removal above it moves it)."""
    return problem if problem.index == index else replace(problem, index=index)


def _renumbered(rows: dict[str, LayerCost], nodes: tuple[Node, ...]) -> list[LayerCost]:
    """The costed rows in graph order, each numbered by its node's place (in `rows` too, which indexes them)."""
    out = []
    for i, n in enumerate(nodes):
        row = rows.get(n.id)
        if row is not None:
            if row.index != i:
                row = rows[n.id] = replace(row, index=i)
            out.append(row)
    return out


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


def _depth(graph: Graph, node: Node) -> int:
    """Rows of a traced model sit one below their container (as torchinfo indents); a flat graph's rows at 0."""
    if not graph.scopes:
        return 0
    return graph.scope_tree[node.scope].depth + 1
