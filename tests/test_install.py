"""NetCost installs beside the user's torch: the declared range admits every torch from 2.3 to the newest release
(so `pip install -e .` never replaces it), checked from metadata alone (nothing is installed)."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
RELEASES = ROOT / "tests" / "fixtures" / "torch_releases.txt"
# Wheel folders of machines that keep local releases (pip's find-links); absent elsewhere, then only the list counts.
WHEEL_DIRS = (Path("/opt/wheels"), Path("/opt/pypi/files"), Path("/opt/pypi-more/files"))


def _torch_requirement() -> Requirement:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    return next(r for r in reqs if r.name == "torch")


def _recorded() -> list[Version]:
    lines = RELEASES.read_text(encoding="utf-8").splitlines()
    return [Version(v.strip()) for v in lines if v.strip() and not v.startswith("#")]


def _on_disk() -> list[Version]:
    found = []
    for folder in WHEEL_DIRS:
        for wheel in folder.glob("torch-*.whl") if folder.is_dir() else ():
            m = re.match(r"torch-([0-9][^-]*)-", wheel.name)
            if m:
                found.append(Version(m[1]))
    return found


@pytest.mark.parametrize("version", sorted({*_recorded(), *_on_disk()}), ids=str)
def test_the_declared_range_admits_every_torch_release_since_2_3(version: Version) -> None:
    req = _torch_requirement()
    assert req.specifier.contains(version, prereleases=True), f"pyproject's {req} would replace torch {version}"


def test_the_newest_release_is_admitted_and_older_than_2_3_is_not() -> None:
    req = _torch_requirement()
    newest = max([*_recorded(), *_on_disk()])
    assert req.specifier.contains(newest, prereleases=True)
    assert not req.specifier.contains("2.2.2")  # the tracer needs torch.utils.module_tracker (2.3+)


def test_the_installed_torch_satisfies_the_range() -> None:
    req = _torch_requirement()
    installed = Version(metadata.version("torch"))
    assert req.specifier.contains(installed, prereleases=True), f"torch {installed} is outside {req}"


def test_make_installs_the_cpu_build_only_when_the_venv_has_no_torch() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = next(line for line in makefile.splitlines() if "pip install" in line and "torch==" in line)
    pinned = Version(re.search(r"torch==([0-9.]+)", line)[1])
    assert _torch_requirement().specifier.contains(pinned)
    assert 'import torch" 2>/dev/null ||' in line, "the CPU build must not replace a torch already in the venv"

