"""Check the import contracts ([tool.importlinter] in pyproject.toml) on this checkout: `python tools/lint_imports.py`.

import-linter finds a package's modules by walking its folder, but `netcost`'s subpackages are the folders at the
repository root (setup.py's package_dir), outside netcost/. So this builds the installed layout in a temporary folder
from symbolic links (netcost/ with costing/, model_io/, gui/, resources/ inside) and runs `lint-imports` there: the
contracts see exactly this checkout's files, whatever is installed. Exit status: lint-imports' (0: every contract
holds). Extra arguments go to lint-imports (for example --verbose).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("costing", "model_io", "gui", "resources")


def installed_layout(into: Path) -> Path:
    """`into`/netcost: this checkout's netcost/ with the root folders linked in as its subpackages."""
    package = into / "netcost"
    package.mkdir()
    for item in (ROOT / "netcost").iterdir():
        if item.name != "__pycache__":
            (package / item.name).symlink_to(item)
    for folder in FOLDERS:
        (package / folder).symlink_to(ROOT / folder, target_is_directory=True)
    return package


def lint_imports(*args: str, layout: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run lint-imports (from this interpreter's environment) on the checkout, or on `layout` (a folder holding a
    netcost/ package, as installed_layout makes it); output captured."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if command is None:
        raise SystemExit("lint-imports is not installed: pip install -e '.[test]' (import-linter)")
    with tempfile.TemporaryDirectory(prefix="netcost-imports-") as tmp:
        if layout is None:
            layout = Path(tmp)
            installed_layout(layout)
        env = {**os.environ, "PYTHONPATH": str(layout), "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.run([command, str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo", *args],
                              capture_output=True, text=True, env=env, cwd=tmp, timeout=300)


def main() -> int:
    result = lint_imports(*sys.argv[1:])
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
