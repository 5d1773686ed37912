"""Count a torch model: one forward pass (on the meta device wherever possible) under a dispatch mode that charges
every aten op to the module running it, then one `LayerCost` per leaf module and one per container that does
work of its own (residual adds, `x @ w`, SDPA in a custom attention module).

Leaf modules whose torch.nn class has a NetCost layer formula are costed by that formula at the shapes seen
(identical numbers to a layer list), after checking its MACs against the ops the forward actually ran; other rows
are costed from their ops (op_costs). The model object is left as it was: training flags are restored, no hook or
mode outlives the call, and its parameters are never replaced in place.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.module_tracker import ModuleTracker

from costing import CostReport, HierarchyNode, LayerCost, LayerSpec, Totals, cost_layer, make_report, sum_layers
from costing.conventions import netcost_flops, peer_figures, torchinfo_leaf
from costing.dtypes import DTYPE_BYTES
from costing.errors import LayerError
from costing.registry import Out

from . import op_costs
from .model_state import preserved
from .module_specs import category_of, is_absorbing, layer_spec

Shape = tuple[int, ...]
TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
                "int64": torch.int64, "int32": torch.int32, "bool": torch.bool, "float64": torch.float64,
                "int8": torch.int8, "uint8": torch.uint8}
INF = float("inf")


@dataclass(frozen=True)
class InputSpec:
    shape: Shape
    dtype: str = "float32"  # "int64" for token ids


class MetaUnsupported(Exception):
    """The model's code needs real tensors (it failed on the meta device but runs on the CPU)."""


@dataclass(eq=False)
class _Row:
    """What one row accumulates during the forward: a leaf module over all its calls, or a container's own ops."""

    path: str
    module: nn.Module
    own: bool
    first_seq: float = INF
    calls: list[tuple[tuple[tuple[Shape, torch.dtype], ...], tuple[tuple[Shape, torch.dtype], ...]]] = \
        field(default_factory=list)
    macs: int = 0
    bias_adds: int = 0
    elementwise: int = 0
    attention_macs: int = 0
    read: int = 0  # own rows: bytes read by their ops
    written: int = 0
    flops_by_category: Counter = field(default_factory=Counter)
    ptflops_ops: Counter = field(default_factory=Counter)  # op name -> what ptflops' patches charge (OpCost)
    fvcore_elements: int = 0
    unsupported: Counter = field(default_factory=Counter)
    ops: int = 0  # costed (non-free) ops seen


def _tensors(obj: Any) -> tuple[tuple[Shape, torch.dtype], ...]:
    flat, _ = tree_flatten(obj)
    return tuple((tuple(t.shape), t.dtype) for t in flat if isinstance(t, torch.Tensor))


class _Recorder:
    """The module stack during the forward: which row the next op is charged to."""

    def __init__(self, model: nn.Module) -> None:
        self.info: dict[int, tuple[str, bool]] = {}  # id(module) -> (path, is_leaf)
        self.rows: dict[tuple[str, bool], _Row] = {}  # (path, own) -> row
        self.entered: dict[str, int] = {}  # container path -> sequence number of its first call
        self.seq = 0
        self._walk("", model)
        self.stack: list[tuple[_Row, bool]] = [(self.rows[("", not self.info[id(model)][1])], False)]

    def _walk(self, path: str, module: nn.Module) -> None:
        if id(module) in self.info:  # reachable under two names: listed under its first, as named_modules does
            return
        leaf = is_absorbing(module) or next(iter(module.children()), None) is None
        self.info[id(module)] = (path, leaf)
        self.rows[(path, not leaf)] = _Row(path, module, own=not leaf)
        if not leaf:
            for name, child in module.named_children():
                self._walk(f"{path}.{name}" if path else name, child)

    @property
    def current(self) -> _Row:
        return self.stack[-1][0]

    def enter(self, module: nn.Module, args: Any) -> None:
        self.seq += 1
        top, top_is_leaf = self.stack[-1]
        info = None if top_is_leaf else self.info.get(id(module))
        if info is None:  # inside a leaf, or a module created outside the model: charge to the current row
            self.stack.append((top, top_is_leaf))
            return
        path, leaf = info
        row = self.rows[(path, not leaf)]
        if leaf:
            if row.first_seq == INF:
                row.first_seq = self.seq
            row.calls.append((_tensors(args), ()))
        else:
            self.entered.setdefault(path, self.seq)
        self.stack.append((row, leaf))

    def exit(self, module: nn.Module, output: Any) -> None:
        row, leaf = self.stack.pop()
        if leaf and row.module is module and row.calls and not row.calls[-1][1]:
            row.calls[-1] = (row.calls[-1][0], _tensors(output))


