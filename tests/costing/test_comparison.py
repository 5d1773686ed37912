"""costing.comparison on hand-made graphs: rows matched by node id within one load and by name across two, removed
rows listed where they stood, a rewrite's new rows grouped with the row they replace, design vs settings."""

from __future__ import annotations

from netcost.costing import rewrites as R
from netcost.costing.comparison import compare
from netcost.costing.graph import Graph, GraphInput, Node, Ref
from netcost.costing.graph_eval import evaluate_graph

X = GraphInput("x", (1, 16, 32, 32))


def conv(node_id: str, out: int, k: int, src: str = "x", name: str = "", scope: str = "") -> Node:
    return Node(node_id, "Conv2d", {"out_channels": out, "kernel_size": k, "padding": k // 2}, (Ref(src),),
                name=name or node_id, scope=scope)


def chain(*nodes: Node) -> Graph:
    return Graph(tuple(nodes), (X,), name="net")


def statuses(c) -> list[tuple[str, str]]:
    return [(d.name, d.status) for d in c.ordered]


def test_a_renamed_node_is_the_same_row_within_one_load_and_a_new_one_across_two() -> None:
    base = evaluate_graph(chain(conv("a", 32, 3), conv("b", 32, 3, "a")))
    renamed = evaluate_graph(chain(conv("a", 32, 3), conv("b", 32, 3, "a", name="head")))
    same_load = compare(base, renamed)
    assert statuses(same_load) == [("a", "same"), ("head", "same")] and same_load.removed == ()
    # two files: the ids mean nothing to each other, the names decide (the removed row stands where it stood)
    two_files = compare(base, renamed, shared_ids=False)
    assert statuses(two_files) == [("a", "same"), ("b", "removed"), ("head", "added")]
    assert [r.name for r in two_files.removed] == ["b"] and two_files.counts() == {"same": 1, "changed": 0,
                                                                                 "added": 1}


def test_ids_that_coincide_across_two_files_do_not_pair_different_layers() -> None:
    # file A: n1 = 5×5 conv "wide"; file B: n1 = 3×3 conv "narrow", then n2 = a 5×5 conv named "wide"
    a = evaluate_graph(chain(conv("n1", 32, 5, name="wide")))
    b = evaluate_graph(chain(conv("n1", 32, 3, name="narrow"), conv("n2", 32, 5, "n1", name="wide")))
    assert statuses(compare(a, b, shared_ids=False)) == [("narrow", "added"), ("wide", "changed")]
    c = compare(a, b, shared_ids=False)
    # "wide" now reads 32 channels, not 16: 32·32·25 + 32 params instead of 16·32·25 + 32
    assert c.rows["n2"].delta.params == (32 * 32 * 25 + 32) - (16 * 32 * 25 + 32)
    assert c.delta.params == c.current.totals.params - c.baseline.totals.params == 16 * 32 * 9 + 32 + 32 * 16 * 25


def test_a_rewrite_replaces_its_row_in_the_listing_and_in_its_scope_group() -> None:
    g = chain(conv("stem", 32, 3, scope="stem"), conv("big", 64, 5, "stem", scope="body"),
              conv("head", 10, 1, "big", scope="head"))
    base = evaluate_graph(g)
    done = R.apply(g, R.find(g, "two_3x3:big", base), base)
    origin = {new: old for old, news in done.mapping.items() for new in news if new != old}
    after = evaluate_graph(done.graph)
    c = compare(base, after, origin)
    listed = statuses(c)
    assert listed[0] == ("stem", "same") and listed[1] == ("big", "removed") and listed[-1] == ("head", "same")
    added = [d for d in c.ordered if d.status == "added"]
    assert {d.name for d in added} == {n.name for n in done.graph.nodes} - {"stem", "head"}
    assert all(d.replaces == ("big",) for d in added)
    # per scope: the body group holds the new rows; stem and head are untouched
    groups = {gr.label: gr for gr in c.groups(1)}
    assert groups["stem"].delta.params == groups["head"].delta.params == 0
    assert groups["body"].delta.params == c.delta.params != 0
    assert c.kind == "design" and c.settings == ()


def test_a_settings_change_is_not_a_design_change() -> None:
    g = chain(conv("a", 32, 3), conv("b", 32, 3, "a"))
    bigger = g.with_inputs([GraphInput("x", (4, 16, 64, 64))])
    c = compare(evaluate_graph(g), evaluate_graph(bigger))
    assert c.settings == ("input 1×16×32×32 → 4×16×64×64", "batch 1 → 4")
    assert c.kind == "settings" and c.describe().startswith("settings change, not a design change")
    # same params, 4 × 4 the MACs (batch 4, 4× the pixels), every row "changed" (its output shape moved)
    assert c.delta.params == 0 and c.current.totals.macs == 16 * c.baseline.totals.macs
    assert {d.status for d in c.ordered} == {"changed"}


def test_a_kept_row_a_rewrite_adds_to_is_named_for_both() -> None:
    from netcost.model_io.files.zoo import load_model_graph

    base = load_model_graph("alexnet")
    rw = R.find(base, "global_avg_pool:fc1")
    result = R.apply(base, rw)
    origin = {new: old for old, news in result.mapping.items() for new in news if new != old}
    c = compare(evaluate_graph(base), evaluate_graph(result.graph), origin)
    group = next(g for g in c.groups(0) if "gap" in g.rows)
    # the pooling joins the Flatten it was put before; its FLOPs are new, the Flatten's are still 0
    assert group.label == "Flatten-13 + gap" and group.before.flops == 0 < group.after.flops
