"""Width scaling with channel dependency groups (the idea of Torch-Pruning's DepGraph), for rewrites' `width`.

One walk of the graph in topological order follows every tensor's channel dimension back to the layers that set
it (a conv's out_channels, a Linear's out_features, an Embedding's embedding_dim). Values joined by an element-wise
op (a residual add, an SE gate) are one group; a depthwise conv passes its input's group on (its groups follow);
a concat along the channel dim yields a value whose width is a sum of groups (readers infer it). A group is
*frozen* (never scaled) when its width must stay: it reaches a graph output, a tied weight, a module called more
than once, or an op whose channel handling is not known here (a reshape with fixed sizes, attention heads,
recurrent layers). Scaling multiplies every unfrozen group whose setters all lie in the scope, rounded to a
multiple of the groups of the grouped convs and GroupNorms that read it; readers' input sizes follow by inference.
The result is evaluated; should a node still fail, the groups it touches are frozen and the scaling redone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .graph import Graph, Node, Ref
from .graph_eval import evaluate_graph
from .records import CostReport
from .registry import has_kind, kind

_INPUT_SIZE_ARGS = ("in_channels", "in_features", "num_features", "normalized_shape", "num_channels", "embed_dim",
                    "input_size")
_CONVS = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
_CHANNEL_NORMS = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "LayerNorm2d")
_LAST_DIM_NORMS = ("LayerNorm", "RMSNorm", "CustomLayerNorm")
_ELEMENTWISE = {"add", "add_", "sub", "sub_", "rsub", "mul", "mul_", "div", "div_", "maximum", "minimum", "where",
                "lerp", "addcmul", "addcdiv", "masked_fill", "pow", "fmod", "remainder", "clamp", "clamp_min",
                "clamp_max"}
_VIEWS = ("view", "reshape", "_unsafe_view")


@dataclass(frozen=True)
class _State:
    """Which groups set a value's channel dimension `neg` (a negative index); `single`: exactly one group's width
    (else a concat's sum, or a flatten's product)."""

    neg: int
    groups: frozenset[int]
    single: bool


@dataclass
class _Group:
    size: int
    setters: list[tuple[str, str]] = field(default_factory=list)  # (node id, argument that sets the width)
    depthwise: list[str] = field(default_factory=list)  # depthwise convs whose out_channels and groups follow
    readers: set[str] = field(default_factory=set)
    unit: int = 1
    frozen: bool = False


class _Groups:
    """Union-find over channel groups."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.info: list[_Group] = []

    def new(self, size: int, frozen: bool = False) -> int:
        self.parent.append(len(self.parent))
        self.info.append(_Group(size, frozen=frozen))
        return len(self.parent) - 1

    def find(self, g: int) -> int:
        while self.parent[g] != g:
            self.parent[g] = self.parent[self.parent[g]]
            g = self.parent[g]
        return g

    def get(self, g: int) -> _Group:
        return self.info[self.find(g)]

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        ia, ib = self.info[ra], self.info[rb]
        ia.setters += ib.setters
        ia.depthwise += ib.depthwise
        ia.readers |= ib.readers
        ia.unit = math.lcm(ia.unit, ib.unit)
        ia.frozen = ia.frozen or ib.frozen or ia.size != ib.size
        self.parent[rb] = ra
        return ra

    def freeze(self, state: _State | None) -> None:
        if state is not None:
            for g in state.groups:
                self.get(g).frozen = True

    def roots(self) -> list[int]:
        return [g for g in range(len(self.parent)) if self.find(g) == g]


def _shape(report: CostReport, graph: Graph, r: Ref) -> tuple[int, ...]:
    if not graph.has(r.node):
        return next(gi.shape for gi in graph.inputs if gi.name == r.node)
    row = report.by_id[r.node]
    shapes = row.output_shapes or (row.output_shape,)
    return shapes[r.index] if r.index < len(shapes) else ()


