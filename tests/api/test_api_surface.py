"""The API is what `netcost.__all__` names, each name documented in docs/api.md; `import netcost` stays light."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

import netcost

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")


def test_every_name_of_all_resolves_and_nothing_else_is_offered():
    for name in netcost.__all__:
        assert getattr(netcost, name) is not None
    assert sorted(netcost.__all__) == netcost.__all__
    with pytest.raises(AttributeError):
        netcost.summary  # noqa: B018


@pytest.mark.parametrize("name", netcost.__all__)
def test_every_public_name_is_documented(name):
    assert re.search(rf"^#+ `netcost\.{name}[`(]", DOC, re.M) or f"`netcost.{name}`" in DOC, name
    obj = getattr(netcost, name)
    assert inspect.getdoc(obj), name
    if inspect.isfunction(obj):
        for param in inspect.signature(obj).parameters.values():
            if param.kind is param.KEYWORD_ONLY:
                assert f"{param.name}=" in DOC, f"{name}({param.name}=)"
    if isinstance(obj, type) and not issubclass(obj, Exception):
        public = [m for m in vars(obj) if not m.startswith("_")]
        public += [f.name for f in fields(obj)] if is_dataclass(obj) else []
        section = DOC[DOC.index(f"### `netcost.{name}`"):]
        section = section[:section.find("\n### ", 1)]
        for member in public:
            assert re.search(rf"[`. ]{member}\b", section), f"{name}.{member}"


def test_import_is_light():
    code = "import sys, netcost; netcost.__all__; print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.stdout.strip() == "[]"
