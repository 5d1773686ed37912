"""model_io test set-up: the user's devices file and calibration cache are never read or written by tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_device_files(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
