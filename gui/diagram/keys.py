"""Typed keys of the diagram's boxes, Qt-free.

A drawn node's box is keyed by its node id (a plain `str`); a module scope's box or frame by a `ScopeKey`, a graph
input's pill by an `InputKey`. The layout's ports on a frame's border (where edges enter and leave it) are
`PortKey`s and never leave `layout`. Keys of different kinds never compare equal, whatever their text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class ScopeKey:
    """The box of a collapsed module scope, or the frame of an expanded one."""

    path: str


@dataclass(frozen=True, slots=True)
class InputKey:
    """The pill of a graph input, where the data flow starts."""

    name: str


@dataclass(frozen=True, slots=True)
class PortKey:
    """Where the edges from `source` enter (`entering`) or leave a frame, on its border (layout only)."""

    entering: bool
    source: BoxKey


BoxKey: TypeAlias = "str | ScopeKey | InputKey"
LayoutKey: TypeAlias = "str | ScopeKey | InputKey | PortKey"


def sort_key(key: LayoutKey) -> tuple:
    """A total order over keys of every kind (layouts break ties by it, so it is stable from run to run):
    entry ports, inputs, exit ports, scopes, then node ids, each kind by its text."""
    t = type(key)
    if t is str:
        return (4, key)
    if t is ScopeKey:
        return (3, key.path)  # type: ignore[union-attr]
    if t is InputKey:
        return (1, key.name)  # type: ignore[union-attr]
    return (0 if key.entering else 2, sort_key(key.source))  # type: ignore[union-attr]
