"""Element sizes of the dtypes a document can be costed in."""

from __future__ import annotations

DTYPE_BYTES: dict[str, int] = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
DTYPE_ALIASES: dict[str, str] = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16",
                                 "float": "float32", "int8": "int8", "qint8": "int8"}
TOKEN_BYTES = 8  # token ids (int64) fed to an Embedding


def canonical_dtype(name: str) -> str:
    """Return the canonical dtype name for `name` (`fp16` -> `float16`), or raise ValueError."""
    key = str(name).lower()
    key = DTYPE_ALIASES.get(key, key)
    if key not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {name!r} (choose one of {', '.join(DTYPE_BYTES)})")
    return key
