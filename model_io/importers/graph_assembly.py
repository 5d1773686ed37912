"""The graph a GraphRecorder recorded, once the forward is over: what the model holds but never used, formula
nodes whose extra outputs are read (made opaque), attention-mask plumbing grouped into its scope, and the scopes."""

from __future__ import annotations

import dataclasses
from typing import Any

from netcost.costing.conventions import measured_totals
from netcost.costing.graph import Graph, GraphInput, Measured, Node, Scope
from netcost.costing.mask_plumbing import MASK_TYPE, mask_scopes

from .graph_builder import GraphRecorder
from .module_specs import category_of
from .trace_values import tensors


def assemble_graph(rec: GraphRecorder, inputs: list[GraphInput], output: Any, name: str, dtype: str,
                   source: dict[str, Any]) -> Graph:
    """The graph `rec` recorded during a forward that returned `output`."""
    # modules and container parameters the forward never used are still held by the model
    _add_unused(rec)
    outputs = []
    for t in tensors(output):
        hit = rec.known(t)
        if hit is not None:
            outputs.append(hit)
    _make_extra_outputs_opaque(rec)
    _group_mask_plumbing(rec, {i.name for i in inputs}, {r.node for r in outputs})
    scopes = _scopes(rec)
    g = Graph(tuple(rec.nodes), tuple(inputs), tuple(outputs), name=name, dtype=dtype, scopes=scopes,
              source=source)
    return g


def _add_unused(rec: GraphRecorder) -> None:
    """Nodes for what the model holds but the forward never used: uncalled leaf modules with parameters or buffers
    (opaque, nothing measured), and container parameters and buffers no op read."""
    for path, module in rec.paths.items():
        path_leaf = rec.info[id(module)][1]
        if path_leaf and path not in rec.called:
            params = [rec.stand_ins.get(id(p), p) for p in {id(p): p for p in module.parameters()}.values()]
            buffers = list(module.buffers())
            if not params and not buffers:
                continue
            fresh = [p for p in params if id(p) not in rec.holders]
            n = sum(p.numel() for p in params)
            n_train = sum(p.numel() for p in params if p.requires_grad)
            cat = category_of(module) or "other"
            t = measured_totals(0, 0, 0, 0, n, n_train, sum(b.numel() for b in buffers), n * rec.elem, 0, cat,
                                category_of(module) is not None, rec.elem, ())
            node = Node("", type(module).__name__, {}, (), scope=path.rpartition(".")[0], module=path,
                        measured=Measured((), (), t, cat), label=type(module).__name__,
                        trainable=n_train == n, shares=rec.shares(params, path, 1))
            ref = rec.add(node, path or type(module).__name__)
            for p in fresh:
                rec.holders[id(p)] = ref.node
            rec.uncalled.append(path)
        elif not path_leaf:
            for t in [*module.parameters(recurse=False), *module.buffers(recurse=False)]:
                t = rec.stand_ins.get(id(t), t)
                if id(t) not in rec.holders and rec.known(t) is None:
                    rec.ref_of(t, path)


def _make_extra_outputs_opaque(rec: GraphRecorder) -> None:
    """A formula node whose extra outputs (an LSTM's final state) are read downstream keeps the shapes seen."""
    if not rec.extra_outputs:
        return
    read = {(r.node, r.index) for n in rec.nodes for r in n.inputs}
    for i, n in enumerate(rec.nodes):
        covered = rec.extra_outputs.get(n.id)
        if covered is not None and any(node == n.id and k >= covered for node, k in read):
            rec.nodes[i] = rec.fallback[n.id]


def _group_mask_plumbing(rec: GraphRecorder, inputs: set[str], outputs: set[str]) -> None:
    """Attention-mask index arithmetic at a scope's top level moves into one `mask` scope
    (costing.mask_plumbing)."""
    taken = {""} | set(rec.entered) | set(rec.paths) | {n.scope for n in rec.nodes}
    moves = mask_scopes(rec.nodes, rec.out_kinds, inputs, outputs, taken)
    if not moves:
        return
    rec.nodes = [dataclasses.replace(n, scope=moves[n.id]) if n.id in moves else n for n in rec.nodes]
    for path in set(moves.values()):
        rec.scope_types[path] = MASK_TYPE


def _scopes(rec: GraphRecorder) -> tuple[Scope, ...]:
    paths = {""} | set(rec.entered)
    for n in rec.nodes:
        s = n.scope
        while s:
            paths.add(s)
            s = s.rpartition(".")[0]
    out = []
    for p in sorted(paths):
        module = rec.paths.get(p)
        name = rec.scope_types.get(p) or (type(module).__name__ if module is not None else "Module")
        out.append(Scope(p, name))
    return tuple(out)
