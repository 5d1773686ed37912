"""Shared test set-up: headless Qt, the hypothesis profiles, and the user's config and cache folders kept out.

`HYPOTHESIS_PROFILE=dev` runs more examples locally; CI uses the default `ci` profile (200 examples per test).
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
settings.register_profile("ci", max_examples=200, **_COMMON)
settings.register_profile("dev", max_examples=1000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def isolated_device_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's devices file and calibration cache are never read or written by tests: the XDG folders are the
    test's `tmp_path/config` and `tmp_path/cache` (tests write their own devices file there)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
