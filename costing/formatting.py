"""Number formatting shared by every view and export: counts (K/M/G/T), bytes (KiB..), percentages, shapes, args."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SI = ((1.0, ""), (1e3, "K"), (1e6, "M"), (1e9, "G"), (1e12, "T"))
_BIN = ((1, "B"), (1 << 10, "KiB"), (1 << 20, "MiB"), (1 << 30, "GiB"), (1 << 40, "TiB"))


def _scale_index(v: float, scales: tuple[tuple[float, str], ...]) -> int:
    i = 0
    while i + 1 < len(scales) and v >= scales[i + 1][0]:
        i += 1
    return i


def si(value: float, unit: str = "", digits: int = 3) -> str:
    """1234567 -> '1.23 M' (3 significant digits); small values print as integers; 999,999 -> '1.00 M'."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    i = _scale_index(v, _SI)
    while True:
        scale, prefix = _SI[i]
        text = f"{int(v)}" if i == 0 and float(v).is_integer() else _sig(v / scale, digits)
        if float(text) >= 1000 and i + 1 < len(_SI):  # rounding reached the next prefix: 999.6 K -> 1.00 M
            i += 1
            continue
        return f"{sign}{text} {prefix}{unit}".rstrip()


def _sig(v: float, digits: int) -> str:
    if v >= 100:
        return f"{v:.0f}" if digits <= 3 else f"{v:.{digits - 3}f}"
    if v >= 10:
        return f"{v:.{max(digits - 2, 0)}f}"
    return f"{v:.{max(digits - 1, 0)}f}"


def nbytes(value: float) -> str:
    """Bytes in binary units: 245,059,616 -> '233.7 MiB'."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    i = _scale_index(v, _BIN)
    if i == 0:
        return f"{sign}{int(v)} B"
    while True:
        scale, unit = _BIN[i]
        text = f"{v / scale:.1f}"
        if float(text) >= 1024 and i + 1 < len(_BIN):  # 1023.96 KiB rounds to 1.0 MiB, not 1024.0 KiB
            i += 1
            continue
        return f"{sign}{text} {unit}"


def duration(seconds: float) -> str:
    """Seconds with 3 significant digits in the unit that fits: 0.000012345 -> '12.3 µs', 1.5 -> '1.50 s'."""
    sign = "-" if seconds < 0 else ""
    v = float(f"{abs(seconds):.3g}")  # round first, so 999.96 µs reads 1.00 ms
    if v == 0:
        return "0 s"
    scale, unit = next((s, u) for s, u in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))
                       if v >= s or u == "ns")
    return f"{sign}{_sig(float(f'{v / scale:.3g}'), 3)} {unit}"  # 1e-7 / 1e-9 is 99.999...: "100 ns"


def mib(value: float) -> str:
    """torchsummary prints sizes in MiB with two decimals (and calls them MB)."""
    return f"{value / (1 << 20):.2f}"


def grouped(value: int) -> str:
    """Exact integer with thousands separators: 61264904 -> '61,264,904'."""
    return f"{value:,}"


def percent(fraction: float, digits: int = 1) -> str:
    return f"{fraction * 100:.{digits}f} %"


def delta(new: float, old: float, fmt: Any = si) -> str:
    """'+1.2 M (+3.4 %)' for a pinned baseline comparison."""
    diff = new - old
    rel = f" ({diff / old * 100:+.1f} %)" if old else ""
    text = fmt(diff)
    return f"{'+' if diff > 0 else ''}{text}{rel}" if diff else "±0"


def shape(dims: tuple[int, ...] | list[int]) -> str:
    return "×".join(str(d) for d in dims)


_ARG_ABBREV = (("kernel_size", "k"), ("stride", "s"), ("padding", "p"), ("dilation", "d"), ("groups", "g"),
               ("output_padding", "op"))


def _compact(v: Any) -> str:
    if isinstance(v, (tuple, list)):
        return str(v[0]) if len(set(v)) == 1 else "×".join("·" if e is None else str(e) for e in v)
    return str(v)


def key_args(type_: str, args: Mapping[str, Any]) -> str:
    """A readable one-liner of a layer's key arguments: 'k3 s2 p1 g32', '9216→4096', 'h256 ×2 bi'."""
    parts: list[str] = []
    for key in ("in_channels", "in_features", "input_size", "embed_dim", "num_embeddings"):
        if args.get(key) is not None:
            target = next((args[t] for t in ("out_channels", "out_features", "hidden_size", "embedding_dim")
                           if args.get(t) is not None), None)
            parts.append(f"{args[key]}→{target}" if target is not None else str(args[key]))
            break
    for key, short in _ARG_ABBREV:
        if key not in args or args[key] is None:
            continue
        v = args[key]
        if key == "padding" and isinstance(v, str):
            parts.append(f"p={v}")
        elif key in ("kernel_size",) or _compact(v) not in ("0", "1"):
            parts.append(f"{short}{_compact(v)}")
    if args.get("num_layers", 1) != 1:
        parts.append(f"×{args['num_layers']}")
    if args.get("bidirectional"):
        parts.append("bi")
    if args.get("num_heads"):
        parts.append(f"{args['num_heads']} heads")
    if args.get("num_groups"):
        parts.append(f"{args['num_groups']} groups")
    if args.get("output_size") is not None:
        parts.append(f"→{_compact(args['output_size'])}")
    if args.get("bias") is False:
        parts.append("no bias")
    if args.get("p") is not None and type_ == "Dropout":
        parts.append(f"p={args['p']}")
    return " ".join(parts)
