"""`costing` is pure Python: importing it and every submodule pulls in neither torch nor Qt nor pyqtgraph."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import importlib, pkgutil, sys
import netcost.costing as costing
names = ["netcost.costing"]
for info in pkgutil.walk_packages(costing.__path__, "netcost.costing."):
    importlib.import_module(info.name)
    names.append(info.name)
costing.kinds()  # registering the layer kinds imports costing.layers too
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "PySide6", "pyqtgraph"))
print(len(names), ",".join(heavy))
"""


def test_costing_imports_no_torch_no_qt():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    count, heavy = out.stdout.strip().split(" ", 1) if " " in out.stdout.strip() else (out.stdout.strip(), "")
    assert int(count) >= 15  # the package, its modules and costing.layers.* were all walked
    assert heavy == "", f"importing costing imported {heavy}"
