"""NetCost's version and those of the libraries it runs on (`netcost --version`, Help ▸ About).

Read from the installed packages' metadata: nothing here imports torch (the window never does; models load in the
worker process), so asking for a version costs nothing.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def package_version(name: str) -> str | None:
    """The installed version of distribution `name`, or None where it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def netcost_version() -> str:
    """The version of this source tree: pyproject.toml's beside it (a checkout), else the installed metadata."""
    try:
        for line in _PYPROJECT.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "version":
                return value.strip().strip('"')
    except OSError:
        pass
    return package_version("netcost") or "unknown"


def library_versions() -> dict[str, str]:
    """Python and the libraries NetCost's figures and window depend on ("not installed" where absent)."""
    versions = {"Python": platform.python_version()}
    for label, dist in (("torch", "torch"), ("torchvision", "torchvision"), ("transformers", "transformers"),
                        ("PySide6 (Qt for Python)", "PySide6"), ("pyqtgraph", "pyqtgraph")):
        versions[label] = package_version(dist) or "not installed"
    return versions


def version_line() -> str:
    """`netcost 0.1.0 (Python 3.12.3, torch 2.13.0)`: what `--version` prints."""
    libs = library_versions()
    return f"netcost {netcost_version()} (Python {libs['Python']}, torch {libs['torch']})"


def is_torchvision_mismatch(error: BaseException) -> bool:
    """Whether `error` is torchvision's compiled operators failing against this torch (a build mismatch)."""
    text = str(error)
    return "torchvision::" in text and "does not exist" in text or "torchvision" in text and "undefined symbol" in text


def torchvision_mismatch(error: BaseException) -> str:
    """The one line for a torchvision that cannot load against this torch: its compiled operators were built for
    another torch ("operator torchvision::nms does not exist", or an undefined symbol), so say that, with both
    versions and the way out."""
    tv, torch_v = package_version("torchvision") or "?", package_version("torch") or "?"
    first = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
    return (f"torchvision {tv} does not match torch {torch_v}: its compiled operators were built for another "
            f"torch ({first}); install the torchvision release built for torch {torch_v}")
