"""The worker process: it runs with the least it needs, ends itself (and all it started) at its deadline and when
its parent dies, and its answer is read when it exits even if processes it started still hold the pipes."""

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

from netcost.model_io.worker.resolve import LoadOptions
from netcost.model_io.worker.worker_client import PROJECT_ROOT, trace_in_worker, worker_command, worker_env
from tests.processes import running

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc: Linux")




def gone_within(pid: int, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not running(pid):
            return True
        time.sleep(0.05)
    return not running(pid)


def kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("detach", [False, True], ids=["same-group", "own-session"])
def test_a_child_holding_the_pipes_neither_stalls_the_answer_nor_survives(tmp_path, detach):
    pidfile = tmp_path / "child.pid"
    # before: the CLI waited for the child's end of the pipes, i.e. the whole timeout, and called it a hang
    report = trace_in_worker(f"{FIXTURES / 'hostile.py'}:LeavesChild(pidfile={str(pidfile)!r}, detach={detach})",
                             LoadOptions(timeout=40))
    child = int(pidfile.read_text())
    try:
        assert report.totals.params == 4 * 2 + 2
        assert gone_within(child, 10), "the model's child process outlived the load"
    finally:
        kill_quietly(child)


def test_the_model_runs_with_the_least_it_needs(tmp_path, monkeypatch):
    out = tmp_path / "probe.json"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    monkeypatch.chdir(tmp_path)
    trace_in_worker(f"{FIXTURES / 'hostile.py'}:Probe(out={str(out)!r})", LoadOptions(timeout=40))
    seen = json.loads(out.read_text())
    assert seen["stdin"] == ""  # not the request pipe, not a terminal
    assert Path(seen["cwd"]).name.startswith("netcost-worker-") and seen["cwd_entries"] == []
    assert "AWS_SECRET_ACCESS_KEY" not in seen["env"] and "PATH" in seen["env"]
    assert seen["core"] == 0 and seen["pgid_is_pid"]
    assert gone_within_folder(Path(seen["cwd"]), 10), "the private folder was left behind"


def gone_within_folder(folder: Path, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while folder.exists() and time.monotonic() < end:
        time.sleep(0.05)
    return not folder.exists()


def test_a_relative_model_path_works_from_any_folder(monkeypatch):
    monkeypatch.chdir(FIXTURES)
    report = trace_in_worker("tiny_net.py:TinyNet(width=4)", LoadOptions(inputs=("1,3,16,16",), timeout=40))
    assert report.totals.params == 4 * 27 + 4 + 8 + 4 * 10 + 10


def start_worker(request: dict) -> subprocess.Popen:
    proc = subprocess.Popen(worker_command(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=worker_env(), cwd=str(PROJECT_ROOT), start_new_session=True)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(request).encode())
    proc.stdin.close()
    return proc


def test_the_worker_ends_itself_at_its_deadline():
    # nobody kills it: before, a hanging model's worker ran for as long as it was left
    proc = start_worker({"ref": f"{FIXTURES / 'hangs.py'}:Slow", "timeout_s": 2})
    try:
        assert proc.wait(timeout=40) == -signal.SIGKILL
    finally:
        kill_quietly(proc.pid)
        proc.wait()


PARENT = """
import json, subprocess, sys
from netcost.model_io.worker.worker_client import PROJECT_ROOT, worker_command, worker_env
proc = subprocess.Popen(worker_command(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        env=worker_env(), cwd=str(PROJECT_ROOT), start_new_session=True)
proc.stdin.write(json.dumps({"ref": sys.argv[1], "timeout_s": 600}).encode()); proc.stdin.close()
print(proc.pid, flush=True)
proc.wait()
"""


def test_the_worker_ends_when_its_parent_dies():
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, f"{FIXTURES / 'hangs.py'}:Slow"], env=env,
                              stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    try:
        time.sleep(1.0)  # let it get into the model's code
        parent.send_signal(signal.SIGTERM)  # the window or the CLI is closed during a hanging load
        parent.wait(timeout=10)
        assert gone_within(worker, 20), "the worker kept running after its parent died"
    finally:
        kill_quietly(worker)
        parent.kill()
        parent.wait()


def _user_namespaces() -> bool:
    try:
        return subprocess.run(["unshare", "--user", "--map-root-user", "--net", "true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _user_namespaces(), reason="needs unshare and unprivileged user namespaces")
def test_the_opt_in_no_network_sandbox_cuts_the_models_network(tmp_path, monkeypatch):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        out = tmp_path / "net.txt"
        ref = f"{FIXTURES / 'hostile.py'}:NetProbe(port={port}, out={str(out)!r})"
        trace_in_worker(ref, LoadOptions(timeout=40))
        assert out.read_text() == "connected"  # without the sandbox the model reaches the network
        monkeypatch.setenv("NETCOST_SANDBOX", "no-network")
        report = trace_in_worker(ref, LoadOptions(timeout=40))
        assert out.read_text() != "connected" and report.totals.params == 10


def test_an_unusable_sandbox_is_one_clear_line(monkeypatch, capsys):
    from netcost.model_io.cli.cli import main

    monkeypatch.setenv("NETCOST_SANDBOX", "no-such-wrapper --strict")
    assert main(["summary", f"{FIXTURES / 'tiny_net.py'}:TinyNet"]) == 2
    assert capsys.readouterr().err == "netcost: error: NETCOST_SANDBOX: 'no-such-wrapper' is not a command on this " \
                                      "machine\n"


def _all_below(pid: int) -> list[int]:
    from netcost.model_io.worker.worker_guard import descendants

    return [pid, *descendants(pid)]


@pytest.mark.parametrize("how", ["exit", "segv", "kill-watchdog"])
def test_a_daemon_does_not_survive_a_worker_that_dies_without_ending_it(tmp_path, how):
    from netcost.model_io.worker.worker_client import WorkerError

    pidfile = tmp_path / "daemon.pid"
    ref = f"{FIXTURES / 'hostile.py'}:DetachesThenDies(pidfile={str(pidfile)!r}, how={how!r})"
    # before: the daemon (its own session, out of the group) outlived the worker, its watchdog gone or too late
    with pytest.raises(WorkerError):
        trace_in_worker(ref, LoadOptions(timeout=60))
    daemon = int(pidfile.read_text())
    try:
        assert not running(daemon), f"the model's daemon {daemon} outlived its worker ({how})"
        assert not Path(f"/proc/{daemon}").exists(), "the daemon was ended but left a zombie"
    finally:
        for pid in _all_below(daemon):
            kill_quietly(pid)
