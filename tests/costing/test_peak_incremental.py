"""The peak activation of a report evaluated incrementally is updated where the edit changed sizes
(costing.peak_memory.PeakTracker) and equals the peak of a full evaluation, edit after edit: branches, views,
in-place ops, a multi-output split, graph outputs and an input nobody reads."""

from __future__ import annotations

from hypothesis import given, note, settings
from hypothesis import strategies as st

from netcost.costing.graph import Graph, GraphInput, Node, Ref
from netcost.costing.graph_eval import evaluate_graph

WIDTHS = st.sampled_from([4, 8, 12, 16, 32])


def _graph(blocks: int) -> Graph:
    """`blocks` residual blocks: Linear -> ReLU(inplace) -> Linear, a transpose (a view) read twice by a bmm, a
    split into two views (one output each) added back, the residual add; a second input that no node reads."""
    nodes: list[Node] = []
    src = Ref("x")
    for b in range(blocks):
        p = f"b{b}"
        nodes += [Node(f"{p}.fc1", "Linear", {"out_features": 16}, (src,), module=f"{p}.fc1"),
                  Node(f"{p}.act", "ReLU", {"inplace": True}, (Ref(f"{p}.fc1"),), module=f"{p}.act"),
                  Node(f"{p}.fc2", "Linear", {"out_features": 8}, (Ref(f"{p}.act"),), module=f"{p}.fc2"),
                  Node(f"{p}.t", "transpose", {"dim0": 1, "dim1": 2}, (Ref(f"{p}.fc2"),)),
                  Node(f"{p}.gram", "bmm", {}, (Ref(f"{p}.fc2"), Ref(f"{p}.t"))),
                  Node(f"{p}.halves", "split", {"split_size": 4, "dim": -1}, (Ref(f"{p}.gram"),)),
                  Node(f"{p}.sum", "add", {}, (Ref(f"{p}.halves", 0), Ref(f"{p}.halves", 1))),
                  Node(f"{p}.proj", "Linear", {"out_features": 8}, (Ref(f"{p}.sum"),), module=f"{p}.proj"),
                  Node(f"{p}.res", "add", {}, (src, Ref(f"{p}.proj")))]
        src = Ref(f"{p}.res")
    return Graph(tuple(nodes), (GraphInput("x", (2, 8, 8)), GraphInput("unused", (3, 3))),
                 outputs=(src, Ref("b0.fc1")))


@st.composite
def edit(draw, graph: Graph) -> tuple[str, Graph, set[str]]:
    """An argument edit that keeps the structure: a width (which may make the next rows not costed) or a split."""
    block = draw(st.integers(0, len({n.id.split(".")[0] for n in graph.nodes}) - 1))
    name, key = draw(st.sampled_from([("fc1", "out_features"), ("fc2", "out_features"),
                                      ("proj", "out_features"), ("halves", "split_size")]))
    nid = f"b{block}.{name}"
    value = draw(WIDTHS) if key == "out_features" else draw(st.sampled_from([2, 4, 8]))
    edited, dirty = graph.set_args(nid, {**graph.node(nid).args, key: value})
    return f"{nid}.{key}={value}", edited, dirty


@settings(max_examples=30, deadline=None)
@given(data=st.data(), blocks=st.integers(1, 4))
def test_incremental_peak_equals_a_full_evaluation_after_every_edit(data, blocks: int) -> None:  # noqa: ANN001
    graph = _graph(blocks)
    report = evaluate_graph(graph)
    assert report.peak_activation_bytes is not None
    tracker = report.state.caches.peak
    updated = 0
    for _ in range(8):
        what, graph, dirty = data.draw(edit(graph))
        note(what)
        report = evaluate_graph(graph, report, dirty)
        full = evaluate_graph(graph)
        assert report.peak_activation_bytes == full.peak_activation_bytes
        if report.complete and report.state.caches.peak is tracker:
            updated += 1  # the same tracker, updated in place: not walked again from the first node
        tracker = report.state.caches.peak
    note(f"updated in place: {updated}")


def test_an_argument_edit_updates_the_tracker_instead_of_walking_every_node() -> None:
    graph = _graph(3)
    report = evaluate_graph(graph)
    before = report.peak_activation_bytes
    tracker = report.state.caches.peak
    graph, dirty = graph.set_args("b1.fc1", {"out_features": 64})
    edited = evaluate_graph(graph, report, dirty)
    assert edited.peak_activation_bytes == evaluate_graph(graph).peak_activation_bytes > before
    assert edited.state.caches.peak is tracker and tracker.token is edited.state.token
    graph, dirty = graph.set_args("b1.fc1", {"out_features": 16})  # back: the first figure again
    assert evaluate_graph(graph, edited, dirty).peak_activation_bytes == before
