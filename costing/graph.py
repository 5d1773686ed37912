"""The dataflow graph every network is: nodes (an op, its arguments, its input edges) in topological order.

One structure serves a hand-written file and a traced model. A `Ref` names one output of a node (or a graph
input). The module hierarchy (`scope`, a dotted module path) is kept on each node for collapse/expand and
subtotals, and read as one tree (`Graph.scope_tree`); it is not the data flow. Graphs are immutable: every edit
returns a new graph plus the ids of the nodes whose evaluation it may change, so the engine re-evaluates only their
downstream closure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from .args import remembered_check, with_arg
from .dtypes import canonical_dtype
from .records import Totals
from .scope_tree import ScopeTree

Shape = tuple[int, ...]
# A tensor as the engine sees it: its shape (with batch) and its element kind: "float" (bytes follow the
# document's dtype), or a fixed-size integer/bool type ("int64", "int32", "bool", "uint8", "int8").
Value = tuple[Shape, str]
FIXED_DTYPES = {"int64": 8, "int32": 4, "int16": 2, "bool": 1, "uint8": 1, "int8": 1, "float64": 8,
                "complex64": 8, "complex128": 16}  # complex values: what an FFT inside a model returns


@dataclass(frozen=True, slots=True)
class Ref:
    """Output `index` of node `node`, or (index 0) the graph input named `node`."""

    node: str
    index: int = 0

    def __str__(self) -> str:
        return self.node if self.index == 0 else f"{self.node}:{self.index}"


@dataclass(frozen=True)
class GraphInput:
    name: str
    shape: Shape  # with batch
    dtype: str = "float"  # "float" or a fixed dtype ("int64" for token ids)

    @property
    def value(self) -> Value:
        return (self.shape, self.dtype)


@dataclass(frozen=True)
class Measured:
    """What a trace saw for a node that has no pure-Python rule (an opaque node): the inputs it was measured at,
    its outputs and its costs. Evaluated again only at exactly those inputs."""

    inputs: tuple[Value, ...]
    outputs: tuple[Value, ...]
    totals: Totals
    category: str = "other"
    unsupported: tuple[tuple[str, int], ...] = ()  # aten ops with no formula inside it: (op, calls)


@dataclass(frozen=True)
class Node:
    """One op applied to the values named by `inputs`.

    `op` is a registered kind: a torch.nn class name (`Conv2d`), a functional op (`add`, `view`, `cat`), a source
    (`parameter`, `buffer`, `constant`) or, with `measured`, anything a trace saw (an opaque node). `module` is the
    torch module a traced node is a call of: nodes of one module are one module (an edit applies to all of them;
    only the first holds the parameters). `shares` names nodes whose parameters this node reuses (tied weights).
    """

    id: str
    op: str
    args: Mapping[str, Any] = field(default_factory=dict)
    inputs: tuple[Ref, ...] = ()
    name: str = ""
    scope: str = ""
    trainable: bool = True
    module: str = ""
    measured: Measured | None = None
    shares: tuple[tuple[str, int], ...] = ()  # (node id, elements of this node's params that live there)
    label: str = ""  # the type shown (a traced module's class, `aten.add`); defaults to op

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def type_label(self) -> str:
        return self.label or self.op

    @property
    def opaque(self) -> bool:
        return self.measured is not None

    def with_arg(self, key: str, value: Any) -> Node:
        return replace(self, args=with_arg(self.args, key, value))

    def checked_args(self, check: Any) -> dict[str, Any]:
        """`check(self.args)`, remembered on this immutable node (costing.args.remembered_check)."""
        return remembered_check(self, self.args, check)


@dataclass(frozen=True)
class Scope:
    """A container module of a traced model (or a group in a hand-made graph): its path and class."""

    path: str
    type: str = "Module"

    @property
    def depth(self) -> int:
        return self.path.count(".") + 1 if self.path else 0


class GraphError(ValueError):
    """A structural mistake: an edge to a missing node, a duplicate id, a cycle. Names the node."""


_STRUCTURE = ("index", "users", "modules")  # the caches that depend only on node ids and edges


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    inputs: tuple[GraphInput, ...]
    outputs: tuple[Ref, ...] = ()  # empty: the last node's first output
    name: str = "untitled"
    dtype: str = "float32"
    scopes: tuple[Scope, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict)  # where it came from: {"ref": ..., "kind": ...}

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype))

    # ---- lookup: derived indexes, each built on first use (functools.cached_property keeps it in the instance's
    # own __dict__, which a frozen dataclass allows) and handed on by edits that keep what it depends on -----------
    @cached_property
    def index(self) -> dict[str, int]:
        return {n.id: i for i, n in enumerate(self.nodes)}

    @cached_property
    def users(self) -> dict[str, tuple[str, ...]]:
        """Node id (or input name) -> ids of the nodes that read one of its outputs, in graph order."""
        acc: dict[str, list[str]] = {}
        for n in self.nodes:
            for r in n.inputs:
                lst = acc.setdefault(r.node, [])
                if not lst or lst[-1] != n.id:
                    lst.append(n.id)
        return {k: tuple(v) for k, v in acc.items()}

    @cached_property
    def modules(self) -> dict[str, tuple[str, ...]]:
        """Module path -> ids of the nodes that are calls of it (only modules called more than zero times)."""
        acc: dict[str, list[str]] = {}
        for n in self.nodes:
            if n.module:
                acc.setdefault(n.module, []).append(n.id)
        return {k: tuple(v) for k, v in acc.items()}

    @cached_property
    def _name_ids(self) -> dict[str, str]:
        return {n.display_name: n.id for n in self.nodes}

    @cached_property
    def scope_tree(self) -> ScopeTree:
        """The module hierarchy (costing.scope_tree), built once per structure: the evaluator's subtotals, the
        diagram's frames, the Modules tree and the tables' folding all read it."""
        return ScopeTree.build(self.nodes, self.scopes)

    def shares_indexes(self, other: Graph) -> bool:
        """Whether `other` holds this very graph's node index (an edit that kept the structure handed it on)."""
        mine = self.__dict__.get("index")
        return mine is not None and mine is other.__dict__.get("index")

    def node(self, node_id: str) -> Node:
        return self.nodes[self.index[node_id]]

    def has(self, node_id: str) -> bool:
        return node_id in self.index

    def by_name(self, name: str) -> Node | None:
        nid = self._name_ids.get(name)
        return self.node(nid) if nid is not None else None

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs)

    @property
    def output_refs(self) -> tuple[Ref, ...]:
        if self.outputs:
            return self.outputs
        return (Ref(self.nodes[-1].id),) if self.nodes else ()

    @property
    def batch_size(self) -> int:
        return self.inputs[0].shape[0] if self.inputs and self.inputs[0].shape else 1

    def validate(self) -> None:
        """Raise GraphError for duplicate ids/names, edges to unknown or later nodes."""
        seen: set[str] = set(self.input_names)
        if len(seen) != len(self.inputs):
            raise GraphError("two graph inputs have the same name")
        names: set[str] = set()
        for n in self.nodes:
            if n.id in seen:
                raise GraphError(f"node id {n.id!r} is used twice")
            if n.display_name in names:
                raise GraphError(f"node name {n.display_name!r} is used twice")
            names.add(n.display_name)
            for r in n.inputs:
                if r.node not in seen:
                    raise GraphError(f"{n.display_name}: input {str(r)!r} is not a graph input or an earlier node")
            seen.add(n.id)
        for r in self.outputs:
            if r.node not in seen:
                raise GraphError(f"graph output {str(r)!r} is not a node")

    # ---- edits: each returns the new graph and the ids whose evaluation may change --------------------------
    def _with_nodes(self, nodes: list[Node] | tuple[Node, ...], keep_index: bool, keep_scopes: bool) -> Graph:
        g = replace(self, nodes=tuple(nodes))
        return self._hand_on(g, (*(_STRUCTURE if keep_index else ()), *(("scope_tree",) if keep_scopes else ())))

    def _hand_on(self, g: Graph, keys: Iterable[str]) -> Graph:
        """`g` with this graph's lookup indexes `keys` (built already) where its structure keeps them true."""
        for key in keys:
            if key in self.__dict__:
                object.__setattr__(g, key, self.__dict__[key])
        return g

    def replace_nodes(self, new: Iterable[Node]) -> tuple[Graph, set[str]]:
        """Swap nodes by id, same inputs (argument or type edits): the structure and its indexes are kept."""
        nodes = list(self.nodes)
        changed: set[str] = set()
        same_edges = same_scopes = True
        for n in new:
            i = self.index[n.id]
            if nodes[i].inputs != n.inputs:
                same_edges = False
            if nodes[i].module != n.module:
                same_edges = False
            if nodes[i].scope != n.scope:
                same_scopes = False
            nodes[i] = n
            changed.add(n.id)
        g = self._with_nodes(nodes, keep_index=same_edges, keep_scopes=same_scopes)
        if any(n.name != self.node(n.id).name for n in (g.node(c) for c in changed)):
            g.__dict__.pop("_name_ids", None)
        return g, changed

    def set_args(self, node_id: str, args: Mapping[str, Any]) -> tuple[Graph, set[str]]:
        """New arguments for a node, and for every other call of the same module (one module in torch).
        Editing a node breaks a weight tie it takes part in, as replacing the module in torch would (here even
        when the arguments are the ones it had: `--set` is a replacement of the module)."""
        node = self.node(node_id)
        targets = self.modules.get(node.module, (node_id,)) if node.module else (node_id,)
        return self.edit_nodes([replace(self.node(t), args=dict(args)) for t in targets], untie_all=True)

    def edit_nodes(self, new: Iterable[Node], untie_all: bool = False) -> tuple[Graph, set[str]]:
        """Swap in edited versions of nodes (arguments, type, name, trainable; same inputs). A node that changed
        no longer shares its weights, and neither do its tie partners, as replacing the module in torch would.
        `untie_all`: every node in `new` and every partner counts as edited, changed or not."""
        new = list(new)
        edited = {n.id for n in new}
        out = [_untied(n) if untie_all or n != self.node(n.id) else n for n in new]
        partners = {s for n in new for s, _ in self.node(n.id).shares}
        partners |= {m.id for m in self.nodes if m.shares and any(s in edited for s, _ in m.shares)}
        out += [_untied(self.node(p)) for p in sorted(partners - edited) if untie_all or self.node(p).shares]
        return self.replace_nodes(out)

    def insert(self, at: int, nodes: Iterable[Node], rewire: Mapping[Ref, Ref] | None = None
               ) -> tuple[Graph, set[str]]:
        """Insert `nodes` before position `at`; `rewire` redirects later readers of one value to another (an
        insert into a chain: the next node now reads the inserted one)."""
        new = list(nodes)
        rest = list(self.nodes[at:])
        changed = {n.id for n in new}
        if rewire:
            for i, n in enumerate(rest):
                if any(r in rewire for r in n.inputs):
                    rest[i] = replace(n, inputs=tuple(rewire.get(r, r) for r in n.inputs))
                    changed.add(n.id)
        out = tuple(rewire.get(r, r) for r in self.outputs) if rewire else self.outputs
        g = replace(self, nodes=(*self.nodes[:at], *new, *rest), outputs=out)
        g.validate()
        return g, changed

    def remove(self, node_ids: Iterable[str]) -> tuple[Graph, set[str]]:
        """Remove nodes; a reader of a removed single-input node reads that node's input instead (deleting a
        layer from a chain or a branch). Returns the ids of the nodes whose inputs changed."""
        gone = set(node_ids)
        bypass: dict[str, Ref | None] = {}
        for n in self.nodes:
            if n.id in gone:
                src = n.inputs[0] if n.inputs else None
                while src is not None and src.node in bypass:
                    src = bypass[src.node]
                bypass[n.id] = src
        changed: set[str] = set()
        nodes = []
        for n in self.nodes:
            if n.id in gone:
                continue
            if any(r.node in bypass for r in n.inputs):
                ins = []
                for r in n.inputs:
                    if r.node in bypass:
                        src = bypass[r.node]
                        if src is None:
                            raise GraphError(f"{n.display_name} reads {self.node(r.node).display_name}, which has "
                                             f"no input to read instead")
                        ins.append(src)
                    else:
                        ins.append(r)
                n = replace(n, inputs=tuple(ins))
                changed.add(n.id)
            if any(s in gone for s, _ in n.shares):
                n = _untied(n)
                changed.add(n.id)
            nodes.append(n)
        outs = []
        for r in self.outputs:
            if r.node in bypass:
                src = bypass[r.node]
                if src is not None and src.node not in self.input_names:
                    outs.append(src)
            else:
                outs.append(r)
        g = replace(self, nodes=tuple(nodes), outputs=tuple(outs))
        return g, changed

    def with_inputs(self, inputs: Iterable[GraphInput]) -> Graph:
        return self._hand_on(replace(self, inputs=tuple(inputs)), ("scope_tree",))


def drop_caches(graph: Graph) -> None:
    """Forget `graph`'s lookup indexes (rebuilt on demand): a graph kept only for undo need not hold them."""
    for key in (*_STRUCTURE, "_name_ids", "scope_tree"):
        graph.__dict__.pop(key, None)


def _untied(n: Node) -> Node:
    return replace(n, shares=()) if n.shares else n


def unique_name(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted#2`, `wanted#3`, ... (a module called twice gets two names)."""
    if wanted not in taken:
        return wanted
    k = 2
    while f"{wanted}#{k}" in taken:
        k += 1
    return f"{wanted}#{k}"
