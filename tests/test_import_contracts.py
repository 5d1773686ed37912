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


def _probe(package: Path, folder: str, line: str) -> None:
    """Add a module holding `line` to `folder` of the linked layout: each linked folder on the way becomes a real
    folder of links to its items (never writing into the checkout)."""
    here, source = package, ROOT
    for part in Path(folder).parts:
        here, source = here / part, source / part
        if here.is_symlink():
            here.unlink()
            here.mkdir()
            for item in source.iterdir():
                (here / item.name).symlink_to(item)
    (here / "zz_contract_probe.py").write_text(line, encoding="utf-8")


def test_a_broken_contract_fails(tmp_path: Path) -> None:
    package = installed_layout(tmp_path)
    # one offending module per contract: costing imports torch, model_io the gui, a file reader the command line,
    # a shared widget the window
    for folder, line in (("costing", "import torch\n"), ("model_io", "from netcost.gui import app\n"),
                         ("model_io/files", "from netcost.model_io.cli import cli\n"),
                         ("gui/common", "from netcost.gui.app import main_window\n")):
        _probe(package, folder, line)
    result = lint_imports(layout=tmp_path)
    assert result.returncode != 0
    names = _contracts()
    for name in names:
        assert f"{name} BROKEN" in result.stdout, result.stdout
    assert "netcost.costing.zz_contract_probe -> torch" in result.stdout
    assert "netcost.model_io.zz_contract_probe -> netcost.gui" in result.stdout
    assert "netcost.model_io.files.zz_contract_probe -> netcost.model_io.cli" in result.stdout
    assert "netcost.gui.common.zz_contract_probe -> netcost.gui.app.main_window" in result.stdout
