"""Typed validation errors. Every user mistake the engine can see becomes one of these, never anything else."""

from __future__ import annotations


class SpecError(ValueError):
    """A layer argument is missing, of the wrong type, or contradicts the incoming shape."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class LayerError(SpecError):
    """A `SpecError` located in a network: names the layer (index and name), the field and the reason."""

    def __init__(self, reason: str, field: str | None, index: int, name: str, type_: str) -> None:
        super().__init__(reason, field)
        self.index = index
        self.name = name
        self.type = type_

    def __str__(self) -> str:
        where = f"{self.type} #{self.index}"
        if self.name:
            where += f" '{self.name}'"
        return f"{where}: {self.reason}"


class FormatError(ValueError):
    """A layer-list file is malformed; `path` is the JSON path of the bad field (`layers[3].kernel_size`)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason
