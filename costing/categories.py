"""The cost categories every layer kind and op belongs to, in the order tables and charts show them. A bottom
module: the registry checks registrations against it and the records total by it, without either importing the
other."""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "conv", "linear", "recurrent", "attention", "norm", "activation", "pool", "embedding", "other",
)
