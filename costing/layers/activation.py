"""Element-wise activations and Softmax."""

from __future__ import annotations

from ..args import Arg
from ..errors import SpecError
from ..registry import Out, register
from ._shape import numel

# NetCost's FLOPs per element (documented in docs/conventions.md's table). ReLU: one compare; ReLU6: two;
# LeakyReLU: compare + multiply; Sigmoid: negate, exp, add, divide; Tanh: as two exps and a divide (5);
# SiLU: sigmoid + multiply; GELU (erf form): scale, erf, add, two multiplies, erf counted 4 -> 8, tanh form 9;
# Hardswish: add, clamp (2), multiply, divide; Softmax: max, subtract, exp, sum, divide.
ACTIVATION_FLOPS = {"ReLU": 1, "ReLU6": 2, "LeakyReLU": 2, "Sigmoid": 4, "Tanh": 5, "SiLU": 5, "GELU": 8,
                    "Hardswish": 5, "Softmax": 5}
# ptflops (0.7.4) counts an activation's elements through its module hook (these classes) and again through its
# torch.nn.functional patch when the module's forward calls a patched function: ReLU -> F.relu, GELU -> F.gelu,
# SiLU -> F.silu, Softmax -> F.softmax; ReLU6 and LeakyReLU call F.hardtanh / F.leaky_relu, which are not patched.
PTFLOPS_MODULES = {"ReLU", "ReLU6", "LeakyReLU", "GELU"}
PTFLOPS_FUNCTIONAL = {"ReLU", "GELU", "Softmax", "SiLU"}


def activation_args(type_: str) -> tuple[Arg, ...]:
    if type_ == "LeakyReLU":
        return (Arg("negative_slope", "float", 0.01), Arg("inplace", "bool", False))
    if type_ == "GELU":
        return (Arg("approximate", "choice", "none", choices=("none", "tanh")),)
    if type_ == "Softmax":
        return (Arg("dim", "opt_int", None),)
    if type_ in ("Sigmoid", "Tanh"):
        return ()
    return (Arg("inplace", "bool", False),)


@register(*ACTIVATION_FLOPS, category="activation", args=activation_args)
def activation(a: dict, x: tuple[int, ...], type_: str) -> Out:
    """Element-wise: no params, no MACs; FLOPs = elements x a per-type constant."""
    n = numel(x)
    per = ACTIVATION_FLOPS[type_] + (1 if a.get("approximate") == "tanh" else 0)
    if type_ == "Softmax" and a["dim"] is not None and not -len(x) <= a["dim"] < len(x):
        raise SpecError(f"dim={a['dim']} is out of range for a {len(x)}-d input", "dim")
    counted = (type_ in PTFLOPS_MODULES) + (type_ in PTFLOPS_FUNCTIONAL)
    thop = n * 3 if type_ == "Softmax" else 0  # thop's count_softmax: exp + add + div per element
    return Out(x, elementwise=n * per, ptflops_elements=n if counted else 0, ptflops_functional=counted == 2,
               thop_elements=thop)
