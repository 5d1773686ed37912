"""NetCost: where the parameters and the compute of a neural network live, and what a design change buys.

The one import name of the project. Its parts are the owner's folders at the repository root, installed as
subpackages: `netcost.costing` (the pure-Python engine: no Qt, no torch), `netcost.model_io` (loading models and files,
the isolated worker, the CLI), `netcost.gui` (the desktop app) and `netcost.resources` (bundled models and icons).
"""

from __future__ import annotations

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("netcost")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
