"""NetCost: where the parameters and the compute of a neural network live, and what a design change buys.

The one import name of the project. Its parts are the owner's folders at the repository root, installed as
subpackages: `netcost.costing` (the pure-Python engine: no Qt, no torch), `netcost.model_io` (loading models and files,
the isolated worker, the CLI), `netcost.gui` (the desktop app) and `netcost.resources` (bundled models and icons).
"""

from __future__ import annotations

from importlib import metadata as _metadata
from pathlib import Path as _Path

# In a source checkout the subpackages are the folders beside this one: look there too, so that a checkout on
# PYTHONPATH (a git worktree, a `python -m netcost` at its root) runs its own code rather than the editable install's.
# An installed wheel has them inside this folder, which comes first; its parent holds no setup.py.
_checkout = _Path(__file__).resolve().parent.parent
if (_checkout / "setup.py").is_file() and (_checkout / "costing" / "__init__.py").is_file():
    __path__.append(str(_checkout))

try:
    __version__ = _metadata.version("netcost")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

# The Python API (docs/api.md): what `__all__` names is promised, nothing else. Imported on first use, so
# `import netcost` (and the `netcost` command) stays as light as before.
__all__ = ["BudgetExceeded", "Comparison", "EditError", "Figure", "Latency", "ModelError", "Report", "RewriteError",
           "Rewrites", "Row", "Totals", "Training", "Window", "analyze", "check", "show"]

_API = {"analyze": "api", "check": "checks", "BudgetExceeded": "checks", "show": "window", "Window": "window",
        "Report": "report", "Comparison": "report", "Figure": "figure", "Rewrites": "report", "Row": "records",
        "Totals": "records", "Training": "training", "Latency": "latency", "ModelError": "model_io.worker.resolve",
        "EditError": "model_io.files.edits", "RewriteError": "costing.rewrites"}


def __getattr__(name: str) -> object:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'netcost' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"netcost.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
