"""`DiagramNavigation`: from rows to boxes and along the edges — which box shows a row (a hidden view node shows
as the block it feeds; a folded scope as its box), which rows a box stands for, the boxes one edge up or
downstream, what scopes must open to show a row, and find by name, type or op."""

from __future__ import annotations

from collections.abc import Collection

from netcost.costing.graph import Graph
from netcost.gui.diagram.context import DiagramContext
from netcost.gui.diagram.keys import BoxKey, InputKey, ScopeKey
from netcost.gui.diagram.structure import DiagramStructure


def shown_node(graph: Graph, st: DiagramStructure, drawn: Collection[str], row: int) -> str | None:
    """The drawn node that stands for `row` of `graph`: itself, or for a hidden view node the first drawn one it
    feeds (else the one it reads)."""
    if not 0 <= row < len(graph.nodes):
        return None
    nid = graph.nodes[row].id
    seen = 0
    start = nid
    while nid in st.hidden and seen < 64:
        users = graph.users.get(nid, ())
        if not users:
            break
        nid = users[0]
        seen += 1
    if nid in st.hidden:
        nid = start
        while nid in st.hidden and graph.node(nid).inputs and seen < 128:
            nid = graph.node(nid).inputs[0].node
            seen += 1
    return nid if nid in drawn else None


class DiagramNavigation:
    def __init__(self, scene: DiagramContext) -> None:
        self.scene = scene

    def shown_node(self, row: int) -> str | None:
        """The drawn node that stands for `row`: itself, or for a hidden view node the first drawn one it feeds
        (else the one it reads)."""
        return shown_node(self.scene.document.graph, self.scene.structure, self.scene.drawn, row)

    def key_for_row(self, row: int) -> BoxKey | None:
        """The visible box showing `row`: its block, or the outermost folded scope around it."""
        nid = self.shown_node(row)
        return None if nid is None else self.scene.structure.visible_key(nid, self.scene.state.expanded or set())

    def rows_of_key(self, key: BoxKey) -> list[int]:
        st = self.scene.structure
        if isinstance(key, ScopeKey):
            return list(st.scopes.rows(key.path))
        if isinstance(key, InputKey):
            return []
        return [st.row[key]]

    def scopes_to_reveal(self, row: int) -> set[str]:
        """The folded scopes around `row`'s node that must open for its own block to show."""
        st = self.scene.structure
        nid = self.shown_node(row)
        if nid is None:
            return set()
        return set(st.ancestors(st.scope_of(nid))) - (self.scene.state.expanded or set())

    def visible_units(self) -> list[tuple[int, str]]:
        """(first row, scope path or '') of each visible box, in row order."""
        st = self.scene.structure
        layout = self.scene.layout
        out = []
        for key in (layout.boxes if layout else ()):
            if isinstance(key, ScopeKey):
                out.append((st.scopes[key.path].first, key.path))
            elif isinstance(key, str):
                out.append((st.row[key], ""))
        return sorted(out)

    def neighbours(self, key: BoxKey, forward: bool) -> list[BoxKey]:
        """Visible keys one edge downstream (forward) or upstream of `key`, left to right."""
        layout = self.scene.layout
        out: list[BoxKey] = []
        for r in (layout.routes if layout else ()):
            if (r.src if forward else r.dst) == key:
                k = r.dst if forward else r.src
                if k not in out:
                    out.append(k)
        boxes = layout.boxes if layout else {}
        return sorted(out, key=lambda k: boxes[k].x if k in boxes else 0.0)

    def find(self, text: str) -> list[int]:
        """Rows of the drawn nodes whose name, type or op contains `text` (case-insensitive), in row order."""
        needle = text.strip().lower()
        if not needle:
            return []
        drawn = self.scene.drawn
        return [r for r, n in enumerate(self.scene.document.graph.nodes) if n.id in drawn
                and (needle in n.display_name.lower() or needle in n.type_label.lower() or needle in n.op.lower())]
