"""Element-wise ops over broadcast inputs: arithmetic, activations, comparisons. FLOPs per output element as
NetCost's layer formulas count them (costing.layers.activation), 1 for everything else."""

from __future__ import annotations

from ..errors import SpecError
from ..formatting import shape as fmt
from ..layers.activation import ACTIVATION_FLOPS
from ..registry import BINARY, UNARY, Operands, Out, register_op
from ._values import Value, broadcast, need, numel, result

# per-element FLOPs of activation ops, the same constants as the layer formulas
ACTIVATIONS = {"relu": ACTIVATION_FLOPS["ReLU"], "hardtanh": ACTIVATION_FLOPS["ReLU6"],
               "leaky_relu": ACTIVATION_FLOPS["LeakyReLU"], "sigmoid": ACTIVATION_FLOPS["Sigmoid"],
               "tanh": ACTIVATION_FLOPS["Tanh"], "silu": ACTIVATION_FLOPS["SiLU"], "gelu": ACTIVATION_FLOPS["GELU"],
               "hardswish": ACTIVATION_FLOPS["Hardswish"]}
ARITHMETIC = ("add", "sub", "mul", "div", "where", "pow", "maximum", "minimum", "clamp", "clamp_min", "clamp_max",
              "neg", "rsqrt", "reciprocal", "exp", "log", "sqrt", "cos", "sin", "abs", "erf", "sign", "floor", "ceil",
              "round", "square", "exp2", "log2", "log1p", "expm1", "hardsigmoid", "mish", "elu", "softplus",
              "rsub", "lerp", "addcmul", "addcdiv", "fmod", "remainder", "bitwise_not", "logical_not",
              "logical_and", "logical_or", "bitwise_and", "bitwise_or", "bitwise_xor")
FLOAT_RESULT = {"div", "rsqrt", "reciprocal", "exp", "log", "sqrt", "cos", "sin", "erf", "exp2", "log2", "log1p",
                "expm1"}
COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge", "isnan", "isinf")


# the tensors of each op that takes more than `self` (a scalar may stand for any but the first)
OPERANDS = {"add": BINARY, "sub": BINARY, "mul": BINARY, "div": BINARY, "maximum": BINARY, "minimum": BINARY,
            "fmod": BINARY, "remainder": BINARY, "rsub": BINARY, "logical_and": BINARY, "logical_or": BINARY,
            "eq": BINARY, "ne": BINARY, "lt": BINARY, "le": BINARY, "gt": BINARY, "ge": BINARY,
            "pow": Operands(("self", "exponent")), "where": Operands(("condition", "self", "other")),
            "lerp": Operands(("self", "end", "weight")), "addcmul": Operands(("self", "tensor1", "tensor2")),
            "addcdiv": Operands(("self", "tensor1", "tensor2")), "clamp": Operands(("self",), ("min", "max")),
            "clamp_min": Operands(("self", "min")), "clamp_max": Operands(("self", "max"))}


def operands(type_: str) -> Operands:
    return OPERANDS.get(type_.rstrip("_"), UNARY)


def _names(bases: tuple[str, ...] | list[str]) -> list[str]:
    return [n for b in bases for n in (b, b + "_")]


PTFLOPS_PATCHED = {"relu", "relu_", "gelu", "gelu_", "silu", "silu_", "elu", "elu_"}  # F.* ptflops patches


def _elementwise(a: dict, ins: tuple[Value, ...], per: int, type_: str, category: str, dtype: str | None = None
                 ) -> Out:
    need(ins, 1, "a tensor")
    shape = broadcast([x for x, _ in ins])
    if type_.endswith("_") and shape != ins[0][0]:
        raise SpecError(f"the in-place result {fmt(shape)} does not fit its target {fmt(ins[0][0])}", "inputs")
    data = ins[1:] if type_.startswith("where") else ins  # where(cond, x, y): the values come from x and y
    if dtype is None:
        floats = [dt for _, dt in data if dt == "float"]
        dtype = floats[0] if floats else data[0][1] if data else ins[0][1]
    # an F.* function bound before ptflops patched it (`self.activation = F.relu`) is never counted by ptflops
    pt = numel(ins[0][0]) if type_ in PTFLOPS_PATCHED and not a.get("_ptflops_unpatched") else 0
    return result([(shape, dtype)], elementwise=per * numel(shape), category=category, ptflops=pt)


@register_op(*_names(list(ACTIVATIONS)), operands=operands, category="activation")
def activation(a: dict, ins: tuple[Value, ...], type_: str) -> Out:
    base = type_.rstrip("_")
    per = ACTIVATIONS[base] + (1 if base == "gelu" and a.get("approximate") == "tanh" else 0)
    return _elementwise(a, ins, per, type_, "activation")


@register_op(*_names(ARITHMETIC), operands=operands)
def arithmetic(a: dict, ins: tuple[Value, ...], type_: str) -> Out:
    # true division and the float-valued functions of integers give floats
    floats = type_.rstrip("_") in FLOAT_RESULT and a.get("rounding_mode") is None
    return _elementwise(a, ins, 1, type_, "other", "float" if floats else None)


@register_op(*_names(COMPARISONS), operands=operands)
def comparison(a: dict, ins: tuple[Value, ...], type_: str) -> Out:
    return _elementwise(a, ins, 1, type_, "other", "bool")
