"""Shared test set-up: headless Qt, the hypothesis profiles, and the user's config and cache folders kept out.

Hypothesis profiles, chosen with HYPOTHESIS_PROFILE:
- `quick` (the default: `make test`, a plain pytest run): 25 examples per property, for a suite that runs in minutes;
- `full` (`make test-all` and CI's .ci/run): 200 examples per property, the budget the properties were written for;
- `dev`: 1,000 examples, for a long hunt after a change to the engine.
A test's own `@settings(max_examples=...)` (a statistical check, a slow fuzz target) holds under every profile.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

# tests/costing and tests/model_io mirror the package names; without the repository root ahead of tests/ on
# sys.path, `import costing` would find the test folder (a namespace package) instead of the real package.
ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path[:1]:
    sys.path.insert(0, ROOT)

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
PROFILES = {"quick": 25, "full": 200, "dev": 1000}
for _name, _examples in PROFILES.items():
    settings.register_profile(_name, max_examples=_examples, **_COMMON)
settings.register_profile("ci", parent=settings.get_profile("full"))  # the full profile's former name
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


@pytest.fixture(autouse=True)
def isolated_device_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's devices file and calibration cache are never read or written by tests: the XDG folders are the
    test's `tmp_path/config` and `tmp_path/cache` (tests write their own devices file there)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(autouse=True)
def no_spare_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window keeps a spare worker (torch imported) a second after each load, for the next one; in a test that
    spare is almost never used, and each one is a cold start of torch competing with the tests after it. The
    spare's own tests (tests/gui/test_model_loading_warm.py) ask for it with ModelLoader(warm=True)."""
    monkeypatch.setenv("NETCOST_WARM_WORKER", "0")
