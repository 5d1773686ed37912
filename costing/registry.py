"""The layer-kind registry: one decorator registers one shape-only cost function per torch.nn type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .args import Arg
from .categories import CATEGORIES

Shape = tuple[int, ...]


@dataclass
class Out:
    """What a cost function returns for one layer at one input shape (element counts, not bytes)."""

    shape: Shape
    params: int = 0
    buffers: int = 0
    macs: int = 0  # multiply-accumulates of conv / linear / matmul / recurrent gates
    bias_adds: int = 0  # one add per output element that gets a bias
    elementwise: int = 0  # other FLOPs: activations, pooling, normalisation, gate non-linearities
    attention_macs: int = 0  # the part of `macs` in parameter-free matmuls (QK^T, AV)
    # Element-wise work as each peer tool charges it (see conventions.py): ptflops counts some layers again
    # through its torch.nn.functional patch (`ptflops_functional`), so twice.
    ptflops_elements: int = 0
    ptflops_functional: bool = False
    thop_elements: int = 0
    fvcore_elements: int = 0
    peer: dict[str, int] = field(default_factory=dict)  # a kind's own figure for a peer, overriding the rule
    view: bool = False  # the output aliases the input: no activation memory of its own
    token_input: bool = False  # the input is int64 token ids (Embedding), not activations in the model dtype
    weight_reads: int | None = None  # parameter elements read, when not all of them (Embedding gathers rows)
    # the parameter tensors' shapes as torch holds them (a weight tie is of whole tensors); None: not declared
    tensors: tuple[Shape, ...] | None = None
    inferred: dict[str, Any] = field(default_factory=dict)
    parts: tuple[tuple[str, str, Out], ...] = ()  # (name, type, cost) of a composite's sub-layers
    # Graph ops: every output as (shape, element kind) when there is more than `shape` in "float", and the
    # category of a functional op (which depends on what it does, not on its kind: mm is linear, bmm attention).
    outputs: tuple[tuple[Shape, str], ...] = ()
    category: str | None = None
    read_inputs: bool = False  # memory: a functional op reads every input tensor (views too) in full


@dataclass(frozen=True)
class Operands:
    """The tensors a kind takes, as torch's schema names them: `names` are required, `optional` may be absent,
    `variadic` is one list of one or more tensors (`cat`). In a traced functional op a scalar operand is recorded
    as an argument of that name (`x + 2` is `add` with one input and `other: 2`), so it counts as given."""

    names: tuple[str, ...] = ("self",)
    optional: tuple[str, ...] = ()
    variadic: bool = False
    scalars: bool = True  # a functional op: a scalar argument may stand for an operand

    def problem(self, n_inputs: int, args: Mapping[str, Any]) -> str | None:
        """Why `n_inputs` tensor inputs with `args` are not a call torch accepts, or None."""
        if self.variadic:
            return None if n_inputs >= 1 else "needs at least one input tensor, got none"
        given = n_inputs + (sum(1 for k in (*self.names, *self.optional) if args.get(k) is not None)
                            if self.scalars else 0)
        low, high = len(self.names), len(self.names) + len(self.optional)
        if low <= given <= high and n_inputs <= high:
            return None
        want = ", ".join((*self.names, *(f"optional {o}" for o in self.optional))) or "no tensor"
        count = f"{low}" if low == high else f"{low} to {high}"
        return (f"takes {count} operand{'s' * (high != 1)} ({want}), got {n_inputs} input{'s' * (n_inputs != 1)}"
                + (f" and {given - n_inputs} as an argument" if given != n_inputs else ""))


UNARY = Operands()
BINARY = Operands(("self", "other"))
NO_INPUT = Operands(())
ONE_INPUT = Operands(("input",), scalars=False)  # a torch.nn layer's forward(input)

CostFn = Callable[[dict[str, Any], Shape], Out]
# A functional op (add, cat, view, matmul, ...) gets all its input values ((shape, element kind) each).
OpFn = Callable[[dict[str, Any], tuple[tuple[Shape, str], ...]], Out]


@dataclass(frozen=True)
class LayerKind:
    type: str
    category: str
    args: tuple[Arg, ...]
    fn: CostFn
    dims: int = 1  # how many entries a tuple argument (kernel_size, stride, ...) has
    doc: str = ""
    functional: bool = False  # an OpFn over all inputs with free-form arguments (checked by the op itself)
    operands: Operands = ONE_INPUT  # the tensors torch's call takes
    outputs: int | None = 1  # how many tensors it returns; None: it depends on the arguments (split, max)

    def arg(self, name: str) -> Arg:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(name)


_REGISTRY: dict[str, LayerKind] = {}


def register(*types: str, category: str, args: tuple[Arg, ...] | Callable[[str], tuple[Arg, ...]],
             dims: int | Callable[[str], int] = 1, operands: Operands | Callable[[str], Operands] | None = None
             ) -> Callable[[CostFn], CostFn]:
    """Register `fn` for each name in `types`. `args`/`dims` may be functions of the type name (aliases)."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category}")

    def deco(fn: CostFn) -> CostFn:
        for t in types:
            if t in _REGISTRY:
                raise ValueError(f"layer type {t} registered twice")
            schema = args(t) if callable(args) else args
            n = dims(t) if callable(dims) else dims
            ops = operands(t) if callable(operands) else operands or ONE_INPUT
            _REGISTRY[t] = LayerKind(t, category, schema, _bind(fn, t), n, (fn.__doc__ or "").strip(), operands=ops)
        return fn

    return deco


def register_op(*names: str, operands: Operands | Callable[[str], Operands], category: str = "other",
                outputs: int | None = 1) -> Callable[[OpFn], OpFn]:
    """Register a functional graph op (aten-level: `add`, `view`, `mm`, ...) for each name in `names`, taking the
    tensors `operands` names (a function of the name where aliases differ) and returning `outputs` tensors (None
    where the count depends on the arguments: a graph file's `name:k` is then checked when the op is costed)."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category}")

    def deco(fn: OpFn) -> OpFn:
        for t in names:
            if t in _REGISTRY:
                raise ValueError(f"op {t} registered twice")
            ops = operands(t) if callable(operands) else operands
            _REGISTRY[t] = LayerKind(t, category, (), _bind(fn, t), 1, (fn.__doc__ or "").strip(), functional=True,
                                     operands=ops, outputs=outputs)
        return fn

    return deco


def _bind(fn: Callable[..., Out], type_: str) -> CostFn:
    """Cost functions that serve several aliases receive their type name as a keyword."""
    import inspect

    if "type_" in inspect.signature(fn).parameters:
        return lambda a, x: fn(a, x, type_=type_)
    return fn


def kind(type_: str) -> LayerKind:
    _load()
    try:
        return _REGISTRY[type_]
    except KeyError:
        raise KeyError(type_) from None


def has_kind(type_: str) -> bool:
    _load()
    return type_ in _REGISTRY


def kinds() -> dict[str, LayerKind]:
    """The torch.nn layer kinds (what a layer list or the layer picker offers)."""
    _load()
    return {k: v for k, v in _REGISTRY.items() if not v.functional}


def op_kinds() -> dict[str, LayerKind]:
    """The functional graph ops (aten-level)."""
    _load()
    return {k: v for k, v in _REGISTRY.items() if v.functional}


def _load() -> None:
    # The layer modules register themselves on import; importing them here keeps `import costing` cheap to reason
    # about (one place pulls them in) and avoids a cycle with this module. Once loaded, this is a dict lookup.
    if "Linear" not in _REGISTRY or "add" not in _REGISTRY:
        from . import layers, ops  # noqa: F401
