"""Bytes a training step holds per parameter: weights, gradients and optimizer states, by optimizer and precision.

Pure Python (no torch). Every figure is per parameter *tensor* (its shape), because some states are not
proportional to the element count: torch.optim keeps a 0-d `step` tensor per parameter for Adam, AdamW and
Adafactor, Adafactor factors the second moment of a matrix into a row and a column vector, and 8-bit Adam keeps
one float32 scale per block of 256 elements.

Sources (the layouts these formulas reproduce):

- SGD: no state. SGD with momentum: `momentum_buffer`, one tensor like the parameter (torch/optim/sgd.py).
- Adam / AdamW: `exp_avg` and `exp_avg_sq` like the parameter, plus `step`, a 0-d float32 tensor
  (torch/optim/adam.py, adamw.py; `_get_scalar_dtype()` is float32).
- Adafactor (torch.optim.Adafactor, Shazeer & Stern 2018): `step` (0-d float32); for a tensor of rank >= 2 a row
  variance of shape (..., rows, 1) and a column variance of shape (..., 1, cols) (the second moment factored);
  for a vector, a full variance like the parameter. No first moment (beta1 is not used).
- 8-bit Adam (bitsandbytes `Adam8bit`, blockwise): `state1` and `state2` as uint8 like the parameter plus
  `absmax1` and `absmax2`, one float32 per block of 256 elements; tensors smaller than `min_8bit_size` (4,096
  elements) keep both states in float32 (bitsandbytes/optim/optimizer.py, `Optimizer8bit.init_state`). Its
  quantisation maps are shared by all parameters and not counted.

Precision (what the step holds, bytes per element):

| precision | weights | master copy | gradients | optimizer states | activations |
| --- | ---: | ---: | ---: | ---: | ---: |
| fp32 | 4 | – | 4 | 4 | 4 |
| bf16-mixed / fp16-mixed | 2 | 4 (trainable only) | 2 | 4 | 2 |
| bf16 | 2 | – | 2 | 2 | 2 |

Mixed precision is the layout of Megatron-LM and DeepSpeed (half-precision weights and gradients, float32
master weights and states: 16 bytes per parameter with Adam), as in Rajbhandari et al., ZeRO (2020).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import prod

Shape = tuple[int, ...]

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "adafactor", "adam8bit")
PRECISIONS_ORDER = ("fp32", "bf16-mixed", "fp16-mixed", "bf16")
BNB_BLOCK = 256  # bitsandbytes' blockwise quantisation block (elements)
BNB_MIN_8BIT = 4096  # smaller tensors keep 32-bit states
STEP_BYTES = 4  # torch.optim's 0-d float32 `step` tensor


@dataclass(frozen=True)
class Precision:
    name: str
    weight: int  # bytes per weight element the model computes with
    master: int  # bytes of an extra float32 copy per trainable element (mixed precision), else 0
    grad: int
    state: int  # bytes per element of a full-precision optimizer state
    activation: int  # bytes per element of a floating-point activation


PRECISIONS = {
    "fp32": Precision("fp32", 4, 0, 4, 4, 4),
    "bf16-mixed": Precision("bf16-mixed", 2, 4, 2, 4, 2),
    "fp16-mixed": Precision("fp16-mixed", 2, 4, 2, 4, 2),
    "bf16": Precision("bf16", 2, 0, 2, 2, 2),
}


def precision(name: str) -> Precision:
    try:
        return PRECISIONS[name]
    except KeyError:
        raise ValueError(f"unknown precision {name!r} (one of {', '.join(PRECISIONS_ORDER)})") from None


def check_optimizer(name: str) -> str:
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r} (one of {', '.join(OPTIMIZERS)})")
    return name


def state_bytes(optimizer: str, shape: Shape, state_elem: int = 4) -> int:
    """The optimizer's state for one trainable parameter tensor of `shape`, in bytes (`state_elem` bytes per
    element of a full-precision state)."""
    n = prod(shape)
    if optimizer == "sgd":
        return 0
    if optimizer == "momentum":
        return n * state_elem
    if optimizer in ("adam", "adamw"):
        return 2 * n * state_elem + STEP_BYTES
    if optimizer == "adafactor":
        if len(shape) >= 2:
            rows = prod(shape[:-1])
            cols = prod(shape[:-2]) * shape[-1]
            return (rows + cols) * state_elem + STEP_BYTES
        return n * state_elem + STEP_BYTES
    if optimizer == "adam8bit":
        if n < BNB_MIN_8BIT:
            return 2 * n * 4
        blocks = -(-n // BNB_BLOCK)
        return 2 * n + 2 * blocks * 4
    raise ValueError(f"unknown optimizer {optimizer!r}")


def step_temporary_bytes(optimizer: str, trainable_elements: int, state_elem: int = 4) -> int:
    """Scratch memory of `optimizer.step()` beyond its states (torch's foreach implementations): Adam, AdamW and
    Adafactor build one temporary per parameter (the denominator); SGD, momentum and 8-bit Adam (a fused
    kernel) update in place."""
    if optimizer in ("adam", "adamw", "adafactor"):
        return trainable_elements * state_elem
    return 0


@dataclass(frozen=True)
class ParamMemory:
    param_bytes: int  # weights (and the float32 master copy of mixed precision)
    grad_bytes: int
    optimizer_bytes: int
    trainable_elements: int


def param_memory(tensors: Iterable[tuple[Shape, bool, int]], optimizer: str, prec: Precision) -> ParamMemory:
    """Weights, gradients and optimizer states of parameter tensors given as (shape, trainable, how many)."""
    weights = grads = states = trainable = 0
    for shape, train, count in tensors:
        n = prod(shape) * count
        weights += n * prec.weight
        if train:
            trainable += n
            weights += n * prec.master
            grads += n * prec.grad
            states += state_bytes(optimizer, shape, prec.state) * count
    return ParamMemory(weights, grads, states, trainable)
