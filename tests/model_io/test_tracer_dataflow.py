"""Property: the traced graph's edges are the program's data flow, whatever the forward creates, frees and joins.

Random small programs create tensors inside `forward` (`torch.tensor([])` as a KV cache starts, `torch.tensor(0.5)`
scalars), concatenate and reshape them, run linear layers, and free temporaries in between, so that torch reuses
their memory. Each linear layer is called once, so its node names the step. The oracle is the program itself,
simulated without torch: which linear calls each linear call's input (and each output) depends on. The graph must
give exactly those ancestors, on the meta device and on real CPU tensors (which are freed, addresses reused), and
its MACs must equal FlopCounterMode's.
"""

from __future__ import annotations

import gc
from enum import Enum

import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing.graph import Graph
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.importers.tracer import InputSpec, trace_graph

D = 8  # feature width of every non-empty tensor: (rows, D)


class Step(Enum):
    LINEAR = "linear"
    FRESH = "fresh"  # torch.tensor([]): an empty 1-D tensor, as transformers' DynamicLayer starts its cache
    CAT = "cat"  # rows of two tensors (an empty fresh one joins as torch.cat's legacy rule allows)
    RESHAPE = "reshape"
    SCALE = "scale"  # times a fresh scalar tensor
    ADD = "add"  # plus the column sums of another (broadcast)
    DROP = "drop"  # free a temporary


Program = list[tuple[Step, int, int]]


def _pick(pool: list, k: int, nonempty: bool) -> int | None:
    live = [i for i, t in enumerate(pool) if t is not None and (not nonempty or t[0] != "empty")]
    return live[k % len(live)] if live else None


def _nonempty(pool: list) -> int:
    return sum(1 for t in pool if t is not None and t[0] != "empty")


def simulate(program: Program) -> tuple[dict[int, frozenset[int]], list[frozenset[int]]]:
    """Without torch: for each linear call, the linear calls its input depends on; the same for each output."""
    pool: list[tuple[str, frozenset[int]] | None] = [("rows", frozenset())]
    linear_deps: dict[int, frozenset[int]] = {}
    calls = 0
    for step, a, b in program:
        i, j = _pick(pool, a, True), _pick(pool, b, True)
        if step is Step.LINEAR and i is not None:
            linear_deps[calls] = pool[i][1]
            pool.append(("rows", pool[i][1] | {calls}))
            calls += 1
        elif step is Step.FRESH:
            pool.append(("empty", frozenset()))
        elif step is Step.CAT and i is not None:
            k = _pick(pool, b, False)
            pool.append(("rows", pool[k][1] | pool[i][1]))
        elif step in (Step.RESHAPE, Step.SCALE) and i is not None:
            pool.append(("rows", pool[i][1]))
        elif step is Step.ADD and i is not None and j is not None:
            pool.append(("rows", pool[i][1] | pool[j][1]))
        elif step is Step.DROP and i is not None and _nonempty(pool) > 1:
            pool[i] = None
    return linear_deps, [t[1] for t in pool if t is not None and t[0] == "rows"]


class Traced(nn.Module):
    def __init__(self, program: Program) -> None:
        super().__init__()
        self.program = program
        self.lins = nn.ModuleList(nn.Linear(D, D) for _ in simulate(program)[0])  # one per call made

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        pool: list[tuple[str, torch.Tensor] | None] = [("rows", x)]
        calls = 0
        for step, a, b in self.program:
            i, j = _pick(pool, a, True), _pick(pool, b, True)
            if step is Step.LINEAR and i is not None:
                pool.append(("rows", self.lins[calls](pool[i][1])))
                calls += 1
            elif step is Step.FRESH:
                pool.append(("empty", torch.tensor([], device=x.device)))
            elif step is Step.CAT and i is not None:
                k = _pick(pool, b, False)
                pool.append(("rows", torch.cat([pool[k][1], pool[i][1]])))
            elif step is Step.RESHAPE and i is not None:
                t = pool[i][1]
                pool.append(("rows", t.reshape(-1, 2, D // 2).transpose(1, 2).reshape(-1, D)))
            elif step is Step.SCALE and i is not None:
                pool.append(("rows", pool[i][1] * torch.tensor(0.5, device=x.device)))
            elif step is Step.ADD and i is not None and j is not None:
                pool.append(("rows", pool[i][1] + pool[j][1].sum(0, keepdim=True)))
            elif step is Step.DROP and i is not None and _nonempty(pool) > 1:
                pool[i] = None
                gc.collect()  # the temporary is gone before the next tensor is made: its address is free again
        return tuple(t[1] for t in pool if t is not None and t[0] == "rows")


def _linear_ancestors(graph: Graph, node_id: str, linear_ids: dict[str, int]) -> frozenset[int]:
    by_id = {n.id: n for n in graph.nodes}
    seen: set[str] = set()
    stack = [r.node for r in by_id[node_id].inputs] if node_id in by_id else []  # else a graph input
    while stack:
        nid = stack.pop()
        if nid in seen or nid not in by_id:
            continue
        seen.add(nid)
        stack.extend(r.node for r in by_id[nid].inputs)
    return frozenset(linear_ids[n] for n in seen if n in linear_ids)


steps = st.tuples(st.sampled_from(Step), st.integers(0, 7), st.integers(0, 7))


@given(program=st.lists(steps, min_size=1, max_size=14), rows=st.integers(1, 3), meta=st.booleans())
def test_the_graph_edges_are_the_data_flow(program: Program, rows: int, meta: bool) -> None:
    model = Traced(program)
    if meta:
        model = model.to("meta")
    graph = trace_graph(model, [InputSpec((rows, D))], meta=meta)
    linear_ids = {n.id: int(n.module.rpartition(".")[2]) for n in graph.nodes
                  if n.module and n.module.startswith("lins.")}
    want_linear, want_outputs = simulate(program)
    assert sorted(linear_ids.values()) == sorted(want_linear)
    for nid, k in linear_ids.items():
        assert _linear_ancestors(graph, nid, linear_ids) == want_linear[k], f"lins.{k} reads the wrong tensors"
    got_outputs = []
    for ref in graph.outputs:
        own = {linear_ids[ref.node]} if ref.node in linear_ids else set()
        got_outputs.append(_linear_ancestors(graph, ref.node, linear_ids) | own)
    assert got_outputs == want_outputs
    report = evaluate_graph(graph)  # every edge is shape-consistent: the evaluation re-derives each shape
    assert not report.problems
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        Traced(program).to("meta")(torch.empty(rows, D, device="meta"))
    assert report.totals.macs == counter.get_total_flops() // 2
