"""The window's warm worker: the next load runs in a worker started (and torch imported) before it was asked for,
each spare runs one model only, and a model that crashes or pollutes its worker reaches neither the window nor the
next load."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from netcost.gui.document.model_loader import ModelLoader
from netcost.model_io.worker.resolve import LoadOptions
from tests.processes import running

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc: Linux")
READY_MS = 90_000  # a spare imports torch: seconds on a busy machine




def _start_ticks(pid: int) -> int:
    """When the process started (clock ticks since boot, /proc/PID/stat field 22)."""
    stat = Path(f"/proc/{pid}/stat").read_bytes()
    return int(stat[stat.rindex(b")") + 2:].split()[19])


def _torch_mapped(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


@pytest.fixture
def loader(qtbot):
    loader = ModelLoader(warm=True)
    loader.spare_delay_ms = 0  # the window waits a second (its paint first); a test need not
    yield loader
    loader.shutdown()


def _wait_spare(qtbot, loader: ModelLoader, not_pid: int = 0) -> int:
    qtbot.waitUntil(lambda: loader.spare_ready and loader.spare_pid() not in (0, not_pid), timeout=READY_MS)
    return loader.spare_pid()


def _tiny_params() -> int:
    # TinyNet(width=8): conv_block(3, 8) = Conv2d 3->8 k3 (8*3*9 + 8) + BatchNorm2d(8) (16); Linear 8->10 (90)
    return 8 * 3 * 9 + 8 + 16 + 8 * 10 + 10


def test_the_next_load_runs_in_a_pre_started_worker_used_once(qtbot, loader: ModelLoader) -> None:
    assert loader.spare_pid() == 0  # nothing is started until asked for
    assert loader.prestart()
    spare = _wait_spare(qtbot, loader)
    assert _torch_mapped(spare)  # torch was imported before any request
    born = _start_ticks(spare)
    # a model that changes torch for whoever comes next in its interpreter
    with qtbot.waitSignal(loader.loaded, timeout=60_000) as got:
        loader.load(f"{FIXTURES / 'pollutes.py'}:Net", LoadOptions(timeout=60))
        assert loader.used_spare and loader.pid() == spare and _start_ticks(spare) == born
    assert got.args[1].report.totals.params == 4 * 6 + 6  # its own patched Linear: 4 -> 2*3
    assert not running(spare)  # one model per worker
    nxt = _wait_spare(qtbot, loader, spare)  # replaced in the background
    with qtbot.waitSignal(loader.loaded, timeout=60_000) as got:
        loader.load(f"{FIXTURES / 'tiny_net.py'}:TinyNet", LoadOptions(timeout=60))
        assert loader.used_spare and loader.pid() == nxt
    report = got.args[1].report
    assert report.totals.params == _tiny_params()  # no doubled Linear: the polluted interpreter is gone
    assert report.dtype == "float32" and report.totals.param_bytes == 4 * _tiny_params()


def test_a_crashed_hung_or_killed_warm_worker_is_reported_and_replaced(qtbot, loader) -> None:
    loader.prestart()
    spare = _wait_spare(qtbot, loader)
    with qtbot.waitSignal(loader.failed, timeout=60_000) as failed:
        loader.load(f"{FIXTURES / 'dies.py'}:KillsItself", LoadOptions(timeout=60))
        assert loader.used_spare
    assert "SIGKILL" in failed.args[1] and not loader.busy
    assert not running(spare)
    spare = _wait_spare(qtbot, loader, spare)  # replaced
    with qtbot.waitSignal(loader.failed, timeout=30_000) as failed:
        loader.load(f"{FIXTURES / 'hangs.py'}:Slow", LoadOptions(timeout=2))  # the deadline counts from the request
        assert loader.used_spare
    assert "time limit" in failed.args[1]
    assert not running(spare)
    spare = _wait_spare(qtbot, loader, spare)  # replaced
    os.killpg(spare, signal.SIGKILL)  # killed while it waits (the OOM killer, a user's kill)
    qtbot.waitUntil(lambda: loader.spare_pid() == 0, timeout=10_000)
    with qtbot.waitSignal(loader.loaded, timeout=90_000) as got:
        loader.load(f"{FIXTURES / 'tiny_net.py'}:TinyNet", LoadOptions(timeout=90))
        assert not loader.used_spare and loader.pid() not in (0, spare)  # a fresh worker instead
    assert got.args[1].report.totals.params == _tiny_params()


def test_closing_ends_the_spare(qtbot) -> None:
    loader = ModelLoader(warm=True)
    loader.prestart()
    spare = loader.spare_pid()
    loader.shutdown()
    assert not running(spare) and loader.spare_pid() == 0
