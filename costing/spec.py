"""Layer specs and networks: immutable records of what the user wrote (torch's class and argument names)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .args import MAX_SIZE, remembered_check, with_arg
from .dtypes import canonical_dtype


@dataclass(frozen=True)
class LayerSpec:
    """One layer: a torch.nn class name plus the constructor arguments the user gave (others take defaults)."""

    type: str
    args: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    trainable: bool = True

    def with_arg(self, key: str, value: Any) -> LayerSpec:
        return replace(self, args=with_arg(self.args, key, value))

    def display_name(self, index: int) -> str:
        return self.name or f"{self.type}-{index}"

    def checked_args(self, check: Callable[[Mapping[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """`check(self.args)`, remembered on this immutable spec (costing.args.remembered_check)."""
        return remembered_check(self, self.args, check)


@dataclass(frozen=True)
class Network:
    """A layer list with its input (without the batch dim) and the document settings it is costed under."""

    layers: tuple[LayerSpec, ...]
    input_shape: tuple[int, ...]
    name: str = "untitled"
    batch_size: int = 1
    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "input_shape", tuple(self.input_shape))
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype))
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size={self.batch_size!r} must be a positive integer")
        if not self.input_shape or any(not isinstance(d, int) or d < 1 for d in self.input_shape):
            raise ValueError(f"input_shape={list(self.input_shape)!r} must be a non-empty list of positive ints")
        if self.batch_size > MAX_SIZE or any(d > MAX_SIZE for d in self.input_shape):
            raise ValueError("batch_size and input_shape sizes above 2**63 - 1 cannot be built by torch (int64)")

    @property
    def batched_input(self) -> tuple[int, ...]:
        return (self.batch_size, *self.input_shape)

    def replace_layer(self, row: int, spec: LayerSpec) -> Network:
        layers = list(self.layers)
        layers[row] = spec
        return replace(self, layers=tuple(layers))

    def with_settings(self, **changes: Any) -> Network:
        return replace(self, **changes)
