"""Number formatting shared by every view and export: counts (K/M/G/T), bytes (KiB..), percentages, shapes, args."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K"))
_BIN = ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"))


def si(value: float, unit: str = "", digits: int = 3) -> str:
    """1234567 -> '1.23 M' (3 significant digits); small values print as integers."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    for scale, prefix in _SI:
        if v >= scale:
            return f"{sign}{_sig(v / scale, digits)} {prefix}{unit}".rstrip()
    text = f"{int(v)}" if float(v).is_integer() else _sig(v, digits)
    return f"{sign}{text} {unit}".rstrip()


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
    for scale, unit in _BIN:
        if v >= scale:
            return f"{sign}{v / scale:.1f} {unit}"
    return f"{sign}{int(v)} B"


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
