"""The architecture's import contracts ([tool.importlinter] in pyproject.toml) hold on this checkout, and the check
run by CI and pre-commit (tools/lint_imports.py) does see every file and does fail on a broken contract."""

from __future__ import annotations

import re
from pathlib import Path

from tools.lint_imports import FOLDERS, ROOT, installed_layout, lint_imports


def _contracts() -> list[str]:
    """The contracts' names in pyproject.toml (tomllib is Python 3.11+: read the `name = "..."` after each header)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return re.findall(r'^\[\[tool\.importlinter\.contracts\]\]\s*name = "([^"]+)"', text, re.M)


def test_the_import_contracts_hold() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    names = _contracts()
    assert len(names) >= 3
    for name in names:
        assert f"{name} KEPT" in result.stdout
    # the linked layout reaches all the root folders (the count also holds the external packages imported)
    analyzed = int(re.search(r"Analyzed (\d+) files", result.stdout)[1])
    sources = [p for f in ("netcost", *FOLDERS) for p in (ROOT / f).rglob("*.py") if "__pycache__" not in p.parts]
    assert analyzed >= len(sources)


def test_a_broken_contract_fails(tmp_path: Path) -> None:
    package = installed_layout(tmp_path)
    for folder, line in (("costing", "import torch\n"), ("model_io", "from netcost.gui import app\n")):
        (package / folder).unlink()  # the folder's own files, linked one by one, plus one offending module
        (package / folder).mkdir()
        for item in (ROOT / folder).iterdir():
            (package / folder / item.name).symlink_to(item)
        (package / folder / "zz_contract_probe.py").write_text(line, encoding="utf-8")
    files = package / "model_io" / "files"  # model_io's own layers: a file reader that imports the command line
    files.unlink()
    files.mkdir()
    for item in (ROOT / "model_io" / "files").iterdir():
        (files / item.name).symlink_to(item)
    (files / "zz_contract_probe.py").write_text("from netcost.model_io.cli import cli\n", encoding="utf-8")
    result = lint_imports(layout=tmp_path)
    assert result.returncode != 0
    names = _contracts()
    for name in names:
        assert f"{name} BROKEN" in result.stdout, result.stdout
    assert "netcost.costing.zz_contract_probe -> torch" in result.stdout
    assert "netcost.model_io.zz_contract_probe -> netcost.gui" in result.stdout
    assert "netcost.model_io.files.zz_contract_probe -> netcost.model_io.cli" in result.stdout