def channel_groups(graph: Graph, report: CostReport, frozen_nodes: frozenset[str] = frozenset()) -> _Groups:
    """The channel groups of `graph` (one walk). Groups a node of `frozen_nodes` reads or sets are frozen."""
    gs = _Groups()
    state: dict[Ref, _State] = {}
    tied = {n.id for n in graph.nodes if n.shares} | {s for n in graph.nodes for s, _ in n.shares}
    frozen_nodes = frozen_nodes | tied  # a tied weight's shape is both layers': it stays
    for node in graph.nodes:
        ins = [state.get(r) for r in node.inputs]
        in_shapes = [_shape(report, graph, r) for r in node.inputs]
        row = report.by_id.get(node.id)
        outs = (row.output_shapes or (row.output_shape,)) if row is not None else ()
        for s in ins:
            if s is not None:
                for g in s.groups:
                    gs.get(g).readers.add(node.id)
        out = _walk(graph, node, ins, in_shapes, outs, gs)
        if node.id in frozen_nodes:
            for s in (*ins, *out):
                gs.freeze(s)
        for i, s in enumerate(out):
            if s is not None:
                state[Ref(node.id, i)] = s
    for r in graph.output_refs:
        gs.freeze(state.get(r))
    return gs


def _pos(s: _State, rank: int) -> int:
    return rank + s.neg


def _walk(graph: Graph, node: Node, ins: list[_State | None], in_shapes: list[tuple[int, ...]],
          outs: tuple[tuple[int, ...], ...], gs: _Groups) -> list[_State | None]:
    """The channel states of a node's outputs (and the groups it couples or freezes)."""
    s0 = ins[0] if ins else None
    x = in_shapes[0] if in_shapes else ()
    y = outs[0] if outs else ()

    def fresh(size: int, neg: int, arg: str | None, frozen: bool = False) -> list[_State | None]:
        g = gs.new(size, frozen)
        if arg is not None:
            gs.get(g).setters.append((node.id, arg))
        return [_State(neg, frozenset([g]), True)]

    def block() -> list[_State | None]:
        for s in ins:
            gs.freeze(s)
        return [None] * len(outs)

    if node.opaque or not has_kind(node.op) or not outs:
        return block()
    shared = bool(node.shares) or (node.module and len(graph.modules.get(node.module, ())) > 1)
    op = node.op
    args = node.args
    if op in _CONVS and row_ok(y, 2):
        if s0 is not None and _pos(s0, len(x)) != 1:
            gs.freeze(s0)
        groups = int(args.get("groups", 1))
        cin, cout = x[1], y[1]
        if groups > 1 and groups == cin == cout and s0 is not None and s0.single and not shared:
            gs.get(next(iter(s0.groups))).depthwise.append(node.id)
            return [_State(1 - len(y), s0.groups, True)]
        if groups > 1:
            if s0 is not None and s0.single and groups != cin:
                gs.get(next(iter(s0.groups))).unit = math.lcm(gs.get(next(iter(s0.groups))).unit, groups)
            else:
                gs.freeze(s0)  # a depthwise conv on a fixed or summed width, or a channel multiplier
            st = fresh(cout, 1 - len(y), "out_channels", frozen=shared or groups == cin)
            gs.get(next(iter(st[0].groups))).unit = groups  # type: ignore[union-attr]
            return st
        return fresh(cout, 1 - len(y), "out_channels", frozen=shared)
    if op == "Linear" and y:
        if s0 is not None and s0.neg != -1:
            gs.freeze(s0)
        return fresh(y[-1], -1, "out_features", frozen=shared)
    if op == "Embedding" and y:
        return fresh(y[-1], -1, "embedding_dim", frozen=shared)
    if op in _CHANNEL_NORMS:
        if s0 is not None and (_pos(s0, len(x)) != 1 or shared):
            gs.freeze(s0)
        if op == "GroupNorm" and s0 is not None:
            if s0.single:
                g = gs.get(next(iter(s0.groups)))
                g.unit = math.lcm(g.unit, int(args.get("num_groups", 1)))
            else:
                gs.freeze(s0)
        return [s0]
    if op in _LAST_DIM_NORMS:
        shape = args.get("normalized_shape")
        if s0 is not None and (s0.neg != -1 or shared or (isinstance(shape, (list, tuple)) and len(shape) > 1)):
            gs.freeze(s0)
        return [s0]
    k = kind(op)
    if op == "Flatten":
        return [_flatten(s0, x, int(args.get("start_dim", 1)), int(args.get("end_dim", -1)), len(y), gs)]
    if op in _VIEWS:
        return [_view(s0, x, y, gs)]
    if op == "cat":
        return [_cat(ins, in_shapes, y, int(args.get("dim", 0)), gs)]
    if k.functional and op in _ELEMENTWISE:
        return [_elementwise(ins, in_shapes, y, gs)] + [None] * (len(outs) - 1)
    if len(ins) == 1 and len(outs) == 1 and _params_free(node):  # a stateless module may be called again
        if s0 is None:
            return [None]
        p = _pos(s0, len(x))
        if len(y) == len(x) and 0 <= p < len(y) and y[p] == x[p] and (y == x or k.category == "pool" or p == 1):
            return [s0]  # activations, dropout, pooling over the spatial dims, upsampling
    return block()


