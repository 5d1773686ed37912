"""One training step of a graph, per node: backward MACs, activations saved for backward, gradients, optimizer
states, and the totals with an estimated peak memory. Pure Python (no torch, no Qt).

It reads only the public result of `evaluate_graph` (a `CostReport` with its graph and rows: shapes, forward
MACs, parameter shapes) and the graph's structure. Which values need a gradient follows the data flow: a model
input does not, a node's output does when the node holds trainable parameters or reads a value that does (and
the op is differentiable). A frozen scope's parameters are not trainable: no weight gradients or states there,
and the backward stops where nothing upstream needs a gradient. A checkpointed scope keeps only its inputs for
the backward and runs its forward again during it (the recompute MACs).

Saved activations are counted by storage: a view (reshape, transpose) or an in-place op (relu_) shares its
input's storage, and a storage saved by several ops is counted once, on the first node that saves it.
Parameters and buffers are never activations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from math import prod
from typing import Any

from .backward_rules import NO_GRAD, VIEWS, Backward, NodeCtx, backward_of
from .graph import FIXED_DTYPES, Graph, Node, Ref
from .optimizers import Precision, check_optimizer, param_memory, precision, state_bytes, step_temporary_bytes
from .records import CostReport, LayerCost

Shape = tuple[int, ...]
SOURCES = frozenset({"parameter", "buffer", "constant"})
KIND_BYTES = {"fp32": 4, "int64": 8, "bool": 1}


class TrainingError(ValueError):
    """A training what-if that does not apply (an unknown optimizer, a scope not in the model, an incomplete
    report)."""


@dataclass(frozen=True)
class TrainRow:
    """One node's share of a training step."""

    node_id: str
    name: str
    forward_macs: int
    backward_macs: int
    backward_input_macs: int
    backward_weight_macs: int
    backward_flops: int
    recompute_macs: int
    saved_activation_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    param_bytes: int
    trainable: bool
    checkpointed: bool = False


@dataclass(frozen=True)
class TrainingTotals:
    optimizer: str
    precision: str
    batch_size: int
    forward_macs: int
    backward_macs: int
    recompute_macs: int
    step_macs: int
    step_flops: int
    param_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    saved_activation_bytes: int
    peak_bytes: int
    trainable_params: int
    frozen_params: int

    def as_dict(self) -> dict[str, Any]:
        keys = ("optimizer", "precision", "forward_macs", "backward_macs", "recompute_macs", "step_macs",
                "step_flops", "param_bytes", "grad_bytes", "optimizer_bytes", "saved_activation_bytes",
                "peak_bytes")
        return {k: getattr(self, k) for k in keys}


