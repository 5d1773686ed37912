"""One import name (issue 19): the wheel installs `netcost` and nothing else at the top level, with every source
file and bundled resource of the owner's folders inside it, and no code in the checkout imports the folders by their
bare names (which would work only when run from the repository root)."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("costing", "model_io", "gui", "resources")


def test_the_wheel_has_one_top_level_name_and_every_file(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "--disable-pip-version-check", "-q", str(ROOT), "-w", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (wheel,) = tmp_path.glob("netcost-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"netcost"}
    tracked = subprocess.run(["git", "ls-files", *FOLDERS], capture_output=True, text=True, cwd=ROOT).stdout.split()
    if not tracked:  # not a git checkout: the folders as they are
        tracked = [str(p.relative_to(ROOT)) for f in FOLDERS for p in (ROOT / f).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts]
    missing = sorted(f for f in tracked if f"netcost/{f}" not in names)
    assert missing == []
    assert "netcost/__main__.py" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "netcost = netcost.gui.app.entry:entry" in zipfile.ZipFile(wheel).read(entry).decode()


BARE = re.compile(rf"^\s*(?:from|import) ({'|'.join(FOLDERS)})\b", re.M)


def test_no_code_imports_the_folders_by_their_bare_names() -> None:
    offenders = [f"{p.relative_to(ROOT)}: {m[0].strip()}"
                 for folder in (*FOLDERS, "netcost", "tests", "bench") for p in (ROOT / folder).rglob("*.py")
                 for m in BARE.finditer(p.read_text(encoding="utf-8"))]
    assert offenders == []