def row_ok(y: tuple[int, ...], rank: int) -> bool:
    return len(y) >= rank


def _params_free(node: Node) -> bool:
    """Ops that hold no per-channel parameters (their output shape alone says what they do to channels)."""
    if node.op in ("parameter", "buffer", "constant"):
        return False
    k = kind(node.op)
    return k.functional or k.category in ("activation", "pool") or node.op in ("Dropout", "Identity", "Upsample")


def _flatten(s: _State | None, x: tuple[int, ...], start: int, end: int, out_rank: int, gs: _Groups
             ) -> _State | None:
    if s is None:
        return None
    r = len(x)
    start, end = start % r if r else 0, end % r if r else 0
    p = _pos(s, r)
    if p < start:
        return _State(p - out_rank, s.groups, s.single)
    if p > end:
        return _State(p - (end - start) - out_rank, s.groups, s.single)
    merged = math.prod(x[start:end + 1]) == x[p]
    return _State(start - out_rank, s.groups, s.single and merged)


def _view(s: _State | None, x: tuple[int, ...], y: tuple[int, ...], gs: _Groups) -> _State | None:
    """A reshape that keeps the dims before the channel dim and merges the rest into one (`x.view(B, -1)`)."""
    if s is None:
        return None
    p = _pos(s, len(x))
    if len(y) == p + 1 and y[:p] == x[:p]:
        return _State(-1, s.groups, s.single and math.prod(x[p:]) == x[p])
    gs.freeze(s)  # fixed sizes (attention heads, ...): this width cannot change
    return None


def _cat(ins: list[_State | None], shapes: list[tuple[int, ...]], y: tuple[int, ...], dim: int, gs: _Groups
         ) -> _State | None:
    d = dim % len(y) if y else 0
    known = [(s, x) for s, x in zip(ins, shapes, strict=True) if s is not None]
    if not known:
        return None
    if all(_pos(s, len(x)) == d for s, x in known):  # along the channels: widths add up
        groups = frozenset(g for s, _ in known for g in s.groups)
        return _State(d - len(y), groups, False)
    return _elementwise(ins, shapes, y, gs)


def _elementwise(ins: list[_State | None], shapes: list[tuple[int, ...]], y: tuple[int, ...], gs: _Groups
                 ) -> _State | None:
    """Inputs combined element by element: their channel groups must be one (a residual add)."""
    known = [s for s in ins if s is not None]
    if not known:
        return None
    neg = known[0].neg
    fixed = any(s is None and len(x) >= -neg and x[neg] != 1 for s, x in zip(ins, shapes, strict=True))
    if fixed or any(s.neg != neg or not s.single for s in known) or len(y) < -neg:
        for s in known:
            gs.freeze(s)
        return _State(neg, frozenset(g for s in known for g in s.groups), False) if len(y) >= -neg else None
    root = next(iter(known[0].groups))
    for s in known[1:]:
        root = gs.union(root, next(iter(s.groups)))
    return _State(neg, frozenset([root]), True)