@dataclass(frozen=True)
class TrainingReport:
    report: CostReport
    rows: tuple[TrainRow, ...]
    totals: TrainingTotals
    frozen: tuple[str, ...] = ()
    checkpointed: tuple[str, ...] = ()
    by_id: dict[str, TrainRow] = field(default_factory=dict, compare=False)
    # the step's memory phases as (bytes independent of the batch, bytes proportional to it at this batch), the
    # ones that can be the peak at some batch size
    phases: tuple[tuple[int, int], ...] = ()

    def peak_at(self, batch: int) -> int:
        """The peak memory at another batch size, activations scaled linearly from this report's batch."""
        b0 = max(1, self.totals.batch_size)
        return max(f + v * batch // b0 for f, v in self.phases) if self.phases else self.totals.peak_bytes

    def max_batch(self, memory: int) -> int | None:
        """The largest batch whose peak fits `memory` bytes (0: not even batch 1; None: no bound, nothing
        grows with the batch)."""
        b0 = max(1, self.totals.batch_size)
        best: int | None = None
        for f, v in self.phases:
            if f > memory:
                return 0
            if v > 0:
                fit = (memory - f) * b0 // v
                best = fit if best is None else min(best, fit)
        return best


def in_scope(scope: str, node: Node) -> bool:
    """Whether `node` lies in the module scope `scope` ('' is the whole model): its scope or module path is it
    or below it, or the node's own name is it."""
    if not scope:
        return True
    for path in (node.scope, node.module, node.display_name):
        if path and (path == scope or path.startswith(scope + ".")):
            return True
    return False


def _check_scopes(graph: Graph, scopes: Sequence[str], what: str) -> None:
    for s in scopes:
        if not any(in_scope(s, n) for n in graph.nodes):
            raise TrainingError(f"--{what} {s!r}: no module or node of {graph.name or 'the model'} is in that scope")


def _value_bytes(shape: Shape, dtype: str, act: int) -> int:
    return prod(shape) * (act if dtype == "float" else FIXED_DTYPES.get(dtype, 8))


def _own_tensors(row: LayerCost, node: Node) -> list[tuple[Shape, int]]:
    """The parameter tensors a row holds once, as (shape, how many) (a repeated call or a tied weight holds none
    of them again)."""
    held = row.totals.params
    if row.param_shapes is None and node.op in ("LSTM", "GRU", "RNN"):
        tensors = _recurrent_tensors(node.op, row.args or dict(node.args), row.input_shape)
        if sum(prod(s) * k for s, k in tensors) == held:
            return tensors
    shapes = list(row.param_shapes or ())
    if not shapes:
        return [((held,), 1)] if held else []
    total = sum(prod(s) for s in shapes)
    while total > held and shapes:  # tied or repeated: drop whole tensors, largest first
        big = max(shapes, key=prod)
        if total - prod(big) < held:
            break
        shapes.remove(big)
        total -= prod(big)
    if total != held:  # not whole tensors: keep the count
        return [((held,), 1)] if held else []
    return [(s, 1) for s in shapes]


def _recurrent_tensors(op: str, a: Any, x: Shape) -> list[tuple[Shape, int]]:
    """torch's LSTM/GRU/RNN tensors per layer and direction: weight_ih (G h, in), weight_hh (G h, h_out), two
    biases (G h) and, with proj_size, weight_hr (proj, h); layers after the first read dirs * h_out features."""
    try:
        g = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
        h, layers = int(a["hidden_size"]), int(a.get("num_layers", 1))
        proj = int(a.get("proj_size", 0) or 0)
        dirs = 2 if a.get("bidirectional") else 1
        cin = int(a.get("input_size") or x[-1])
    except (KeyError, TypeError, ValueError, IndexError):
        return []
    return _rnn_layout(g, h, layers, proj, dirs, cin, bool(a.get("bias", True)))


def _rnn_layout(g: int, h: int, layers: int, proj: int, dirs: int, cin: int, bias: bool) -> list[tuple[Shape, int]]:
    h_out = proj or h
    out: list[tuple[Shape, int]] = [((g * h, cin), dirs)]
    if layers > 1:
        out.append(((g * h, dirs * h_out), dirs * (layers - 1)))
    out.append(((g * h, h_out), dirs * layers))
    if bias:
        out.append(((g * h,), 2 * dirs * layers))
    if proj:
        out.append(((proj, h), dirs * layers))
    return out


def analyze_training(report: CostReport, optimizer: str = "adam", precision_name: str = "fp32",
                     freeze: Iterable[str] = (), checkpoint: Iterable[str] = ()) -> TrainingReport:
    """The training step of `report`'s graph (a complete graph report)."""
    try:
        check_optimizer(optimizer)
        prec = precision(precision_name)
    except ValueError as e:
        raise TrainingError(str(e)) from None
    graph: Graph | None = report.graph
    if graph is None:
        raise TrainingError("training figures need a graph report")
    if not report.complete:
        raise TrainingError(f"the model is not costed everywhere ({report.incomplete_note})")
    frozen, ckpt = tuple(freeze), tuple(checkpoint)
    _check_scopes(graph, frozen, "freeze")
    _check_scopes(graph, ckpt, "checkpoint")
    walk = _Walk(graph, report, prec, optimizer, frozen, ckpt)
    rows = walk.run()
    totals = walk.totals(rows)
    return TrainingReport(report, rows, totals, frozen, ckpt, {r.node_id: r for r in rows}, walk.phases)


class _Walk:
    """The forward pass in graph order: which values need a gradient, each node's backward, its saved storages."""

    def __init__(self, graph: Graph, report: CostReport, prec: Precision, optimizer: str,
                 frozen: tuple[str, ...], ckpt: tuple[str, ...]) -> None:
        self.graph, self.report, self.prec, self.optimizer = graph, report, prec, optimizer
        self.frozen, self.ckpt = frozen, ckpt
        self.rows = report.by_id
        self.dtypes: dict[Ref, str] = {Ref(gi.name): gi.dtype for gi in graph.inputs}
        self.grad: dict[Ref, bool] = {}
        self.storage: dict[Ref, Any] = {Ref(gi.name): Ref(gi.name) for gi in graph.inputs}
        self.size: dict[Any, int] = {Ref(gi.name): _value_bytes(gi.shape, gi.dtype, prec.activation)
                                     for gi in graph.inputs}
        self.not_activation: set[Any] = set()  # storages of parameters, buffers and constants
        self.saved_once: set[Any] = set()
        self.backwards: dict[str, Backward] = {}
        self.saved_storages: dict[str, list[Any]] = {}  # node id -> storages it is the first to save
        self.needs: dict[str, tuple[bool, ...]] = {}
        self.frozen_ids = self._frozen_ids()
        self.phases: tuple[tuple[int, int], ...] = ()

    def _trainable(self, node: Node) -> bool:
        return node.trainable and node.id not in self.frozen_ids

    def _frozen_ids(self) -> set[str]:
        """Nodes in a frozen scope, and the nodes their weights are tied to (one tensor: frozen for both)."""
        ids = {n.id for n in self.graph.nodes if any(in_scope(s, n) for s in self.frozen)}
        if ids:
            for n in self.graph.nodes:
                for other, _ in n.shares:
                    if n.id in ids:
                        ids.add(other)
                    elif other in ids:
                        ids.add(n.id)
        return ids

    def _checkpointed(self, node: Node) -> str | None:
        return next((s for s in self.ckpt if in_scope(s, node)), None)

    def _dtype_of_inputs(self, node: Node) -> list[str]:
        return [self.dtypes.get(r, "float") for r in node.inputs]

    def run(self) -> tuple[TrainRow, ...]:
        out = []
        act = self.prec.activation
        ckpt_inputs: dict[str, set[Any]] = {}
        for node in self.graph.nodes:
            row = self.rows.get(node.id)
            if row is None:
                continue
            in_dt = self._dtype_of_inputs(node)
            n_out = len(row.output_shapes) or 1
            out_dt = _output_dtype(node, in_dt)
            has_w = bool(row.param_shapes) or (row.param_shapes is None and row.params > 0) or bool(node.shares)
            train_w = has_w and self._trainable(node)
            need_in = tuple(self.grad.get(r, False) for r in node.inputs)
            differentiable = node.op not in NO_GRAD and out_dt == "float"
            if node.op == "parameter":
                makes_grad = self._trainable(node)
            else:
                makes_grad = differentiable and (train_w or any(need_in))
            # storages of the outputs
            alias = bool(node.inputs) and (row.totals.written_bytes == 0 and node.op in VIEWS or _inplace(node)
                                           or _identity(node))
            for i in range(n_out):
                ref = Ref(node.id, i)
                self.dtypes[ref] = out_dt
                self.grad[ref] = makes_grad
                if alias:
                    self.storage[ref] = self.storage.get(node.inputs[0], node.inputs[0])
                else:
                    self.storage[ref] = ref
                    shape = row.output_shapes[i] if i < len(row.output_shapes) else row.output_shape
                    self.size[ref] = _value_bytes(shape, out_dt, act)
                    if not node.inputs:
                        self.not_activation.add(ref)
            ctx = NodeCtx(node.op, row.args or dict(node.args), row.input_shapes, row.output_shapes or
                          (row.output_shape,), row.totals.macs, row.totals.attention_macs,
                          row.totals.elementwise_flops, tuple(row.param_shapes or ()), need_in,
                          train_w and differentiable)
            bwd = backward_of(ctx) if (train_w or any(need_in)) and differentiable else Backward()
            self.backwards[node.id] = bwd
            self.needs[node.id] = need_in
            scope = self._checkpointed(node)
            first: list[Any] = []
            if scope is None:
                for item in bwd.saved:
                    st = self._saved_storage(node, item)
                    if st is not None and st not in self.saved_once:
                        self.saved_once.add(st)
                        first.append(st)
            else:  # checkpointed: only the scope's inputs are kept (once per scope)
                held = ckpt_inputs.setdefault(scope, set())
                for r in node.inputs:
                    st = self.storage.get(r, r)
                    src = self.graph.node(r.node) if self.graph.has(r.node) else None
                    inside = src is not None and in_scope(scope, src)
                    if not inside and st not in held and st not in self.not_activation and bwd.saved:
                        held.add(st)
                        if st not in self.saved_once:
                            self.saved_once.add(st)
                            first.append(st)
            self.saved_storages[node.id] = first
            saved_bytes = sum(self.size.get(st, 0) for st in first)
            own = _own_tensors(row, node)
            mem = param_memory(((s, train_w, k) for s, k in own), self.optimizer, self.prec)
            recompute = row.totals.macs if scope is not None else 0
            out.append(TrainRow(node.id, node.display_name, row.totals.macs, bwd.macs, bwd.input_macs,
                                bwd.weight_macs, 2 * bwd.macs + bwd.elementwise, recompute, saved_bytes,
                                mem.grad_bytes, mem.optimizer_bytes, mem.param_bytes, train_w, scope is not None))
        return self._early_stop(out)

    def _early_stop(self, rows: list[TrainRow]) -> tuple[TrainRow, ...]:
        """A checkpointed scope runs again in the backward only up to its last saved tensor (torch.utils.checkpoint,
        non-reentrant, stops recomputing there): an op saves its inputs before it runs and its outputs after, so
        trailing ops that save nothing, or only their inputs, are not run again."""
        last: dict[str, int] = {}  # scope -> index of the first row not run again
        for i, row in enumerate(rows):
            if not row.checkpointed:
                continue
            scope = self._checkpointed(self.graph.node(row.node_id)) or ""
            saved = self.backwards[row.node_id].saved
            if any(item[0] != "in" for item in saved):
                last[scope] = i + 1
            elif saved:
                last[scope] = max(last.get(scope, 0), i)
        out = []
        for i, row in enumerate(rows):
            if row.recompute_macs:
                scope = self._checkpointed(self.graph.node(row.node_id)) or ""
                if i >= last.get(scope, 0):
                    row = replace(row, recompute_macs=0)
            out.append(row)
        return tuple(out)

    def _saved_storage(self, node: Node, item: tuple) -> Any:
        kind = item[0]
        if kind == "new":
            key = ("new", node.id, len(self.size))
            elems, what = item[1], item[2]
            self.size[key] = elems * (self.prec.activation if what == "act" else KIND_BYTES.get(what, 4))
            return key
        idx = item[1]
        if kind == "in":
            if idx >= len(node.inputs):
                return None
            st = self.storage.get(node.inputs[idx], node.inputs[idx])
        else:
            ref = Ref(node.id, idx)
            st = self.storage.get(ref, ref)
        if st in self.not_activation:
            return None
        return st

    def totals(self, rows: tuple[TrainRow, ...]) -> TrainingTotals:
        fwd = self.report.totals.macs
        bwd = sum(r.backward_macs for r in rows)
        rec = sum(r.recompute_macs for r in rows)
        bwd_flops = sum(r.backward_flops for r in rows)
        params = sum(r.param_bytes for r in rows)
        grads = sum(r.grad_bytes for r in rows)
        states = sum(r.optimizer_bytes for r in rows)
        saved = sum(r.saved_activation_bytes for r in rows)
        trainable = sum(self.rows[r.node_id].totals.params for r in rows if r.trainable)
        total_params = self.report.totals.params
        step_flops = self.report.totals.flops + bwd_flops + 2 * rec
        peak = self._peak(rows, params + states, grads, trainable)
        return TrainingTotals(self.optimizer, self.prec.name, self.graph.batch_size, fwd, bwd, rec,
                              fwd + bwd + rec, step_flops, params, grads, states, saved, peak, trainable,
                              total_params - trainable)

    def _peak(self, rows: tuple[TrainRow, ...], static: int, grads: int, trainable: int) -> int:
        """Steady state (the second step: states exist, gradients were set to None before the forward):
        the end of the forward (weights, states, every saved activation and the output), each node's backward
        in reverse order (saved activations not yet released, gradients already made, the gradients of the
        node's outputs and inputs, a checkpointed scope's recomputed activations), and `optimizer.step()`
        (weights, gradients, states and its temporaries). Each phase is kept as (bytes that do not depend on the
        batch, bytes that grow with it) for `peak_at` and `max_batch`."""
        saved_total = sum(r.saved_activation_bytes for r in rows)
        outputs = sum(self.size.get(self.storage.get(r, r), 0) for r in self.graph.output_refs)
        phases = [(static, saved_total + outputs)]
        live_saved = saved_total
        grads_done = 0
        grad_owner_done: set[str] = set()
        grad_live: dict[Any, int] = {}  # storages whose gradient is held: their bytes in activation precision
        for r in self.graph.output_refs:
            st = self.storage.get(r, r)
            grad_live[st] = self.size.get(st, 0) if self.dtypes.get(r, "float") == "float" else 0
        live = sum(grad_live.values())
        ckpt_extra: dict[str, int] = {}
        for row in rows:  # what a checkpointed scope saves while it runs again in the backward
            if row.checkpointed:
                scope = self._checkpointed(self.graph.node(row.node_id)) or ""
                ckpt_extra[scope] = ckpt_extra.get(scope, 0) + self._full_saved(row.node_id)
        by_id = {r.node_id: r for r in rows}
        for row in reversed(rows):
            node = self.graph.node(row.node_id)
            need = self.needs.get(node.id, ())
            passes = _passes_grad(node, self.rows[node.id])
            fresh = []
            for r, n in zip(node.inputs, need, strict=False):
                st = self.storage.get(r, r)
                if n and st not in grad_live:
                    grad_live[st] = self.size.get(st, 0) if self.dtypes.get(r) == "float" and not passes else 0
                    live += grad_live[st]
                    fresh.append(st)
            # a weight's gradient exists from the first backward that uses it (a tied head: before its owner's)
            for owner in (node.id, *(o for o, _ in node.shares)):
                if owner not in grad_owner_done and owner in by_id and (row.trainable or owner == node.id):
                    grad_owner_done.add(owner)
                    grads_done += by_id[owner].grad_bytes
            extra = ckpt_extra.get(self._checkpointed(node) or "", 0) if row.checkpointed else 0
            phases.append((static + grads_done, live_saved + live + extra))
            live_saved -= row.saved_activation_bytes
            popped = 0
            for i in range(len(self.rows[node.id].output_shapes) or 1):
                ref = Ref(node.id, i)
                if self.storage.get(ref) == ref:
                    popped += grad_live.pop(ref, 0)
            if passes and fresh:  # the inputs' gradients are the output's (or views of it): it stays held
                grad_live[fresh[0]] += popped
            else:
                live -= popped
        temp = step_temporary_bytes(self.optimizer, trainable, self.prec.state)
        phases.append((static + grads + temp, 0))
        self.phases = _frontier(phases)
        return max(f + v for f, v in self.phases)

    def _full_saved(self, node_id: str) -> int:
        node = self.graph.node(node_id)
        total = 0
        for item in self.backwards[node_id].saved:
            st = self._saved_storage(node, item)
            if st is not None:
                total += self.size.get(st, 0)
        return total


def _frontier(phases: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """The phases no other one exceeds in both parts (only they can be the peak at some batch size)."""
    out: list[tuple[int, int]] = []
    for f, v in sorted(set(phases), key=lambda p: (-p[0], -p[1])):
        if not out or v > out[-1][1]:
            out.append((f, v))
    return tuple(out)


def _passes_grad(node: Node, row: LayerCost) -> bool:
    """Ops whose backward hands the output's gradient to the inputs without a new tensor: `cat` (each input's
    gradient is a slice of it) and `add` of same-shaped tensors (the same tensor to both)."""
    if node.op == "cat":
        return True
    return node.op == "add" and bool(row.input_shapes) and all(s == row.output_shape for s in row.input_shapes)


def _identity(node: Node) -> bool:
    """Ops that return their input itself in training: dropout with p = 0, Identity."""
    if node.op in ("Dropout", "dropout"):
        return not float(node.args.get("p", 0.5) or 0)
    return node.op == "Identity"


def _inplace(node: Node) -> bool:
    op = node.op
    return (op.endswith("_") and not op.endswith("__")) or node.args.get("inplace") is True


def _output_dtype(node: Node, in_dt: list[str]) -> str:
    """Float unless the op makes integers or booleans: creation and comparisons, or integer inputs passed on."""
    if node.op in ("eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and", "logical_or", "isnan",
                   "isinf"):
        return "bool"
    if node.op in ("argmax", "argmin", "arange"):
        return "int64" if node.op != "arange" or node.args.get("dtype") in (None, "int64", "torch.int64") \
            else "float"
    if node.op in ("ones", "zeros", "full", "empty", "scalar_tensor"):
        dt = str(node.args.get("dtype") or "float")
        return "bool" if "bool" in dt else ("int64" if "int64" in dt or "long" in dt else "float")
    if node.op in ("Embedding", "embedding"):
        return "float"
    if in_dt and all(d != "float" for d in in_dt) and node.op not in SOURCES:
        return in_dt[0]
    return "float"


def optimizer_state_bytes(shapes: Iterable[Shape], optimizer: str, state_elem: int = 4) -> int:
    """The optimizer's states for trainable tensors of these shapes (what torch.optim would hold)."""
    return sum(state_bytes(optimizer, s, state_elem) for s in shapes)
