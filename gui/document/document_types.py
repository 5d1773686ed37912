"""The document's small types: what a load hands it (`Loaded`, the one result of every kind of load), what an
edit did to its rows (`RowChange`, `ChangeKind`) and how edits name a node (`NodeKey`).

Also the row helpers the document and the table share: `row_runs` groups rows into the blocks that one Qt signal
each announces, `without_rows` and `with_rows` give the graphs views see between those signals.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from netcost.costing import CostReport
from netcost.costing.chain import graph_from_network
from netcost.costing.graph import Graph

NodeKey = str | int  # a node id; views that list rows (the layer table) may pass the row instead


@dataclass(frozen=True)
class Loaded:
    """A model as a load gives it: its graph; the report it was costed into where the load costed it (the
    worker for a traced model, the file job's thread for a large graph file; None: the document evaluates it);
    and a project file's other top-level keys (its view state, its recorded edits)."""

    graph: Graph
    report: CostReport | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of_report(cls, report: CostReport) -> Loaded:
        """A worker's report: its graph (a layer list's report has none: its list becomes one, marked with the
        report's source unless that is a plain layer list)."""
        graph = report.graph
        if graph is None:
            graph = graph_from_network(report.network)
            if report.source != "layers":
                graph = replace(graph, source={"kind": report.source})
        return cls(graph, report)


class ChangeKind(Enum):
    """What a command did to the rows (views hear the same begin/end signals as a list edit would give them)."""

    EDIT = "edit"  # arguments, type, name or trainable of `rows`
    INSERT = "insert"  # rows first..last are new
    REMOVE = "remove"  # `rows` are gone
    MOVE = "move"  # rows first..last now sit before `dest`
    SETTINGS = "settings"  # batch size, dtype, input shape or name
    RESET = "reset"  # any reorder: views rebuild
    DIFF = "diff"  # any graph change (a rewrite): removals, insertions, changed rows
    # the same changes run backwards (undo)
    REMOVE_BLOCK = "remove_block"
    INSERT_ROWS = "insert_rows"
    UNMOVE = "unmove"

    def undone(self) -> ChangeKind:
        """The change that undoing this one makes."""
        return _UNDONE.get(self, self)


_UNDONE = {ChangeKind.INSERT: ChangeKind.REMOVE_BLOCK, ChangeKind.REMOVE: ChangeKind.INSERT_ROWS,
           ChangeKind.MOVE: ChangeKind.UNMOVE}


@dataclass(frozen=True)
class RowChange:
    """What a command did to the rows."""

    kind: ChangeKind
    first: int = 0
    last: int = 0
    dest: int = 0  # MOVE: the row the block goes before (Qt's beginMoveRows convention)
    field: str = ""
    rows: tuple[int, ...] = ()  # EDIT: the rows changed; REMOVE: every removed row


def row_runs(rows: tuple[int, ...]) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs of consecutive ones (one signal per run)."""
    blocks: list[tuple[int, int]] = []
    for r in rows:
        if blocks and blocks[-1][1] == r - 1:
            blocks[-1] = (blocks[-1][0], r)
        else:
            blocks.append((r, r))
    return blocks


def without_rows(current: Graph, final: Graph, first: int, last: int) -> Graph:
    """`current` less rows first..last: the rows views see between two removal signals (edges as in `final`)."""
    keep = [n for i, n in enumerate(current.nodes) if not first <= i <= last]
    fin = {n.id: n for n in final.nodes}
    return replace(current, nodes=tuple(fin.get(n.id, n) for n in keep))


def with_rows(current: Graph, full: Graph, last: int) -> Graph:
    """`full`'s first rows up to `last` plus the rest of `current` (rows re-inserted block by block on undo)."""
    head = list(full.nodes[:last + 1])
    ids = {n.id for n in head}
    tail = [n for n in current.nodes if n.id not in ids]
    return replace(full, nodes=tuple(head + tail))
