"""How block names shorten to fit: leading path components go first (the frame around a block names its
container), so the tail that tells blocks apart stays readable."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontMetricsF


def short_name(name: str, font: QFont, room: float) -> str:
    """`name` without as many leading path components as it takes to fit `room` ('layer1.0.conv1' -> 'conv1'):
    zoomed out, the frame around the block names the container, and the tail is what tells blocks apart."""
    fm = QFontMetricsF(font)
    while fm.horizontalAdvance(name) > room and "." in name.strip("."):
        tail = name.split(".", 1)[1]
        if not any(ch.isalpha() for ch in tail):
            break  # 'layer1.0' -> '0' says nothing: keep it (it is shrunk or elided to fit)
        name = tail
    return name


def dropped(name: str, shown: str) -> int:
    """How many leading path components `shown` (a tail of `name`) left out."""
    return name.count(".") - shown.count(".") if name.endswith(shown) else 0


def without_leading(name: str, k: int) -> str:
    """`name` less its first `k` path components, keeping a tail that names something ('layer1.0' keeps '0' only
    with its prefix, as `short_name` does)."""
    parts = name.split(".")
    k = min(k, len(parts) - 1)
    while k > 0 and not any(ch.isalpha() for ch in ".".join(parts[k:])):
        k -= 1
    return ".".join(parts[k:])


def relative_name(name: str, scope: str) -> str:
    """`name` relative to the scope whose frame encloses it, so every block is labelled by one rule: the leading
    path components it shares with that scope go ('layer1.0.conv1' in 'layer1.0' -> 'conv1'; 'model.cumsum' in
    'model.mask' -> 'cumsum'); a name with nothing after them keeps its last component."""
    if not scope:
        return name
    parts, outer = name.split("."), scope.split(".")
    k = 0
    while k < len(parts) - 1 and k < len(outer) and parts[k] == outer[k]:
        k += 1
    return ".".join(parts[k:])


def fit_title(name: str, kind: str, font: QFont, room: float) -> str:
    """A block's title line, 'name  Type', fitted to `room`: the name loses leading path components first
    ('layer1.0.downsample.1  BatchNorm2d' -> 'downsample.1  BatchNorm2d'; the frame around the block names the
    container), so the distinguishing tail and the type stay readable instead of being elided."""
    if not kind or kind in name:
        return short_name(name, font, room)
    fm = QFontMetricsF(font)
    full = f"{name}  {kind}"
    if fm.horizontalAdvance(full) <= room:
        return full
    return f"{short_name(name, font, room - fm.horizontalAdvance('  ' + kind))}  {kind}"

