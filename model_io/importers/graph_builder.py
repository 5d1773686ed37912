"""Build the dataflow graph of one forward pass: every tensor is mapped to the node that produced it.

A call of a leaf module becomes one node: an editable layer node when its torch.nn class has a NetCost formula that
reproduces what the call did (shapes, MACs, parameters), else an opaque node carrying what was measured. Work a
container does itself (residual adds, reshapes, `F.scaled_dot_product_attention`, `x @ w`) becomes one node per
aten op: a functional node when the pure-Python rule of that op reproduces the measured shapes, costs and memory
traffic, else opaque. Parameters and buffers that such ops read are source nodes, so a tied weight is one node.

In-place ops re-map their tensor to the new node; an in-place write into a view also re-maps the view's base.

This module follows the module stack and judges leaf module calls; op_nodes judges one aten op, trace_values maps
tensors to values, graph_assembly makes the graph once the forward is over. The peer tools' rules for measured work
are costing.conventions' (`measured_totals`, `torchinfo_leaf`): the torch side only feeds them what it saw.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from netcost.costing import Totals, cost_layer
from netcost.costing.conventions import measured_totals, torchinfo_leaf
from netcost.costing.errors import LayerError
from netcost.costing.graph import Measured, Node, Ref, Value, unique_name
from netcost.costing.graph_eval import NodeError, cost_node, frozen
from netcost.costing.registry import kind

from . import op_costs
from .cost_mode import CostMode
from .module_specs import category_of, is_absorbing, layer_spec, layer_specs, own_forward
from .op_nodes import generic_flatten, op_verdict, schema_args
from .trace_values import nbytes, tensors, value_of


@dataclass(eq=False)
class _Call:
    """One call of a leaf module: its inputs and the cost of every op it ran."""

    path: str
    module: nn.Module
    inputs: list[Ref]
    values: list[Value]
    macs: int = 0
    bias_adds: int = 0
    elementwise: int = 0
    attention_macs: int = 0
    unsupported: dict[str, int] = field(default_factory=dict)
    flops_by_category: dict[str, int] = field(default_factory=dict)
    ptflops_ops: dict[str, int] = field(default_factory=dict)  # op name -> what ptflops' patches charge
    fvcore_elements: int = 0
    outputs: list[Value] = field(default_factory=list)
    # A module with no formula and no parameters or buffers of its own (HF's GELUActivation, timm's GELU, an
    # eval-mode StochasticDepth) is also recorded op by op: when every op has a rule that holds and the peer views
    # are the same, those ops replace the opaque node (editable upstream, exportable). Else they are rolled back.
    sub: _SubGraph | None = None


@dataclass
class _SubGraph:
    nodes: list[Node] = field(default_factory=list)
    totals: list[Totals] = field(default_factory=list)
    all_functional: bool = True
    bound: list[tuple[int, tuple[weakref.ref, Ref] | None]] = field(default_factory=list)  # (address, previous)
    names: list[str] = field(default_factory=list)
    holders: list[int] = field(default_factory=list)


@dataclass
class _Frame:
    kind: str  # "container", "leaf" (a leaf module's own call) or "inner" (inside a leaf: charged to it)
    path: str
    module: nn.Module | None = None
    call: _Call | None = None


class GraphRecorder:
    """The module stack during the forward and the graph it grows."""

    def __init__(self, model: nn.Module, elem: int, dtype: str, input_names: Sequence[str],
                 sources: dict[int, tuple[str, bool, bool]], stand_ins: dict[int, torch.Tensor] | None = None,
                 flat: bool = False) -> None:
        """`flat`: no module structure to follow (TorchScript, torch.export): every op is a container's own."""
        self.model = model
        self.elem = elem
        self.dtype = dtype
        self._verdicts: dict[tuple, tuple[bool, Totals]] = {}  # an op's values -> (its rule holds, its totals)
        self.info: dict[int, tuple[str, bool]] = {}  # id(module) -> (path, is_leaf)
        self.paths: dict[str, nn.Module] = {}
        if not flat:
            self._walk("", model)
        self.nodes: list[Node] = []
        self.names: set[str] = set(input_names)
        # TensorImpl address -> (weak reference to the tensor, its ref). A hit counts only while that very tensor
        # lives: an address is reused once a tensor dies, and a fresh tensor (`torch.tensor([])` in a KV cache)
        # must never inherit a dead one's edge. Meta tensors cost no memory and are kept alive for the whole trace
        # (`_kept`), so their addresses are never reused; real CPU tensors are not kept (they must be freed).
        self.producer: dict[int, tuple[weakref.ref, Ref]] = {}
        self._kept: list[torch.Tensor] = []
        self._recording: _SubGraph | None = None  # the sub-graph ops go to while a transparent candidate runs
        self.sources = sources  # id(tensor) -> (parameter/buffer name, is_parameter, requires_grad)
        # id(real tensor) -> its meta stand-in, for a model whose forward ran on stand-ins (functional_call)
        self.stand_ins = stand_ins or {}
        self.holders: dict[int, str] = {}  # id(parameter) -> node id holding it
        self.spec_cache: dict[int, Any] = {}
        self.calls: dict[str, int] = {}  # module path -> calls so far
        self.called: set[str] = set()
        self.entered: set[str] = set()
        self.extra_outputs: dict[str, int] = {}  # formula node id -> outputs its formula covers
        self.mismatched: list[str] = []
        self.uncalled: list[str] = []
        self.fallback: dict[str, Node] = {}  # formula node id -> the same call as an opaque node
        self.scope_types: dict[str, str] = {}  # container classes known otherwise (torch.export's module stack)
        self.out_kinds: dict[str, tuple[str, ...]] = {}  # op node -> its outputs' element kinds (mask plumbing)
        leaf = not flat and self.info[id(model)][1]
        self.stack: list[_Frame] = [] if leaf else [_Frame("container", "", model)]

    def _walk(self, path: str, module: nn.Module) -> None:
        if id(module) in self.info:  # reachable under two names: its first, as named_modules does
            return
        leaf = is_absorbing(module) or next(iter(module.children()), None) is None
        self.info[id(module)] = (path, leaf)
        self.paths[path] = module
        if not leaf:
            for name, child in module.named_children():
                self._walk(f"{path}.{name}" if path else name, child)

    # ---- values ------------------------------------------------------------------------------------------
    def bind(self, t: torch.Tensor, ref: Ref) -> None:
        if self._recording is not None:
            self._recording.bound.append((t._cdata, self.producer.get(t._cdata)))
        self.producer[t._cdata] = (weakref.ref(t), ref)
        if t.is_meta:
            self._kept.append(t)

    def known(self, t: torch.Tensor) -> Ref | None:
        """The ref of a tensor seen before: the same live tensor object, never another one at a reused address
        (torch keeps a tensor's Python object alive as long as the tensor itself lives)."""
        hit = self.producer.get(t._cdata)
        if hit is None:
            return None
        return hit[1] if hit[0]() is t else None

    def ref_of(self, t: torch.Tensor, scope: str) -> Ref:
        hit = self.known(t)
        if hit is not None:
            return hit
        src = self.sources.get(id(t))
        if src is not None:
            name, is_param, requires_grad = src
            owner = name.rpartition(".")[0]
            holder = self.holders.get(id(t))
            node = Node("", "parameter" if is_param else "buffer", {"shape": list(t.shape), "dtype": value_of(t)[1]},
                        (), scope=owner, trainable=requires_grad,
                        shares=((holder, t.numel()),) if holder is not None and is_param else ())
            ref = self.add(node, name)
            if is_param and holder is None:
                self.holders[id(t)] = ref.node
                if self._recording is not None:
                    self._recording.holders.append(id(t))
        else:
            node = Node("", "constant", {"shape": list(t.shape), "dtype": value_of(t)[1]}, (), scope=scope)
            ref = self.add(node, f"{scope}.constant" if scope else "constant")
        self.bind(t, ref)
        return ref

    def add(self, node: Node, wanted: str) -> Ref:
        return self.append(dataclasses.replace(node, id=(name := self.reserve(wanted)), name=name))

    def reserve(self, wanted: str) -> str:
        """A unique node name from `wanted` (a module called twice: "x", "x#2")."""
        name = unique_name(wanted, self.names)
        self.names.add(name)
        if self._recording is not None:
            self._recording.names.append(name)
        return name

    def append(self, node: Node) -> Ref:
        (self._recording.nodes if self._recording is not None else self.nodes).append(node)
        return Ref(node.id)

    @property
    def scope(self) -> str:
        return self.stack[-1].path if self.stack else ""

    # ---- module calls ------------------------------------------------------------------------------------
    def enter(self, module: nn.Module, args: Any) -> None:
        top = self.stack[-1] if self.stack else None
        if top is not None and top.kind != "container":
            self.stack.append(_Frame("inner", top.path, top.module, top.call))
            return
        info = self.info.get(id(module))
        if info is None:  # a module made outside the model: its ops are the current container's own work
            self.stack.append(_Frame("container", top.path if top else "", top.module if top else None))
            return
        path, leaf = info
        if not leaf:
            self.entered.add(path)
            self.stack.append(_Frame("container", path, module))
            return
        scope = path.rpartition(".")[0]
        ins = tensors(args)
        call = _Call(path, module, [self.ref_of(t, scope) for t in ins], [value_of(t) for t in ins])
        if self._spec(module) is None and not any(True for _ in module.parameters()) and \
                not any(True for _ in module.buffers()):
            call.sub = _SubGraph()
        self.stack.append(_Frame("leaf", path, module, call))

    def exit(self, module: nn.Module, output: Any) -> None:
        frame = self.stack.pop()
        if frame.kind == "leaf" and frame.module is module and frame.call is not None:
            self._finish_call(frame.call, tensors(output))

    def _spec(self, module: nn.Module) -> Any:
        key = id(module)
        if key not in self.spec_cache:
            self.spec_cache[key] = layer_spec(module)
        return self.spec_cache[key]

    def _finish_call(self, call: _Call, outs: list[torch.Tensor]) -> None:
        module, path = call.module, call.path
        self.called.add(path)
        n_call = self.calls.get(path, 0) + 1
        self.calls[path] = n_call
        scope = path.rpartition(".")[0]
        out_values = [value_of(t) for t in outs]
        params = list({id(p): p for p in module.parameters()}.values())
        trainable = [p.requires_grad for p in params]
        spec = self._spec(module)
        label = type(module).__name__
        if call.sub is not None and self._transparent(call, outs, params, module, scope, label):
            return
        candidate = own_forward(module)
        node: Node | None = None
        covered = 0
        specs = layer_specs(module) if candidate else (spec,) if spec is not None else ()
        if call.values and out_values and (all(trainable) or not any(trainable)):
            for one in specs:
                node, covered = self._formula_node(one, call, out_values, params, module, scope, label, candidate)
                if node is not None:
                    break
        # the measured version: the node itself when no formula holds, else the fallback for extra outputs
        opaque = self._opaque_module(call, out_values, params, module, scope, label) \
            if node is None or covered < len(out_values) else None
        wanted = (path or label) if n_call == 1 else f"{path or label}#{n_call}"
        if node is None:
            assert opaque is not None
            if spec is not None and n_call == 1 and not candidate:
                self.mismatched.append(path or label)
            covered = len(out_values)
            ref = self.add(opaque, wanted)
        else:
            nid = self.reserve(wanted)
            ref = self.append(dataclasses.replace(node, id=nid, name=nid,
                                                  shares=self.shares(params, path, self.calls[path])))
        if opaque is not None and covered < len(out_values):
            self.extra_outputs[ref.node] = covered
            self.fallback[ref.node] = dataclasses.replace(opaque, id=ref.node, name=ref.node)
        if n_call == 1:
            for p in params:
                self.holders.setdefault(id(p), ref.node)
        for i, t in enumerate(outs):
            self.bind(t, Ref(ref.node, i))

    def _formula_node(self, spec: Any, call: _Call, out_values: list[Value], params: list[nn.Parameter],
                      module: nn.Module, scope: str, label: str, candidate: bool) -> tuple[Node | None, int]:
        """The layer node of `spec` when its formula reproduces the call (for a candidate, every figure), and how
        many of the call's outputs it covers; else (None, 0)."""
        trainable = [p.requires_grad for p in params]
        try:
            lc = cost_layer(spec, 0, call.values[0][0], self.dtype)
        except LayerError:
            return None, 0
        if lc.output_shape != out_values[0][0] or lc.macs != call.macs or lc.params != sum(p.numel() for p in params):
            return None, 0
        node = Node("", spec.type, _implied_dropped(spec.type, dict(spec.args), tuple(call.values), self.elem),
                    tuple(call.inputs), scope=scope, trainable=all(trainable) if trainable else True,
                    module=call.path, label=label)
        try:
            _, formula_outs = cost_node(node, tuple(call.values), self.elem)
        except NodeError:
            return None, 0
        covered = len(formula_outs)
        if tuple(out_values[:covered]) != formula_outs or out_values[0][1] != "float" or \
                (candidate and not self._same_figures(lc.totals, call, out_values, params, module, scope, label)):
            return None, 0
        return node, covered

    def _same_figures(self, totals: Totals, call: _Call, outs: list[Value], params: list[nn.Parameter],
                      module: nn.Module, scope: str, label: str) -> bool:
        """A candidate formula's totals against what the call measured: every cost and every peer view."""
        measured = self._opaque_module(call, outs, params, module, scope, label).measured
        assert measured is not None
        want = measured.totals
        fields = ("params", "macs", "bias_adds", "elementwise_flops", "attention_macs", *want.peer_views())
        return all(getattr(totals, f) == getattr(want, f) for f in fields)

    def _transparent(self, call: _Call, outs: list[torch.Tensor], params: list[nn.Parameter], module: nn.Module,
                     scope: str, label: str) -> bool:
        """Keep the ops of a parameter-free module without a formula as its nodes (True) when each has a rule that
        holds, they give its outputs, and every total and peer view equals the module's measured node; else roll
        them back (False: it becomes that opaque node)."""
        sub = call.sub
        assert sub is not None
        keep = sub.all_functional and not call.unsupported and all(self.known(t) is not None for t in outs)
        if keep:
            measured = self._opaque_module(call, [value_of(t) for t in outs], params, module, scope, label)
            assert measured.measured is not None
            want = measured.measured.totals
            fields = ("macs", "bias_adds", "elementwise_flops", "attention_macs", *want.peer_views())
            keep = all(sum(getattr(t, f) for t in sub.totals) == getattr(want, f) for f in fields)
        if keep:
            self.nodes.extend(sub.nodes)
            return True
        for address, previous in reversed(sub.bound):
            if previous is None:
                self.producer.pop(address, None)
            else:
                self.producer[address] = previous
        self.names.difference_update(sub.names)
        for key in sub.holders:
            self.holders.pop(key, None)
        return False

    def shares(self, params: list[nn.Parameter], path: str, n_call: int) -> tuple[tuple[str, int], ...]:
        if n_call > 1:
            return ()  # a repeated call: the `module` field already says its parameters live at the first
        held: dict[str, int] = {}
        for p in params:
            h = self.holders.get(id(p))
            if h is not None:
                held[h] = held.get(h, 0) + p.numel()
        return tuple(held.items())

    def _opaque_module(self, call: _Call, outs: list[Value], params: list[nn.Parameter], module: nn.Module,
                       scope: str, label: str) -> Node:
        n = sum(p.numel() for p in params)
        n_train = sum(p.numel() for p in params if p.requires_grad)
        buffers = sum(b.numel() for b in module.buffers())
        read = n * self.elem + sum(nbytes(v, self.elem) for v in call.values)
        written = sum(nbytes(v, self.elem) for v in outs)
        known = category_of(module)
        category = known or (max(call.flops_by_category, key=call.flops_by_category.get)
                             if call.flops_by_category else "other")
        totals = measured_totals(call.macs, call.bias_adds, call.elementwise, call.attention_macs, n, n_train,
                                 buffers, read, written, category, known is not None, self.elem,
                                 outs[0][0] if outs else (), fvcore_elements=call.fvcore_elements,
                                 ptflops=op_costs.ptflops_patched(call.ptflops_ops, module),
                                 torchinfo=_torchinfo_call(module, outs))
        m = Measured(tuple(call.values), tuple(outs), totals, category, tuple(call.unsupported.items()))
        return Node("", label, {}, tuple(call.inputs), scope=scope, trainable=n_train == n, module=call.path,
                    measured=m, label=label, shares=self.shares(params, call.path, self.calls[call.path]))

    # ---- ops ---------------------------------------------------------------------------------------------
    def charge(self, func: Any, kind_: str, c: Any, args: tuple, kwargs: dict, out: Any) -> None:
        frame = self.stack[-1] if self.stack else None
        if frame is None or frame.kind != "container":
            call = frame.call if frame is not None else None
            if call is None:
                return
            if kind_ == op_costs.UNSUPPORTED:
                name = str(func.overloadpacket.__name__)
                call.unsupported[name] = call.unsupported.get(name, 0) + 1
            elif c is not None:
                call.macs += c.macs
                call.bias_adds += c.bias_adds
                call.elementwise += c.elementwise
                call.attention_macs += c.attention_macs
                call.flops_by_category[c.category] = call.flops_by_category.get(c.category, 0) + \
                    2 * c.macs + c.bias_adds + c.elementwise + 1
                if c.ptflops:
                    name = str(func.overloadpacket.__name__)
                    call.ptflops_ops[name] = call.ptflops_ops.get(name, 0) + c.ptflops
                call.fvcore_elements += c.fvcore_elements
            sub = call.sub
            if sub is not None and sub.all_functional:
                self._recording = sub
                try:
                    functional, totals = self._op_node(func, kind_, c, args, kwargs, out, call.path)
                finally:
                    self._recording = None
                sub.all_functional = functional
                sub.totals.append(totals)
            return
        self._op_node(func, kind_, c, args, kwargs, out, frame.path)

    def _op_node(self, func: Any, kind_: str, c: Any, args: tuple, kwargs: dict, out: Any,
                 scope: str) -> tuple[bool, Totals]:
        """Record one op as a node of `scope`; returns whether its rule holds (a functional node) and its totals."""
        name = str(func.overloadpacket.__name__)
        ins = tensors((args, kwargs))
        in_refs = tuple(self.ref_of(t, scope) for t in ins)
        in_values = tuple(value_of(t) for t in ins)
        outs = tensors(out)
        out_values = [value_of(t) for t in outs]
        # an in-place write into a view changes its base too: the base is this node's last output
        base = None
        if ins and outs and outs[0] is ins[0] and ins[0]._base is not None and not func.is_view:
            base = ins[0]._base
            out_values.append(value_of(base))
        pt = op_costs.ptflops_patched({name: c.ptflops}, self.paths.get(scope)) if c is not None and c.ptflops else 0
        ok, data = schema_args(func, args, kwargs)
        if c is not None and c.ptflops and not pt:
            # called through an F.* function the module bound before ptflops patched it (nn.TransformerEncoderLayer's
            # `self.activation = F.relu`): ptflops never counts it, and the node says so for its rule
            data["_ptflops_unpatched"] = True
        # The same op on the same values gets the same verdict: a transformer repeats a few dozen of them per block.
        costs = None if c is None else (c.macs, c.bias_adds, c.elementwise, c.attention_macs, c.category,
                                        c.fvcore_elements)
        try:
            key: tuple | None = (name, kind_, func.is_view, base is None, ok, in_values, tuple(out_values), costs, pt,
                                 frozen(data))
            verdict = self._verdicts.get(key)  # type: ignore[arg-type]
        except TypeError:  # an unhashable argument: judged as it is
            key, verdict = None, None
        if verdict is None:
            verdict = op_verdict(name, kind_, c, func.is_view, ok and base is None, data, in_refs, scope,
                                 in_values, out_values, len(outs), pt, self.elem)
            if key is not None:
                self._verdicts[key] = verdict
        functional, totals = verdict
        nid = self.reserve(f"{scope}.{name}" if scope else name)
        if functional:
            node = generic_flatten(Node(nid, name, data, in_refs, nid, scope, label=f"aten.{name}"), in_values)
        else:
            unsupported = ((name, 1),) if kind_ == op_costs.UNSUPPORTED else ()
            m = Measured(in_values, tuple(out_values), totals, c.category if c is not None else "other", unsupported)
            node = Node(nid, name, data, in_refs, nid, scope, measured=m, label=f"aten.{name}")
        ref = self.append(node)
        self.out_kinds[nid] = tuple(dt for _, dt in out_values)
        for i, t in enumerate(outs):
            self.bind(t, Ref(ref.node, i))
        if base is not None:
            self.bind(base, Ref(ref.node, len(outs)))
        return functional, totals

    # ---- the graph ---------------------------------------------------------------------------------------
