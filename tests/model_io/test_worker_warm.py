"""A warm worker (`python -m netcost.model_io.worker.worker --warm`) waits for its request, torch imported; while it
waits it is guarded as a loading worker is: it ends when the process that started it dies."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netcost.model_io.worker.worker_client import PROJECT_ROOT, worker_command, worker_env
from tests.processes import running

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc: Linux")

PARENT = """
import subprocess, sys
from netcost.model_io.worker.worker_client import PROJECT_ROOT, worker_command, worker_env
proc = subprocess.Popen([*worker_command(), "--warm"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, env=worker_env(), cwd=str(PROJECT_ROOT), start_new_session=True)
print(proc.pid, flush=True)
print(proc.stderr.readline().decode().strip(), flush=True)  # the warm mark: torch is imported
proc.wait()
"""




def test_an_idle_warm_worker_ends_when_its_parent_dies() -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT], env=env, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    try:
        assert parent.stdout.readline().strip() == "netcost-worker: warm"
        assert running(worker)
        parent.send_signal(signal.SIGKILL)  # the window crashes while its spare waits
        parent.wait(timeout=10)
        end = time.monotonic() + 20
        while running(worker) and time.monotonic() < end:
            time.sleep(0.05)
        assert not running(worker), "the spare worker outlived the window"
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(worker, signal.SIGKILL)
        parent.kill()
        parent.wait()


def test_a_warm_worker_answers_exactly_as_a_fresh_one() -> None:
    # the warm-up trace before the request (model_io.importers.loaders.warm_up) leaves nothing the next model's count
    # sees
    request = json.dumps({"ref": f"{FIXTURES / 'branchy.py'}:Branchy", "timeout_s": 120}).encode()
    answers = []
    for extra in ([], ["--warm"]):
        done = subprocess.run([*worker_command(), *extra], input=request, capture_output=True, env=worker_env(),
                              cwd=str(PROJECT_ROOT), timeout=180)
        answers.append(json.loads(done.stdout))
    assert answers[0]["ok"] and answers[1] == answers[0]
