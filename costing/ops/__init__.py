"""Functional graph ops (aten-level: add, cat, view, mm, ...); importing this package registers them all."""

from . import creation, matmul, pointwise, reduce, shape_ops, sources  # noqa: F401
