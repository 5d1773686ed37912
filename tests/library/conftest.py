"""Tests against the libraries users count models from (torchvision, timm, transformers, the peer tools).

They run in CI in the second environment `.venv-lib` (`make test-library`, CI's second step), with
NETCOST_REQUIRE_LIBRARIES=1: there a test that would skip for a missing library fails instead, so these checks can
never go quiet again.
"""

from __future__ import annotations

import os

import pytest

REQUIRED = os.environ.get("NETCOST_REQUIRE_LIBRARIES") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()
    if REQUIRED and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped where the libraries are required (NETCOST_REQUIRE_LIBRARIES=1): {report.longrepr}"