def _same(a: Any, b: Any) -> bool:
    norm = (lambda v: tuple(v) if isinstance(v, (list, tuple)) else v)  # noqa: E731
    return norm(a) == norm(b)


def _implied_dropped(type_: str, args: dict[str, Any], values: tuple[Value, ...], elem: int) -> dict[str, Any]:
    """The module's arguments without the input sizes its input implies (in_channels, num_features, ...): like a
    layer list's, they then follow the incoming shape when an edit upstream changes it."""
    implied = [a.name for a in kind(type_).args if a.inferred and a.name in args]
    if not implied:
        return args
    trial = {k: v for k, v in args.items() if k not in implied}
    try:
        row, _ = cost_node(Node("", type_, trial, ()), values, elem)
    except NodeError:
        return args
    keep = [k for k in implied if not _same(row.args.get(k), args[k])]
    return {**trial, **{k: args[k] for k in keep}}


def _torchinfo_call(module: nn.Module, outs: list[Value]) -> int:
    """torchinfo's name rule for one call of a leaf module of any class (GPT-2's Conv1D counts as a conv)."""
    named = [(n, p.numel()) for n, p in module.named_parameters()]
    return torchinfo_leaf(type(module).__name__, named, outs[0][0]) if outs else 0


class GraphMode(CostMode):
    """CostMode that hands every op (with its cost) to a GraphRecorder."""

    def __init__(self, recorder: GraphRecorder, elem: int, cache: bool = True) -> None:
        super().__init__(None, elem, cache)
        self.graph = recorder

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        out, kind_, c = self.run_op(func, args, kwargs)
        if func.overloadpacket.__name__ in op_costs.METADATA_OPS:
            return out
        self.graph.charge(func, kind_, c, args, kwargs, out)
        return out
