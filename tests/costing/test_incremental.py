"""Incremental evaluation on the engine the app runs (`evaluate_graph`): after an edit only the edited nodes and
what they reach are costed again, and the result equals a full evaluation, over random graphs and edit scripts."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from netcost.costing import Graph, GraphError, GraphInput, LayerSpec, Network, Node, Ref, graph_from_network
from netcost.costing import graph_eval as ge
from netcost.costing.graph import Scope
from netcost.costing.graph_eval import evaluate_graph, evaluated_ids
from netcost.model_io.files import zoo


@pytest.fixture
def spy(monkeypatch):
    """Record the id of every node the engine costs (memo hits included: each is a visit)."""
    calls: list[str] = []
    real = ge.cost_node

    def recording(node, ins, elem, memo=None):
        calls.append(node.id)
        return real(node, ins, elem, memo)

    monkeypatch.setattr(ge, "cost_node", recording)
    return calls


def _alexnet() -> Graph:
    return graph_from_network(zoo.load_layer_list("alexnet"))


def _ids(g: Graph, *rows: int) -> list[str]:
    return [g.nodes[i].id for i in rows]


def test_editing_a_shape_changing_argument_stops_where_shapes_agree_again(spy):
    g = _alexnet()
    before = evaluate_graph(g)
    spy.clear()
    edited, dirty = g.set_args(g.nodes[6].id, {**g.nodes[6].args, "out_channels": 320})  # conv3: 384 -> 320
    after = evaluate_graph(edited, before, dirty)
    # conv3 and its ReLU change shape; conv4 gets 320 input channels but still writes 256x13x13, so the nodes after
    # it read what they read before and keep their rows
    assert spy == _ids(g, 6, 7, 8) and evaluated_ids(after) == set(_ids(g, 6, 7, 8))
    assert after.totals.params == before.totals.params - 64 * 9 * (192 + 256)  # 64 fewer 3x3 filters in/out
    assert after == evaluate_graph(edited)


def test_editing_without_shape_change_stops_at_once(spy):
    g = _alexnet()
    before = evaluate_graph(g)
    spy.clear()
    edited, dirty = g.set_args(g.nodes[8].id, {**g.nodes[8].args, "bias": True})  # conv4 gains a bias
    after = evaluate_graph(edited, before, dirty)
    assert spy == _ids(g, 8)
    assert after.totals.params == before.totals.params + 256  # conv4's bias: 256 channels
    assert after == evaluate_graph(edited)


def test_a_new_input_shape_reaches_every_node(spy):
    g = _alexnet()
    before = evaluate_graph(g)
    spy.clear()
    batch2 = g.with_inputs([replace(g.inputs[0], shape=(2, *g.inputs[0].shape[1:]))])
    after = evaluate_graph(batch2, before, set())
    assert spy == [n.id for n in g.nodes]
    assert after.totals.macs == 2 * before.totals.macs and after == evaluate_graph(batch2)


def test_a_report_of_another_dtype_is_not_reused(spy):
    g = _alexnet()
    before = evaluate_graph(g)
    spy.clear()
    half = replace(g, dtype="float16")
    after = evaluate_graph(half, before, set())
    assert spy == [n.id for n in g.nodes] and evaluated_ids(after) is None and after == evaluate_graph(half)


def test_insert_and_remove(spy):
    g = _alexnet()
    before = evaluate_graph(g)
    spy.clear()
    bn = Node("bn", "BatchNorm2d", {}, (Ref(g.nodes[1].id),), name="bn")
    inserted, dirty = g.insert(2, [bn], rewire={Ref(g.nodes[1].id): Ref("bn")})
    after = evaluate_graph(inserted, before, dirty)
    assert set(spy) == {"bn", g.nodes[2].id}  # a norm keeps the shape: the pool after it reads what it read
    assert after == evaluate_graph(inserted) and after.layers[2].name == "bn"
    spy.clear()
    removed, dirty = g.remove([g.nodes[-1].id])  # drop fc3
    after = evaluate_graph(removed, before, dirty)
    assert spy == [] and after == evaluate_graph(removed)
    assert after.totals.params == 61_264_904 - 4_097_000


# ------------------------------------------------------------------------------------------ random edit scripts
W = 8  # the model width: most nodes keep it, so most edits leave a graph that costs everywhere
SCOPES = ("", "a", "a.b", "c")
ONE_INPUT = ("Linear", "ReLU", "GELU", "LayerNorm", "Dropout", "Identity")


@st.composite
def one_input_node(draw, nid: str, src: Ref, scope: str) -> Node:
    op = draw(st.sampled_from(ONE_INPUT))
    args: dict = {}
    if op == "Linear":
        args = {"out_features": draw(st.sampled_from([W, W, W // 2])), "bias": draw(st.booleans())}
    elif op == "Dropout":
        args = {"p": 0.1}
    return Node(nid, op, args, (src,), name=nid, scope=scope, trainable=draw(st.booleans()))


@st.composite
def graphs(draw) -> Graph:
    """A small dataflow graph: a chain with residual adds, weight ties, repeated module calls and scopes."""
    nodes: list[Node] = []
    refs = [Ref("x")]
    for i in range(draw(st.integers(1, 9))):
        nid = f"n{i}"
        scope = draw(st.sampled_from(SCOPES))
        shape = draw(st.sampled_from(["chain", "chain", "add", "tie", "call"]))
        linears = [n for n in nodes if n.op == "Linear"]
        if shape == "add" and len(refs) > 1:
            a, b = draw(st.sampled_from(refs)), refs[-1]
            node = Node(nid, "add", {}, (a, b), name=nid, scope=scope)
        elif shape == "tie" and linears:
            other = draw(st.sampled_from(linears))
            node = Node(nid, "Linear", {"out_features": W, "bias": False}, (refs[-1],), name=nid, scope=scope,
                        shares=((other.id, W * W),))
        elif shape == "call" and linears:  # one module called again: only its first call holds the parameters
            first = draw(st.sampled_from(linears))
            path = first.module or f"m.{first.id}"
            if not first.module:
                nodes[nodes.index(first)] = replace(first, module=path)
            node = Node(nid, "Linear", dict(first.args), (refs[-1],), name=nid, scope=scope, module=path)
        else:
            node = draw(one_input_node(nid, refs[-1], scope))
        nodes.append(node)
        refs.append(Ref(nid))
    scopes = tuple(Scope(p) for p in ("a", "a.b", "c") if any(n.scope == p or n.scope.startswith(p + ".")
                                                              for n in nodes))
    return Graph(tuple(nodes), (GraphInput("x", (draw(st.integers(1, 3)), W)),), name="g", scopes=scopes)


@st.composite
def edits(draw, g: Graph, serial: int) -> tuple[str, Graph, set[str]]:
    """One edit through the Graph API: new arguments, a replaced node, an insert, a removal, an untie, a new name
    or a new input shape. Returns (what, the new graph, the ids it dirtied)."""
    n = len(g.nodes)
    what = draw(st.sampled_from(["args", "replace", "insert", "insert", "remove", "untie", "rename", "input"]))
    if what == "rename" and n:  # readers name it in their rows, tie partners in theirs
        node = draw(st.sampled_from(g.nodes))
        return f"rename {node.id}", *g.replace_nodes([replace(node, name=f"renamed{serial}")])
    if what == "args" and any(x.op == "Linear" for x in g.nodes):
        node = draw(st.sampled_from([x for x in g.nodes if x.op == "Linear"]))
        args = {**node.args, "out_features": draw(st.sampled_from([W, W // 2, 2 * W])), "bias": draw(st.booleans())}
        return f"set_args {node.id} {args}", *g.set_args(node.id, args)
    if what == "replace" and n:
        node = draw(st.sampled_from([x for x in g.nodes if len(x.inputs) == 1] or [g.nodes[0]]))
        new = draw(one_input_node(node.id, node.inputs[0], node.scope))
        return f"replace {node.id} by {new.op}", *g.replace_nodes([replace(new, module=node.module)])
    if what == "untie" and any(x.shares for x in g.nodes):
        node = draw(st.sampled_from([x for x in g.nodes if x.shares]))
        return f"untie {node.id}", *g.replace_nodes([replace(node, shares=())])
    if what == "remove" and n > 1:
        node = draw(st.sampled_from(g.nodes))
        try:
            return f"remove {node.id}", *g.remove([node.id])
        except GraphError:
            pass
    if what == "input":
        shape = (draw(st.integers(1, 4)), draw(st.sampled_from([W, W, W // 2])))
        return f"input {shape}", g.with_inputs([GraphInput("x", shape)]), set()
    at = draw(st.integers(0, n))
    src = Ref(g.nodes[at - 1].id) if at else Ref("x")
    nid = f"new{serial}"
    node = draw(one_input_node(nid, src, g.nodes[at - 1].scope if at else ""))
    rewire = {src: Ref(nid)} if at < n and draw(st.booleans()) else None  # into the chain, or a side branch
    return f"insert {node.op} {nid} at {at} (rewire {rewire})", *g.insert(at, [node], rewire)


def _same(inc, full) -> None:
    for f in [f for f in fields(full) if f.compare]:  # rows, totals, categories, hierarchy, problems, the graph
        assert (f.name, getattr(inc, f.name)) == (f.name, getattr(full, f.name))
    assert inc == full
    assert dict(inc.by_id) == dict(full.by_id)
    assert inc.peak_activation_bytes == full.peak_activation_bytes
    costed = {r for r in full.state.values if r.node in full.by_id or r.node == "x"}
    assert {r: inc.state.values.get(r) for r in costed} == {r: full.state.values[r] for r in costed}


@settings(max_examples=25)
@given(data=st.data())
def test_random_graph_edits_match_full_evaluation(data):
    g = data.draw(graphs())
    report = evaluate_graph(g)
    note(f"graph: {g.nodes}")
    for step in range(6):
        what, edited, dirty = data.draw(edits(g, step))
        note(what)
        inc = evaluate_graph(edited, report, dirty)
        full = evaluate_graph(edited)
        _same(inc, full)
        visited = evaluated_ids(inc)
        assert visited is not None and visited <= set(edited.index)
        g, report = edited, inc  # the next edit starts from the incremental report (its state handed on)


# ------------------------------------------------------------------------ random edits of layer lists (chains)
CONV = st.builds(lambda c, k, p, b: LayerSpec("Conv2d", {"out_channels": c, "kernel_size": k, "padding": p,
                                                          "bias": b}),
                 st.integers(1, 8), st.integers(1, 3), st.integers(0, 1), st.booleans())
SIMPLE = st.sampled_from([LayerSpec("ReLU"), LayerSpec("BatchNorm2d"), LayerSpec("Dropout", {"p": 0.1}),
                          LayerSpec("MaxPool2d", {"kernel_size": 2}), LayerSpec("Identity"), LayerSpec("GELU")])
LINEAR = st.builds(lambda n, b: LayerSpec("Linear", {"out_features": n, "bias": b}), st.integers(1, 16),
                   st.booleans())


@st.composite
def alexnet_like(draw) -> Graph:
    """A layer list as the chain graph it is: convolutions, pools (which may shrink the image to nothing: then
    the layers after it are problems), a flatten and a head."""
    features = draw(st.lists(st.one_of(CONV, SIMPLE), min_size=1, max_size=10))
    head = draw(st.lists(st.one_of(LINEAR, st.just(LayerSpec("ReLU"))), min_size=1, max_size=5))
    return graph_from_network(Network((*features, LayerSpec("Flatten"), *head), (3, draw(st.integers(12, 32)), 24)))


@st.composite
def chain_edit(draw, g: Graph, serial: int) -> tuple[str, Graph, set[str]]:
    """A layer list's edit through the Graph API: one argument, a replaced layer, an inserted or a deleted one."""
    n = len(g.nodes)
    what = draw(st.sampled_from(["arg", "arg", "replace", "insert", "delete"])) if n > 1 else "insert"
    k = draw(st.integers(0, n - 1 if what != "insert" else n))
    if what == "arg":
        node = g.nodes[k]
        key, value = draw(st.sampled_from([("out_channels", st.integers(1, 8)), ("kernel_size", st.integers(1, 3)),
                                           ("padding", st.integers(0, 2)), ("bias", st.booleans()),
                                           ("out_features", st.integers(1, 16)), ("p", st.just(0.3))]))
        if key in node.args or (node.op, key) in {("Conv2d", "padding"), ("Linear", "bias"), ("Conv2d", "bias")}:
            return f"{node.id}.{key}", *g.set_args(node.id, {**node.args, key: draw(value)})
        return f"rename {node.id}", *g.replace_nodes([replace(node, name=f"renamed{serial}")])
    if what == "delete":
        return f"delete {g.nodes[k].id}", *g.remove([g.nodes[k].id])
    spec = draw(st.one_of(CONV, SIMPLE, LINEAR))
    if what == "replace":
        old = g.nodes[k]
        return f"replace {old.id} by {spec}", *g.replace_nodes([Node(old.id, spec.type, dict(spec.args), old.inputs,
                                                                     name=old.name)])
    src = g.nodes[k - 1].id if k else g.inputs[0].name
    nid = f"new{serial}"
    node = Node(nid, spec.type, dict(spec.args), (Ref(src),), name=nid)
    return f"insert {spec} at {k}", *g.insert(k, [node], rewire={Ref(src): Ref(nid)} if k < n else None)


@settings(max_examples=25)
@given(data=st.data())
def test_random_layer_list_edits_match_full_evaluation(data):
    g = data.draw(alexnet_like())
    report = evaluate_graph(g)
    for step in range(6):
        what, edited, dirty = data.draw(chain_edit(g, step))
        note(what)
        inc = evaluate_graph(edited, report, dirty)
        _same(inc, evaluate_graph(edited))
        if not inc.problems and not report.problems and len(edited.nodes) == len(g.nodes):
            first = min(edited.index[d] for d in dirty) if dirty else len(edited.nodes)
            assert all(edited.index[i] >= first for i in evaluated_ids(inc))  # nothing above the edit is costed
        g, report = edited, inc
