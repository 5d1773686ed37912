"""The dispatch modes every importer runs a forward under: `CostMode` costs each aten op (and answers repeated
meta ops from a cache), `meta_construction` builds modules without weights, `unfused` turns torch's fused CPU fast
paths off so that their work is seen as the ops it is made of."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from . import op_costs
from .index_bounds import IndexBounds

TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
                "int64": torch.int64, "int32": torch.int32, "bool": torch.bool, "float64": torch.float64,
                "int8": torch.int8, "uint8": torch.uint8}


@dataclass(frozen=True)
class InputSpec:
    shape: tuple[int, ...]
    dtype: str = "float32"  # "int64" for token ids


class CostMode(TorchDispatchMode):
    """Runs each aten op and prices it (op_costs); subclasses decide whom to charge (`charge`)."""

    def __init__(self, recorder: Any, elem: int, cache: bool = True) -> None:
        super().__init__()
        self.recorder = recorder
        self.elem = elem
        self.kinds: dict[Any, tuple[str, bool, bool]] = {}  # op -> (cost kind, cacheable, in-place)
        self.cache: dict[Any, Any] | None = {} if cache else None
        self.bounds = IndexBounds()  # meta does not bounds-check lookups: a table read past its end is refused here

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # We never run under torch.compile; wrapping __torch_dispatch__ in dynamo.disable would import
        # torch._dynamo on the first op (over a second of start-up in the worker).
        return False

    def run_op(self, func: Any, args: tuple, kwargs: dict) -> tuple[Any, str, Any]:
        """(output, cost kind, OpCost or None) of one call; repeated meta calls come from the cache."""
        info = self.kinds.get(func)
        if info is None:
            info = self.kinds[func] = (op_costs.classify(func), *_cache_policy(func))
        kind, cacheable, inplace = info
        self.bounds.check(func, args)
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
            out = _call(func, args, kwargs)
            c = None if kind in (op_costs.FREE, op_costs.UNSUPPORTED) else op_costs.cost(kind, func, args, kwargs, out)
            if key is not None:
                spec = _SELF if inplace and out is args[0] else _to_spec(out) if cacheable else None
                if spec is not None:
                    self.cache[key] = (spec, c)
        self.bounds.note(func, args, kwargs, out)
        return out, kind, c


def _call(func: Any, args: tuple, kwargs: dict) -> Any:
    """`func(*args, **kwargs)`, except that `_grouped_mm` (MoE experts) also runs on meta tensors of other float
    dtypes: its meta kernel checks the dtypes of the CUDA kernel (bf16, fp16), while the CPU kernel takes every
    float dtype and no output shape depends on it. It runs on bf16 stand-ins and answers in the dtype it was given."""
    if func.overloadpacket is torch.ops.aten._grouped_mm and args and args[0].is_meta \
            and args[0].dtype in (torch.float32, torch.float64):
        dtype = kwargs.get("out_dtype") or args[0].dtype
        out = func(*[_bf16(a) for a in args], **{k: _bf16(v) for k, v in kwargs.items() if k != "out_dtype"})
        return torch.empty_strided(out.shape, out.stride(), dtype=dtype, device="meta")
    return func(*args, **kwargs)


def _bf16(a: Any) -> Any:
    """A bf16 meta stand-in for a float tensor (the offsets stay integers)."""
    if isinstance(a, torch.Tensor) and a.is_floating_point():
        return torch.empty_strided(a.shape, a.stride(), dtype=torch.bfloat16, device="meta")
    return a


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
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") in INIT_METHODS:
            # torch.nn.init functions dispatch here with the tensor as a keyword (`tensor=`), Tensor methods with it
            # first: running either on meta would only import torch._dynamo (~2 s) to produce the same empty tensor.
            target = args[0] if args else kwargs.get("tensor")
            if isinstance(target, torch.Tensor) and target.is_meta:
                return target
        return func(*args, **kwargs)


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


