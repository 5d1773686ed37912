"""What a scene needs of a new graph before it can show it — the graph's structure, the scopes it opens with, and
their layout — worked out ahead, off the GUI thread, by whoever loads the graph (`prepare`, called on the loading
thread), so that the GUI thread only makes the items of the few boxes shown. The scene takes the preparation
(`take`) when it is that very graph's, in the flow it shows, and otherwise works it out on the spot.

Qt-free (the layout is pure): safe to run on any thread. At most one preparation is kept: the graph about to be
shown."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from netcost.costing.graph import Graph
from netcost.gui.diagram.layout import DiagramLayouter, Orientation
from netcost.gui.diagram.navigation import shown_node
from netcost.gui.diagram.structure import DiagramStructure, default_expansion
from netcost.gui.diagram.style import SIZES


@dataclass(frozen=True)
class PreparedDiagram:
    """`structure` of `graph`, `expanded` (the scopes a model opens with) and a `layouter` (in the flow it lays
    out) that has laid them out already where the loading thread prepared them (its per-scope cache). `thread`:
    the name of the thread that did the work."""

    graph: Graph
    structure: DiagramStructure
    expanded: frozenset[str]
    layouter: DiagramLayouter
    thread: str


_lock = threading.Lock()
_ahead: list[PreparedDiagram] = []


def _work_out(graph: Graph, orientation: Orientation, lay_out: bool) -> PreparedDiagram:
    st = DiagramStructure(graph)
    expanded = frozenset(default_expansion(st, graph))
    layouter = DiagramLayouter(st, SIZES, orientation)
    if lay_out:
        layouter.layout(expanded).warm()
        # the window selects the first row of a new model, and the diagram opens the scopes around it: laid out
        # here too (a second top-level layout: 0.5 s at 100k nodes)
        drawn = {nid for ids in st.nodes_in.values() for nid in ids}
        first = shown_node(graph, st, drawn, 0)
        if first is not None and (reveal := set(st.ancestors(st.scope_of(first))) - expanded):
            layouter.layout(expanded | reveal).warm()
    return PreparedDiagram(graph, st, expanded, layouter, threading.current_thread().name)


def prepare(graph: Graph, orientation: Orientation = Orientation.TOP_DOWN) -> PreparedDiagram:
    """Work out `graph`'s structure, opening scopes and their layout now (a thread opening a large file: 0.8 s
    of structure at 100k nodes), for the scene that shows it next."""
    done = _work_out(graph, orientation, lay_out=True)
    with _lock:
        _ahead[:] = [done]
    return done


def take(graph: Graph) -> PreparedDiagram | None:
    """The preparation of this very graph, once (then it is gone), or None."""
    with _lock:
        if _ahead and _ahead[0].graph is graph:
            return _ahead.pop()
    return None


def prepared_for(graph: Graph, orientation: Orientation) -> PreparedDiagram:
    """`graph`'s preparation by the thread that loaded it, its layouter turned to `orientation` (which drops its
    layout); without one, one worked out now, with nothing laid out yet (the scene lays out what it opens)."""
    ahead = take(graph)
    if ahead is None:
        return _work_out(graph, orientation, lay_out=False)
    ahead.layouter.set_orientation(orientation)
    return ahead
