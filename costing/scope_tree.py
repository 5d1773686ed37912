"""The module hierarchy of a graph as one tree: every view and the evaluator read the scopes from here.

A scope is a container module (a traced model's `layer1.0`) or a group of a hand-made graph. The tree holds the
paths the graph declares (`Graph.scopes`) and the paths its nodes sit in (`Node.scope`), those that hold at least
one node (directly or below), and the root `""` always. A scope's parent is its longest dotted prefix in the tree
(`a.b.c` sits in `a.b`, or in `a` when the tree has no `a.b`), so a scope's members are exactly the nodes whose
scope path starts with it. The tree is built once per graph structure (`Graph.scope_tree`, handed on by edits
that keep every node's scope) and knows nothing of costs; `scope_totals` sums a report's rows over it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from .records import HierarchyNode, LayerCost, Totals

ROOT = ""


class _Scoped(Protocol):
    @property
    def scope(self) -> str: ...


class _Declared(Protocol):
    @property
    def path(self) -> str: ...

    @property
    def type(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ScopeEntry:
    """One scope of the tree. Rows are node positions in the graph."""

    path: str
    parent: str | None  # None for the root
    type: str  # the declared class ("Module" when the graph does not declare the path)
    declared: bool  # listed in `Graph.scopes` (the report's hierarchy lists only those)
    depth: int  # dotted depth: `layer1.0` is 2, the root 0 (as `Scope.depth`)
    level: int  # nesting in the tree: 0 for the root and its children, 1 below them, ...
    first: int  # first member row (-1 when the scope holds nothing: only an empty graph's root)
    last: int  # last member row, inclusive
    count: int  # member nodes, nested ones included
    direct: tuple[int, ...]  # rows of the nodes directly inside, in graph order
    children: tuple[str, ...]  # child scopes, in order of their first row


class ScopeTree:
    """The scopes of one graph structure: parents, children in order, member rows, types and depths."""

    def __init__(self, entries: dict[str, ScopeEntry], declared: tuple[str, ...],
                 whole: ScopeTree | None = None) -> None:
        self.entries = entries  # path -> entry; the root first, then by depth and first row
        self.declared = declared  # declared paths in the tree, in the graph's order
        self._whole = whole or self  # the tree before `pruned`: its children give the rows of every member
        self._rows: dict[str, tuple[int, ...]] = {}
        self._ancestors: dict[str, tuple[str, ...]] = {}

    @classmethod
    def build(cls, nodes: Sequence[_Scoped], scopes: Iterable[_Declared] = ()) -> ScopeTree:
        types: dict[str, str] = {}
        for s in scopes:
            types.setdefault(s.path, s.type)
        direct: dict[str, list[int]] = {}
        for i, n in enumerate(nodes):
            direct.setdefault(n.scope, []).append(i)
        known = set(types) | set(direct) | {ROOT}
        parent: dict[str, str | None] = {ROOT: None}
        for p in known:
            if p:
                q = p.rpartition(".")[0]
                while q and q not in known:
                    q = q.rpartition(".")[0]
                parent[p] = q
        # deepest first: each scope's span and count reach its parent before the parent is visited
        order = sorted(known, key=lambda p: -p.count(".") if p else 1)
        first: dict[str, int] = {}
        last: dict[str, int] = {}
        count: dict[str, int] = {}
        kids: dict[str, list[str]] = {}
        for p in order:
            rows = direct.get(p)
            if rows:
                first[p] = min(first.get(p, rows[0]), rows[0])
                last[p] = max(last.get(p, rows[-1]), rows[-1])
                count[p] = count.get(p, 0) + len(rows)
            up = parent[p]
            if up is None or p not in count:  # the root, or a scope that holds no node: not in the tree
                continue
            kids.setdefault(up, []).append(p)
            first[up] = min(first.get(up, first[p]), first[p])
            last[up] = max(last.get(up, last[p]), last[p])
            count[up] = count.get(up, 0) + count[p]
        entries: dict[str, ScopeEntry] = {}
        stack: list[tuple[str, int]] = [(ROOT, 0)]
        while stack:  # from the root down, so each entry knows its level
            p, level = stack.pop()
            children = tuple(sorted(kids.get(p, ()), key=first.__getitem__))
            entries[p] = ScopeEntry(p, parent[p], types.get(p, "Module"), p in types,
                                    p.count(".") + 1 if p else 0, level, first.get(p, -1), last.get(p, -1),
                                    count.get(p, 0), tuple(direct.get(p, ())), children)
            stack.extend((c, level + 1 if p else 0) for c in reversed(children))
        ordered = dict(sorted(entries.items(), key=lambda kv: (kv[1].path != ROOT, kv[1].depth, kv[1].first)))
        return cls(ordered, tuple(p for p in types if p in entries))

    # ---- lookup --------------------------------------------------------------------------------------------
    def __contains__(self, path: object) -> bool:
        return path in self.entries

    def __getitem__(self, path: str) -> ScopeEntry:
        return self.entries[path]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def get(self, path: str) -> ScopeEntry | None:
        return self.entries.get(path)

    @property
    def root(self) -> ScopeEntry:
        return self.entries[ROOT]

    def type_of(self, path: str) -> str:
        e = self.entries.get(path)
        return e.type if e is not None else "Module"

    def rows(self, path: str) -> tuple[int, ...]:
        """Rows of every member node of `path` (nested ones too), in graph order."""
        if self._whole is not self:
            return self._whole.rows(path)
        hit = self._rows.get(path)
        if hit is None:
            e = self.entries[path]
            parts = [e.direct, *(self.rows(c) for c in e.children)]
            hit = parts[0] if len(parts) == 1 else tuple(sorted(r for part in parts for r in part))
            self._rows[path] = hit
        return hit

    def ancestors(self, path: str) -> tuple[str, ...]:
        """The scopes from the outermost to `path` itself (the root excluded; `()` for the root)."""
        hit = self._ancestors.get(path)
        if hit is None:
            e = self.entries[path]
            hit = () if e.parent is None else (*self.ancestors(e.parent), path)
            self._ancestors[path] = hit
        return hit

    def chain(self, path: str) -> Iterable[str]:
        """`path`, its parent, ..., the root."""
        p: str | None = path
        while p is not None:
            yield p
            p = self.entries[p].parent

    def contents(self, path: str, shown: Callable[[str], bool]) -> list[tuple[int, str | None]]:
        """What sits inside `path` in a view that shows only the scopes `shown` picks (the root never): (first row,
        scope path) for each shown scope and (row, None) for each node, those of the scopes passed over included,
        in graph order (a scope at its first row)."""
        out: list[tuple[int, str | None]] = [(r, None) for r in self.entries[path].direct]
        for c in self.entries[path].children:
            out.extend([(self.entries[c].first, c)] if shown(c) else self.contents(c, shown))
        out.sort(key=lambda x: (x[0], x[1] is None))
        return out

    # ---- views of the tree ---------------------------------------------------------------------------------
    def pruned(self, keep: Callable[[int], bool]) -> ScopeTree:
        """The scopes that hold a row `keep` accepts (and the root), with the same entries otherwise: a scope's
        rows, span and count stay every node it holds (the diagram draws only some nodes, and counts them all)."""
        alive: set[str] = {ROOT}
        for p, e in self.entries.items():
            if any(keep(r) for r in e.direct):
                alive.update(self.chain(p))
        entries = {p: e if all(c in alive for c in e.children) else
                   replace(e, children=tuple(c for c in e.children if c in alive))
                   for p, e in self.entries.items() if p in alive}
        return ScopeTree(entries, tuple(p for p in self.declared if p in alive), self._whole)


@dataclass(frozen=True, slots=True)
class ScopeSum:
    """A scope's subtotal over a report's rows: the sum of its costed members, and how many are not costed."""

    totals: Totals
    not_costed: int


def scope_totals(tree: ScopeTree, rows_by_node: Sequence[LayerCost | None]) -> dict[str, ScopeSum]:
    """Each scope's subtotal: `rows_by_node[i]` is the row of graph node `i` (None: not costed). Each row is
    summed once into its own scope, then scopes into their parents, deepest first (summing every scope's members
    directly would add a row once per enclosing scope)."""
    own: dict[str, Totals] = {}
    for p, e in tree.entries.items():
        costed = [r.totals for r in (rows_by_node[i] for i in e.direct) if r is not None]
        own[p] = Totals.sum(costed)
    out: dict[str, ScopeSum] = {}
    for p in sorted(tree.entries, key=lambda q: -tree.entries[q].level if q else 1):
        e = tree.entries[p]
        missing = sum(1 for i in e.direct if rows_by_node[i] is None)
        parts = [own[p], *(out[c].totals for c in e.children)]
        out[p] = ScopeSum(Totals.sum(parts) if len(parts) > 1 else parts[0],
                          missing + sum(out[c].not_costed for c in e.children))
    return out


def hierarchy_of(tree: ScopeTree, rows_by_node: Sequence[LayerCost | None]) -> tuple[HierarchyNode, ...]:
    """The report's containers: every declared scope that holds a node (a wholly uncosted one too), with its rows'
    span, subtotal and uncosted count, ordered by first row (outer before inner). A graph that declares no scope
    has none."""
    if not tree.declared:
        return ()
    sums = scope_totals(tree, rows_by_node)
    out = [HierarchyNode(p, e.type, e.depth, e.first, e.last, sums[p].totals, sums[p].not_costed)
           for p, e in ((p, tree.entries[p]) for p in tree.declared)]
    out.sort(key=lambda h: (h.first, -h.last))
    return tuple(out)
