"""Cost functions, one module per family; importing this package registers them all."""

from . import activation, attention, composite, conv, linear, misc, norm, pool, recurrent  # noqa: F401
