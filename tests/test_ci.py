"""CI and the make targets, read literally: `.ci/run` runs the README's `make test` (the app's suite, with coverage)
and then `make test-library` (tests/library, where a skip fails); `make test-all` runs both with the full hypothesis
budget; a plain run gets the quick one."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import settings
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _recipe(target: str) -> str:
    """The target's prerequisites and recipe lines (continuations joined)."""
    m = re.search(rf"^{re.escape(target)}:(.*)\n((?:\t.*\n)*)", MAKEFILE, re.M)
    assert m, f"no `{target}` target in the Makefile"
    return (m[1] + "\n" + m[2]).replace("\\\n", " ")


def _variable(name: str) -> str:
    return re.search(rf"^{name} \??:?= ?(.*)$", MAKEFILE, re.M)[1]


def _commands() -> list[str]:
    return [line.strip() for line in CI.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_ci_runs_make_test_then_the_library_step_and_stops_at_a_failure() -> None:
    commands = _commands()
    assert "set -euo pipefail" in commands
    makes = [c for c in commands if c.startswith("make ")]
    assert makes == ["make test", "make test-library"]
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_ci_uses_the_full_hypothesis_budget_and_prints_coverage() -> None:
    assert "export HYPOTHESIS_PROFILE=full COVERAGE=1" in _commands()
    # the environment's choice wins over the Makefile's defaults
    assert "HYPOTHESIS_PROFILE ?= quick" in MAKEFILE and "COVERAGE ?= 0" in MAKEFILE


def test_make_test_is_the_app_suite_with_coverage_on_request() -> None:
    assert _recipe("test").split("\n")[0].split() == ["test-app"]
    app = _recipe("test-app")
    assert "--ignore=tests/library" in app and "$(COV)" in app and "HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE)" in app
    cov = _variable("COV")
    assert cov.startswith("$(if $(filter 1,$(COVERAGE)),") and "--cov " in cov and "--cov-report=term" in cov
    # --cov measures what [tool.coverage.run] names: the netcost package and its subpackages, the root folders
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    coverage = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["coverage"]["run"]
    assert set(coverage["source"]) == {"netcost", "costing", "model_io", "gui", "resources"}


def test_make_test_runs_in_one_process_per_core_with_a_file_s_tests_together() -> None:
    assert "$(XDIST)" in _recipe("test-app")
    assert _variable("TEST_JOBS") == "auto"
    xdist = _variable("XDIST")
    assert "-n $(TEST_JOBS)" in xdist and "--dist loadfile" in xdist and "--maxprocesses=" in xdist
    assert "-p no:xdist" in xdist  # TEST_JOBS=0: in this one process
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(Requirement(r).name == "pytest-xdist" for r in extras["test"])


def test_the_library_step_cannot_skip() -> None:
    library = _recipe("test-library")
    assert "$(LIBSTAMP)" in library and "NETCOST_REQUIRE_LIBRARIES=1" in library
    assert "$(LIBBIN)/python -m pytest tests/library" in library


def test_make_test_all_runs_both_with_the_full_profile() -> None:
    recipe = _recipe("test-all")
    assert "test-app" in recipe and "test-library" in recipe
    assert "HYPOTHESIS_PROFILE=full" in recipe and "COVERAGE=1" in recipe


def test_the_profiles() -> None:
    examples = {name: settings.get_profile(name).max_examples for name in ("quick", "full", "dev", "ci")}
    assert examples["quick"] < examples["full"] == examples["ci"] == 200 < examples["dev"]
    chosen = os.environ.get("HYPOTHESIS_PROFILE", "quick")
    assert settings.default.max_examples == settings.get_profile(chosen).max_examples


def test_the_library_extra_admits_the_pinned_versions() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    wanted = {r.name: r for r in map(Requirement, extra["library"])}
    assert set(wanted) == {"torchvision", "timm", "transformers"}
    pins = (ROOT / "tests" / "library" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    for pin in (Requirement(line) for line in pins if line.strip() and not line.startswith("#")):
        if pin.name in wanted:
            version = next(iter(pin.specifier)).version
            assert wanted[pin.name].specifier.contains(version), f"{pin} is outside the extra's {wanted[pin.name]}"
    assert "-e '.[test,onnx,library]'" in _recipe("$(LIBSTAMP)")
