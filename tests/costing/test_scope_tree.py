"""The module hierarchy as one tree (`costing.scope_tree`): parents, children in order, member rows, types, depths,
and each scope's subtotal over a report's rows."""

from __future__ import annotations

from netcost.costing import Graph, GraphInput, Node, Ref, Totals, evaluate_graph
from netcost.costing.graph import Scope
from netcost.costing.scope_tree import ROOT, ScopeTree, hierarchy_of, scope_totals


def _lin(nid: str, src: str, scope: str, out: int = 4, op: str = "Linear") -> Node:
    args = {"in_features": 4, "out_features": out} if op == "Linear" else {}
    return Node(nid, op, args, (Ref(src),), name=nid, scope=scope)


def _graph() -> Graph:
    """enc.0 and enc.1 in enc (both declared), a node outside any scope, dec (only its node's scope, with a
    hidden-only sub-scope dec.consts holding a parameter), and head.x.y whose `head.x` is not a scope."""
    nodes = (
        _lin("a", "x", "enc.0"),
        _lin("b", "a", "enc.0"),
        _lin("c", "b", "enc.1"),
        _lin("d", "c", ""),
        Node("w", "parameter", {"shape": [4]}, (), name="w", scope="dec.consts"),
        _lin("e", "d", "dec"),
        _lin("f", "e", "head.x.y"),
        _lin("g", "f", "enc.1"),  # enc.1 called again after the others: its members are not contiguous
    )
    scopes = (Scope("", "Net"), Scope("enc", "Encoder"), Scope("enc.0", "Block"), Scope("enc.1", "Block"),
              Scope("unused", "Empty"), Scope("head", "Head"))
    return Graph(nodes, (GraphInput("x", (1, 4)),), scopes=scopes)


def test_nested_scopes_parents_children_rows_types_depths() -> None:
    t = _graph().scope_tree
    assert list(t.entries) == ["", "enc", "dec", "head", "enc.0", "enc.1", "dec.consts", "head.x.y"]
    assert t.root.children == ("enc", "dec", "head")  # in order of first row
    assert t["enc"].children == ("enc.0", "enc.1") and t["enc.0"].parent == "enc"
    assert t["head.x.y"].parent == "head"  # its longest prefix in the tree: `head.x` is no scope
    assert t.rows("enc") == (0, 1, 2, 7) and t["enc"].count == 4 and (t["enc"].first, t["enc"].last) == (0, 7)
    assert t["enc.1"].direct == (2, 7)
    assert t.root.direct == (3,) and t.rows(ROOT) == tuple(range(8)) and t.root.count == 8  # `d`: outside
    assert (t["enc"].type, t["enc.0"].type, t["dec"].type, t.type_of("nowhere")) == ("Encoder", "Block", "Module",
                                                                                    "Module")
    assert (t["head.x.y"].depth, t["head.x.y"].level, t["enc.0"].level, t["enc"].level, t.root.level) == (3, 1, 1,
                                                                                                        0, 0)
    assert t.ancestors("head.x.y") == ("head", "head.x.y") and t.ancestors(ROOT) == ()
    assert list(t.chain("enc.0")) == ["enc.0", "enc", ""]
    assert "unused" not in t  # declared but holds no node
    assert t.declared == ("", "enc", "enc.0", "enc.1", "head")


def test_a_graph_without_scopes_is_one_root() -> None:
    g = Graph((_lin("a", "x", ""), _lin("b", "a", "")), (GraphInput("x", (1, 4)),))
    t = g.scope_tree
    assert list(t.entries) == [""] and t.root.direct == (0, 1) and t.declared == ()
    assert hierarchy_of(t, list(evaluate_graph(g).layers)) == ()
    assert ScopeTree.build(()).root.first == -1


def test_a_scope_with_only_hidden_nodes_is_pruned_from_a_view_but_counted() -> None:
    g = _graph()
    hidden = {"w"}
    drawn = g.scope_tree.pruned(lambda row: g.nodes[row].id not in hidden)
    assert "dec.consts" not in drawn and "dec.consts" in g.scope_tree
    assert drawn["dec"].children == () and drawn["dec"].count == 2  # its hidden parameter still counts
    assert drawn.rows("dec") == (4, 5) and drawn.rows(ROOT) == tuple(range(8))
    assert drawn.declared == g.scope_tree.declared


def test_contents_pass_over_scopes_a_view_does_not_show() -> None:
    t = _graph().scope_tree
    assert t.contents(ROOT, lambda p: p in t.declared) == [(0, "enc"), (3, None), (4, None), (5, None),
                                                          (6, "head")]
    assert t.contents("enc", lambda p: True) == [(0, "enc.0"), (2, "enc.1")]


def test_totals_per_scope_from_a_report() -> None:
    g = _graph()
    report = evaluate_graph(g)
    by_id = {r.node_id: r for r in report.layers}
    rows = [by_id.get(n.id) for n in g.nodes]
    sums = scope_totals(g.scope_tree, rows)
    assert sums[ROOT].totals == report.totals
    assert sums["enc"].totals == Totals.sum(by_id[i].totals for i in "abcg") and sums["enc"].not_costed == 0
    hier = {h.path: h for h in report.hierarchy}
    assert list(hier) == ["", "enc", "enc.0", "enc.1", "head"]  # declared ones holding a node, outer first
    assert hier["enc"].totals == sums["enc"].totals and (hier["enc"].first, hier["enc"].last) == (0, 7)
    assert hier["head"].totals.params == by_id["f"].totals.params and hier["head"].depth == 1
    missing = [None if n.id in ("b", "f") else r for n, r in zip(g.nodes, rows, strict=True)]  # not costed
    sums = scope_totals(g.scope_tree, missing)
    assert (sums[ROOT].not_costed, sums["enc"].not_costed, sums["enc.1"].not_costed, sums["head"].not_costed) == \
        (2, 1, 0, 1)
    assert sums["enc"].totals == Totals.sum(by_id[i].totals for i in "acg")


def test_edits_that_keep_every_scope_hand_the_tree_on_and_others_rebuild_it() -> None:
    g = _graph()
    tree = g.scope_tree
    edited, _ = g.set_args("a", {"in_features": 4, "out_features": 4})
    assert edited.scope_tree is tree
    assert g.with_inputs([GraphInput("x", (2, 4))]).scope_tree is tree
    added, _ = g.insert(4, [_lin("n", "d", "dec.new")], {Ref("d"): Ref("n")})  # a node in a new scope
    assert added.scope_tree is not tree and added.scope_tree["dec"].children == ("dec.new", "dec.consts")
    assert added.scope_tree.rows("dec") == (4, 5, 6)
    gone, _ = g.remove(["f"])  # head's only node: the scope goes
    assert "head" not in gone.scope_tree and "head.x.y" not in gone.scope_tree
    assert [h.path for h in evaluate_graph(gone).hierarchy] == ["", "enc", "enc.0", "enc.1"]
    moved, _ = g.replace_nodes([_lin("e", "d", "enc.0")])  # a node moves scope: the tree is built again
    assert moved.scope_tree is not tree and moved.scope_tree["enc.0"].direct == (0, 1, 5)