class _Tracker(ModuleTracker):
    """torch's ModuleTracker (its `parents` stay right for anyone reading them) plus our module stack."""

    def __init__(self, recorder: _Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def _fw_pre_hook(self, mod: nn.Module, input: Any) -> None:
        super()._fw_pre_hook(mod, input)
        self.recorder.enter(mod, input)

    def _fw_post_hook(self, mod: nn.Module, input: Any, output: Any) -> None:
        super()._fw_post_hook(mod, input, output)
        self.recorder.exit(mod, output)


class CostMode(TorchDispatchMode):
    """Charges each aten op to the row on top of the recorder's stack."""

    def __init__(self, recorder: Any, elem: int, cache: bool = True) -> None:
        super().__init__()
        self.recorder = recorder
        self.elem = elem
        self.kinds: dict[Any, tuple[str, bool, bool]] = {}  # op -> (cost kind, cacheable, in-place)
        self.cache: dict[Any, Any] | None = {} if cache else None

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # We never run under torch.compile; wrapping __torch_dispatch__ in dynamo.disable would import
        # torch._dynamo on the first op (over a second of start-up in the worker).
        return False

    def _bytes(self, t: Any) -> int:
        if not isinstance(t, torch.Tensor):
            return 0
        return t.numel() * (self.elem if t.is_floating_point() else t.element_size())

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        info = self.kinds.get(func)
        if info is None:
            info = self.kinds[func] = (op_costs.classify(func), *_cache_policy(func))
        kind, cacheable, inplace = info
        key = hit = None
        if self.cache is not None and (cacheable or inplace):
            try:
                key = (func, *[_meta_key(a) for a in args], *[(k, _meta_key(v)) for k, v in kwargs.items()])
                hit = self.cache.get(key)
            except (_Uncacheable, TypeError):  # a real tensor or an unhashable argument: run it as it is
                key = None
        if hit is not None:
            spec, c = hit
            out = args[0] if spec is _SELF else _from_spec(spec)
        else:
            out = func(*args, **kwargs)
            c = None if kind in (op_costs.FREE, op_costs.UNSUPPORTED) else op_costs.cost(kind, func, args, kwargs, out)
            if key is not None:
                spec = _SELF if inplace and out is args[0] else _to_spec(out) if cacheable else None
                if spec is not None:
                    self.cache[key] = (spec, c)
        rec = self.recorder
        row = rec.stack[-1][0]
        if row.own:  # containers' own ops: memory traffic per op (a view reads its input and writes nothing)
            if func.overloadpacket.__name__ in op_costs.METADATA_OPS:
                return out
            rec.seq += 1
            if row.first_seq == INF:
                row.first_seq = rec.seq
            flat, _ = tree_flatten((args, kwargs))
            flat_out, _ = tree_flatten(out)
            row.read += sum(self._bytes(t) for t in flat)
            if not func.is_view:
                row.written += sum(self._bytes(t) for t in flat_out)
            if not row.calls:  # shapes shown for the row: its first op's input, its last op's output
                row.calls.append((_tensors(flat)[:1], ()))
            row.calls[0] = (row.calls[0][0], _tensors(flat_out)[:1])
            row.ops += 1
        if kind == op_costs.UNSUPPORTED:
            row.unsupported[str(func.overloadpacket.__name__)] += 1
        elif c is not None:
            row.macs += c.macs
            row.bias_adds += c.bias_adds
            row.elementwise += c.elementwise
            row.attention_macs += c.attention_macs
            if c.ptflops:
                row.ptflops_ops[func.overloadpacket.__name__] += c.ptflops
            row.fvcore_elements += c.fvcore_elements
            row.flops_by_category[c.category] += 2 * c.macs + c.bias_adds + c.elementwise + 1
        return out


# --- meta-op cache: on the meta device an op's output depends only on its inputs' metadata and its arguments,
# so a repeated call (the same block again, 80 times in Llama-70B) is answered from the cache instead of running
# torch's Python meta kernel again. Only ops whose outputs are fresh tensors (no views, no out= variants) or
# in-place ops (whose output is their first argument) are cached.

class _Uncacheable(Exception):
    pass


_SELF = object()


def _cache_policy(func: Any) -> tuple[bool, bool]:
    tags = func.tags
    if func.is_view or torch.Tag.inplace_view in tags or torch.Tag.dynamic_output_shape in tags or \
            torch.Tag.data_dependent_output in tags:
        return False, False
    if torch.Tag.inplace in tags:
        return False, True
    return not func._schema.is_mutable, False


def _meta_key(a: Any) -> Any:
    if isinstance(a, torch.Tensor):
        if a.device.type != "meta":
            raise _Uncacheable
        return (a.shape, a.stride(), a.dtype)
    if isinstance(a, (list, tuple)):
        return tuple(_meta_key(x) for x in a)
    if isinstance(a, float):
        return (float, a)  # 1.0 and 1 are the same key otherwise; keep scalar types apart
    return a


def _to_spec(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return (out.shape, out.stride(), out.dtype) if out.device.type == "meta" else None
    if isinstance(out, (tuple, list)) and out:
        specs = [_to_spec(o) for o in out]
        return None if any(s is None for s in specs) else (type(out), specs)
    return None


def _from_spec(spec: Any) -> Any:
    if isinstance(spec[0], type):
        return spec[0](_from_spec(s) for s in spec[1])
    shape, stride, dtype = spec
    return torch.empty_strided(shape, stride, dtype=dtype, device="meta")


# Parameter initialisers do nothing useful on meta tensors but can be slow (some import sympy on first use).
INIT_METHODS = frozenset({"normal_", "uniform_", "zero_", "zeros_", "ones_", "fill_", "constant_",
                          "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_", "xavier_normal_",
                          "trunc_normal_", "orthogonal_", "erfinv_", "exponential_", "random_", "bernoulli_",
                          "log_normal_", "cauchy_", "geometric_"})


class _SkipMetaInit(TorchFunctionMode):
    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        if getattr(func, "__name__", "") in INIT_METHODS and args and isinstance(args[0], torch.Tensor) \
                and args[0].is_meta:
            return args[0]
        return func(*args, **(kwargs or {}))


@contextmanager
def meta_construction() -> Iterator[None]:
    """Build modules on the meta device (no weight memory), skipping their weight initialisation."""
    with torch.device("meta"), _SkipMetaInit():
        yield


# --- running the forward ---------------------------------------------------------------------------------------

@contextmanager
def unfused() -> Iterator[None]:
    """No gradients, and torch's fused CPU fast paths off for the duration: on real CPU tensors (the fallback for
    models that need them, TorchScript loaded on the CPU) `nn.MultiheadAttention`/`nn.TransformerEncoderLayer` in
    eval() + no_grad() would run as one `_native_multi_head_attention`/`_transformer_encoder_layer_fwd` op and
    `nn.LSTM` as `mkldnn_rnn_layer`, which no formula covers (the peers count them as 0). With the fast paths off
    they run as the same mm/bmm/addmm ops as on the meta device, and are counted. Both switches are restored."""
    mha = torch.backends.mha.get_fastpath_enabled()
    get_mkldnn = getattr(torch._C, "_get_mkldnn_enabled", None)
    set_mkldnn = getattr(torch._C, "_set_mkldnn_enabled", None)
    mkldnn = get_mkldnn() if get_mkldnn is not None and set_mkldnn is not None else None
    torch.backends.mha.set_fastpath_enabled(False)
    if mkldnn is not None:
        set_mkldnn(False)
    try:
        with torch.no_grad():
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(mha)
        if mkldnn is not None:
            set_mkldnn(mkldnn)


def make_inputs(specs: Sequence[InputSpec], device: str | torch.device) -> list[torch.Tensor]:
    out = []
    gen = torch.Generator().manual_seed(0)
    for s in specs:
        dt = TORCH_DTYPES[s.dtype]
        if str(device) == "meta":
            out.append(torch.empty(s.shape, dtype=dt, device="meta"))
        elif dt.is_floating_point:
            out.append(torch.randn(s.shape, generator=gen).to(dt))
        else:
            out.append(torch.zeros(s.shape, dtype=dt))  # token id 0 exists in every vocabulary
    return out


def _device_of(model: nn.Module) -> torch.device:
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("meta")


def _run(model: nn.Module, inputs: list[torch.Tensor], elem: int, meta_state: dict[str, torch.Tensor] | None
         ) -> _Recorder:
    recorder = _Recorder(model)
    with ExitStack() as stack:
        stack.enter_context(unfused())
        stack.enter_context(_Tracker(recorder))
        stack.enter_context(CostMode(recorder, elem))
        if meta_state is None:
            model(*inputs)
        else:  # swap in meta stand-ins for the duration of the call; torch restores the real tensors after
            torch.func.functional_call(model, meta_state, tuple(inputs), tie_weights=True, strict=False)
    return recorder


def _is_meta_problem(e: BaseException) -> bool:
    text = str(e)
    return isinstance(e, NotImplementedError) or "meta" in text.lower() or "data-dependent" in text


def trace_module(model: nn.Module, inputs: Sequence[InputSpec], name: str | None = None,
                 dtype: str | None = None, warnings: Sequence[str] = (), source: str = "torch",
                 meta: bool | None = None) -> CostReport:
    """Count `model` at `inputs` (shapes with batch). Runs on the meta device unless the model's code needs real
    tensors; then once more on the CPU with a note in the report's warnings. Model errors propagate.
    `meta=True`: the meta device only (its error propagates, for a caller that retries with a fresh model);
    `meta=False`: the model's own device only."""
    dtype = dtype or _param_dtype(model)
    elem = DTYPE_BYTES[dtype]
    notes = list(warnings)
    flags = [(m, m.training) for m in model.modules()]
    model.eval()  # inference costs: dropout off, batch norm on running statistics
    try:
        device = _device_of(model)
        rec = None
        if meta is not False:
            try:
                meta_state = None
                if device.type != "meta":
                    stand_in: dict[int, torch.Tensor] = {}  # one meta tensor per real one: tied weights stay tied
                    meta_state = {k: stand_in.setdefault(id(v), torch.empty_like(v, device="meta"))
                                  for k, v in [*model.named_parameters(remove_duplicate=False),
                                               *model.named_buffers(remove_duplicate=False)]}
                with preserved(model):  # what a failed attempt stored on the model is put back
                    rec = _run(model, make_inputs(inputs, "meta"), elem, meta_state)
            except Exception as meta_error:
                if meta or device.type == "meta" or not _is_meta_problem(meta_error):
                    raise
                notes.append(cpu_fallback_note(meta_error))
        if rec is None:
            rec = _run(model, make_inputs(inputs, device), elem, None)
    finally:
        for m, training in flags:
            m.training = training
    return build_report(model, rec, inputs, name or type(model).__name__, dtype, notes, source)


def cpu_fallback_note(meta_error: BaseException) -> str:
    return (f"counted with real tensors on the CPU: the forward does not run on the meta device "
            f"({type(meta_error).__name__}: {str(meta_error).splitlines()[0][:160] if str(meta_error) else ''})")


def _param_dtype(model: nn.Module) -> str:
    for p in model.parameters():
        if p.is_floating_point():
            name = str(p.dtype).removeprefix("torch.")
            return name if name in DTYPE_BYTES else "float32"
    return "float32"


# --- from rows to a report -------------------------------------------------------------------------------------

def _order(rec: _Recorder, model: nn.Module) -> tuple[list[_Row], list[tuple[str, nn.Module, int, int]]]:
    """Rows in tree order (siblings by first use), and containers as (path, module, first row, last row)."""
    rows: list[_Row] = []
    containers: list[tuple[str, nn.Module, int, int]] = []
    order = {id(m): i for i, m in enumerate(model.modules())}

    memo: dict[str, float] = {}

    def first_use(path: str, module: nn.Module) -> float:
        """When a container was first used: entered, or (a ModuleList is never called) its first descendant."""
        if path not in memo:
            seqs = [rec.entered.get(path, INF), rec.rows[(path, True)].first_seq]
            for name, child in module.named_children():
                cpath = f"{path}.{name}" if path else name
                cinfo = rec.info.get(id(child))
                if cinfo is not None and cinfo[0] == cpath:
                    seqs.append(rec.rows[(cpath, False)].first_seq if cinfo[1] else first_use(cpath, child))
            memo[path] = min(seqs)
        return memo[path]

    def visit(path: str, module: nn.Module) -> None:
        info = rec.info.get(id(module))
        if info is None or info[0] != path:
            return  # a module reachable under two names is listed under its first
        if info[1]:
            rows.append(rec.rows[(path, False)])
            return
        first = len(rows)
        items: list[tuple[float, int, Any]] = []
        own = rec.rows[(path, True)]
        items.append((own.first_seq, -1, own))
        for child_name, child in module.named_children():
            child_path = f"{path}.{child_name}" if path else child_name
            cinfo = rec.info.get(id(child))
            if cinfo is None or cinfo[0] != child_path:
                continue
            seq = rec.rows[(child_path, False)].first_seq if cinfo[1] else first_use(child_path, child)
            items.append((seq, order[id(child)], (child_path, child)))
        items.sort(key=lambda t: (t[0], t[1]))
        for _, _, item in items:
            if isinstance(item, _Row):
                if item.ops or any(True for _ in item.module.parameters(recurse=False)) or \
                        any(True for _ in item.module.buffers(recurse=False)):
                    rows.append(item)
            else:
                visit(*item)
        if len(rows) > first:
            containers.append((path, module, first, len(rows) - 1))

    visit("", model)
    return rows, containers


def _depth(path: str) -> int:
    return path.count(".") + 1 if path else 0


def _params(tensors: list[torch.nn.Parameter], elem: int) -> tuple[int, int]:
    total = sum(p.numel() for p in tensors)
    trainable = sum(p.numel() for p in tensors if p.requires_grad)
    return total, trainable


def _formula_row(row: _Row, spec: LayerSpec, index: int, dtype: str) -> LayerCost | None:
    """The layer formula's cost over all calls, or None when it does not describe what the forward did."""
    total: Totals | None = None
    first: LayerCost | None = None
    for ins, outs in row.calls:
        if not ins or not outs:
            return None
        try:
            lc = cost_layer(spec, index, ins[0][0], dtype)
        except LayerError:
            return None
        if lc.output_shape != outs[0][0]:
            return None
        first = first or lc
        total = lc.totals if total is None else total + lc.totals
    if first is None or total is None or total.macs != row.macs:
        return None
    # parameters are held once however often the module is called
    total = dataclasses.replace(total, params=first.params, trainable_params=first.trainable_params,
                                frozen_params=first.frozen_params, buffers=first.buffers,
                                param_bytes=first.param_bytes)
    return dataclasses.replace(first, totals=total)


def _category(row: _Row) -> str:
    cat = None if row.own else category_of(row.module)
    if cat is None:
        cat = row.flops_by_category.most_common(1)[0][0] if row.flops_by_category else "other"
    return cat


def _measured_totals(row: _Row, category: str, params: int, trainable: int, buffers: int, elem: int,
                     out_shape: Shape) -> Totals:
    if row.own:
        read, written = row.read, row.written
    else:
        read = params * elem + sum(_bytes_of(ins, elem) for ins, _ in row.calls)
        written = sum(_bytes_of(outs, elem) for _, outs in row.calls)
    known = not row.own and category_of(row.module) is not None
    out = Out(out_shape, params=params, buffers=buffers, macs=row.macs, bias_adds=row.bias_adds,
              elementwise=row.elementwise, attention_macs=row.attention_macs)
    peers = peer_figures(category, out, params)
    # fvcore counts ops whatever module runs them: matmuls and convolutions (not fused attention, SDPA, whose MACs
    # are attention_macs), norms, adaptive pooling and resampling by its element rules
    peers["fvcore"] = 0 if category == "recurrent" and known else row.macs - row.attention_macs + row.fvcore_elements
    if not known:  # functional work and unknown modules: thop's module rules never see it, ptflops only the
        # torch.* / F.* calls it patches, torchinfo leaf modules of any class by its name rule
        peers.update(thop=0, torchinfo=0 if row.own else _torchinfo_calls(row),
                     ptflops=op_costs.ptflops_patched(row.ptflops_ops, row.module))
    return Totals(params=params, trainable_params=trainable, frozen_params=params - trainable, buffers=buffers,
                  macs=row.macs, flops=netcost_flops(out), bias_adds=row.bias_adds,
                  elementwise_flops=row.elementwise, attention_macs=row.attention_macs, param_bytes=params * elem,
                  activation_bytes=written, read_bytes=read, written_bytes=written,
                  memory_access_bytes=read + written, **peers)


def _torchinfo_calls(row: _Row) -> int:
    """torchinfo applies its name rule to every leaf module it sees called, of whatever class (GPT-2's Conv1D)."""
    named = [(n, p.numel()) for n, p in row.module.named_parameters()]
    return sum(torchinfo_leaf(type(row.module).__name__, named, outs[0][0]) for _, outs in row.calls if outs)


def _bytes_of(tensors: tuple[tuple[Shape, torch.dtype], ...], elem: int) -> int:
    total = 0
    for shape, dt in tensors:
        n = 1
        for d in shape:
            n *= d
        total += n * (elem if dt.is_floating_point else torch.empty((), dtype=dt).element_size())
    return total


def build_report(model: nn.Module, rec: _Recorder, inputs: Sequence[InputSpec], name: str, dtype: str,
                 warnings: list[str], source: str) -> CostReport:
    elem = DTYPE_BYTES[dtype]
    ordered, containers = _order(rec, model)
    owners: dict[int, list[str]] = {}  # id(parameter) -> paths of the rows holding it
    row_params: list[list[nn.Parameter]] = []
    for row in ordered:
        ps = list({id(p): p for p in row.module.parameters(recurse=not row.own)}.values())
        row_params.append(ps)
        for p in ps:
            owners.setdefault(id(p), []).append(row.path)
    seen: set[int] = set()
    layers: list[LayerCost] = []
    unsupported: list[dict[str, Any]] = []
    mismatched: list[str] = []
    uncalled: list[str] = []
    for index, (row, ps) in enumerate(zip(ordered, row_params, strict=True)):
        fresh = [p for p in ps if id(p) not in seen]
        seen.update(id(p) for p in fresh)
        shared = sorted({o for p in ps for o in owners[id(p)] if o != row.path and len(owners[id(p)]) > 1})
        label = row.path or type(row.module).__name__
        type_name = type(row.module).__name__ + (" (own ops)" if row.own else "")
        depth = _depth(row.path) + (1 if row.own else 0)
        ins = row.calls[0][0] if row.calls else ()
        outs = row.calls[0][1] if row.calls else ()
        spec = None if row.own else layer_spec(row.module)
        lc = _formula_row(row, spec, index, dtype) if spec is not None and row.calls else None
        total_params, trainable = _params(ps, elem)
        if lc is not None and lc.params != total_params:
            lc = None
        if spec is not None and row.calls and lc is None:
            mismatched.append(label)
        if not row.own and not row.calls:
            uncalled.append(label)
        if lc is not None:
            t = lc.totals
            fresh_n, fresh_trainable = _params(fresh, elem)
            t = dataclasses.replace(t, params=fresh_n, trainable_params=fresh_trainable,
                                    frozen_params=fresh_n - fresh_trainable, param_bytes=fresh_n * elem)
            lc = dataclasses.replace(lc, index=index, name=label, type=type_name, totals=t, depth=depth,
                                     path=row.path, shared_with=tuple(shared), input_shapes=tuple(s for s, _ in ins))
        else:
            category = _category(row)
            buffers = sum(b.numel() for b in row.module.buffers(recurse=not row.own))
            out_shape = outs[0][0] if outs else ()
            t = _measured_totals(row, category, total_params, trainable, buffers, elem, out_shape)
            fresh_n, fresh_trainable = _params(fresh, elem)
            t = dataclasses.replace(t, params=fresh_n, trainable_params=fresh_trainable,
                                    frozen_params=fresh_n - fresh_trainable, param_bytes=fresh_n * elem)
            in_shape = ins[0][0] if ins else ()
            lc = LayerCost(index=index, name=label, type=type_name, category=category, input_shape=in_shape,
                           output_shape=out_shape, totals=t, depth=depth, path=row.path,
                           shared_with=tuple(shared), input_shapes=tuple(s for s, _ in ins))
        layers.append(lc)
        for op, count in row.unsupported.items():
            unsupported.append({"op": op, "count": count, "module": label})
    notes = list(warnings)
    if mismatched:
        notes.append(f"{len(mismatched)} module(s) costed from their ops, not their layer formula (their forward "
                     f"differs from torch's): {', '.join(mismatched[:5])}{' ...' if len(mismatched) > 5 else ''}")
    if uncalled:
        notes.append(f"{len(uncalled)} module(s) not called in forward (parameters counted, no compute): "
                     f"{', '.join(uncalled[:5])}{' ...' if len(uncalled) > 5 else ''}")
    if unsupported:
        n = sum(u["count"] for u in unsupported)
        notes.append(f"{n} op call(s) have no cost formula and are listed as unsupported")
        notes += op_costs.data_dependent_notes({u["op"] for u in unsupported})
    rows = tuple(layers)
    totals, by_category = sum_layers(rows)
    prefix = [Totals()]  # running sums: a container's totals are a difference of two, not a loop over its rows
    for r in rows:
        prefix.append(prefix[-1] + r.totals)
    hierarchy = []
    for path, module, first, last in sorted(containers, key=lambda c: (c[2], -c[3])):
        node_totals = prefix[last + 1] - prefix[first]
        hierarchy.append(HierarchyNode(path=path, type=type(module).__name__, depth=_depth(path), first=first,
                                       last=last, totals=node_totals))
    in_list = tuple((tuple(s.shape), s.dtype if s.dtype == "int64" else
                     (dtype if s.dtype in DTYPE_BYTES or s.dtype == "float64" else s.dtype)) for s in inputs)
    batch = inputs[0].shape[0] if inputs and inputs[0].shape else 1
    return make_report(name, in_list, batch, dtype, rows, totals, by_category, hierarchy=tuple(hierarchy),
                       unsupported=tuple(unsupported), warnings=tuple(notes), source=source)