# ---- scaling -----------------------------------------------------------------------------------------------------

def in_scope(node: Node, scope: str) -> bool:
    if not scope:
        return True
    return any(p == scope or p.startswith(scope + ".") for p in (node.display_name, node.scope, node.module) if p)


def _plan(graph: Graph, gs: _Groups, scope: str, factor: float) -> dict[int, int]:
    """Root group -> new width, for the groups that change."""
    plan: dict[int, int] = {}
    for g in gs.roots():
        info = gs.info[g]
        if info.frozen or not info.setters or not all(in_scope(graph.node(n), scope) for n, _ in info.setters):
            continue
        unit = info.unit
        new = max(unit, math.floor(info.size * factor / unit + 0.5) * unit)
        if new != info.size:
            plan[g] = new
    return plan


def _edited(graph: Graph, gs: _Groups, plan: dict[int, int]) -> tuple[Graph, set[str]]:
    args: dict[str, dict] = {}

    def edit(nid: str) -> dict:
        return args.setdefault(nid, dict(graph.node(nid).args))

    for g, new in plan.items():
        info = gs.info[g]
        for nid in info.readers:
            a = edit(nid)
            for key in _INPUT_SIZE_ARGS:
                a.pop(key, None)
        for nid, arg in info.setters:
            edit(nid)[arg] = new
        for nid in info.depthwise:
            a = edit(nid)
            a["out_channels"] = new
            a["groups"] = new
    touched: set[str] = set()
    for nid, a in args.items():
        if dict(graph.node(nid).args) != a:
            graph, changed = graph.set_args(nid, a)
            touched |= changed
    return graph, touched


def scale_width(graph: Graph, report: CostReport, scope: str, factor: float) -> tuple[Graph, set[str]]:
    """`graph` with the widths set in `scope` ("" = the whole model) times `factor`, and the ids it changed.
    Raises ValueError when nothing there can be scaled."""
    if scope and not any(in_scope(n, scope) for n in graph.nodes):
        raise ValueError(f"no layer lies in scope {scope!r}")
    frozen: frozenset[str] = frozenset()
    for _ in range(16):
        gs = channel_groups(graph, report, frozen)
        plan = _plan(graph, gs, scope, factor)
        if not plan:
            where = f"in {scope}" if scope else "in this model"
            raise ValueError(f"no channel width {where} can change by × {factor:g} and keep the model valid")
        new, touched = _edited(graph, gs, plan)
        check = evaluate_graph(new, report, touched)
        if check.complete:
            return new, touched
        bad = check.cause.node_id if check.cause is not None else ""
        frozen = frozen | {bad}
    raise ValueError("the scaled model does not evaluate")


def scalable_scopes(graph: Graph, report: CostReport, factor: float = 0.5) -> list[str]:
    """The top-level scopes (then "" for the whole model) where a width scaling changes something."""
    gs = channel_groups(graph, report)
    setters = [graph.node(n) for g in gs.roots() for n, _ in gs.info[g].setters]
    tops: list[str] = []
    if graph.scopes:
        for s in graph.scopes:
            if s.depth == 1 and s.path not in tops:
                tops.append(s.path)
    else:
        for n in setters:
            head, dot, _ = n.display_name.partition(".")
            if dot and head not in tops:
                tops.append(head)
    order = {n.id: i for i, n in enumerate(graph.nodes)}
    first = {t: min((order[n.id] for n in setters if in_scope(n, t)), default=-1) for t in tops}
    out = [t for t in sorted(tops, key=lambda t: first[t]) if first[t] >= 0 and _plan(graph, gs, t, factor)]
    if _plan(graph, gs, "", factor):
        out.append("")
    return out
