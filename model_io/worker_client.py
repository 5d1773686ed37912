"""Parent side of the isolated worker: start it, send a request, read one answer. No torch here.

Protocol (for the CLI, the app, or anyone else starting the worker):

    command   worker_command()  ==  [sys.executable, "-m", "model_io.worker"]
              run with the project root on PYTHONPATH (worker_env()), in its own session (start_new_session=True)
              so that a timeout can kill it and anything it started.
    stdin     one JSON object, then EOF:
              {"ref": "file.py:Net(width=2)" | "zoo:gpt2" | "model.pt" | "model.pt2" | "model.onnx",
               "inputs": ["1,3,224,224", "long:1,2048"],   # optional; else the model's own defaults
               "batch_size": 1 | null, "dtype": "float32" | null, "trust_pickle": false,
               "memory_limit_mb": 4096}                    # data-memory cap (model_io.memory_cap); 0 = none
    stdout    one JSON object:
              {"ok": true, "report": {...}}   the report in report_codec's lossless form (report_codec.from_dict)
              {"ok": false, "error": "one line for the user", "detail": "trimmed model traceback or ''",
               "kind": "usage" | "syntax" | "model" | "pickle" | "format" | "memory" | "internal"}
    stderr    whatever the model printed; its tail is kept for a worker that dies without answering.
    exit      0 after answering. Any other ending (signal, non-zero code, no answer) is a dead worker.

The app runs the same command with QProcess; `request_for`, `interpret` and `describe_exit` give it the same
messages the CLI prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from costing import CostReport

from .memory_cap import DEFAULT_MEMORY_MB  # noqa: F401  (re-exported: the protocol's default)
from .model_ref import (
    RefError,
    list_candidates,  # noqa: F401  (re-exported for the app's open dialog)
    parse_input,
    parse_ref,
)
from .resolve import LoadOptions, ModelError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STDERR_TAIL = 2000


class WorkerError(ModelError):
    """The worker answered with an error, died or timed out. `str()` is one line; `detail` may hold more."""

    def __init__(self, message: str, detail: str = "", kind: str = "error") -> None:
        super().__init__(message)
        self.detail, self.kind = detail, kind


def worker_command() -> list[str]:
    return [sys.executable, "-m", "model_io.worker"]


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")  # counting runs on meta tensors: threads only cost start-up
    return env


def request_for(ref: str, opts: LoadOptions, memory_limit_mb: int | None = None) -> dict[str, Any]:
    """The request for `ref`; the memory cap is `opts.memory_mb` unless given here."""
    mb = opts.memory_mb if memory_limit_mb is None else memory_limit_mb
    return {"ref": ref, "inputs": list(opts.inputs), "batch_size": opts.batch_size, "dtype": opts.dtype,
            "trust_pickle": opts.trust_pickle, "memory_limit_mb": mb}


def describe_exit(returncode: int, stderr: str) -> str:
    """One line for a worker that ended without an answer."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        why = {"SIGKILL": " (killed, most likely out of memory)", "SIGSEGV": " (a crash in native code)",
               "SIGABRT": " (aborted)"}.get(name, "")
        return f"the worker died with {name}{why}"
    last = next((line for line in reversed(stderr.strip().splitlines()) if line.strip()), "")
    tail = f": {last[:200]}" if last else ""
    return f"the worker exited with code {returncode} without an answer{tail}"


def interpret(ref: str, returncode: int, stdout: str, stderr: str) -> CostReport:
    """The report in a worker's answer, or a WorkerError saying what happened."""
    from . import report_codec

    try:
        answer = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        raise WorkerError(f"{ref}: {describe_exit(returncode, stderr)}", stderr[-STDERR_TAIL:], "died")
    if not answer.get("ok"):
        raise WorkerError(str(answer.get("error", "unknown error")), str(answer.get("detail", "")),
                          str(answer.get("kind", "error")))
    return report_codec.from_dict(answer["report"])


def run_worker(request: dict[str, Any], timeout: float) -> tuple[int, str, str]:
    """Run one request; returns (returncode, stdout, stderr). Raises WorkerError on a timeout."""
    proc = subprocess.Popen(worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=worker_env(), start_new_session=True, text=True)
    try:
        out, err = proc.communicate(json.dumps(request), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise WorkerError(f"{request.get('ref')}: no answer after {timeout:g} s (the model's code hangs or is very "
                          f"slow); the worker was stopped — give more time with --timeout", kind="timeout") from None
    except BaseException:
        _kill(proc)
        raise
    return proc.returncode, out, err


def _kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the whole session: the worker and anything it started
    proc.communicate()


def trace_in_worker(ref: str, opts: LoadOptions, memory_limit_mb: int | None = None) -> CostReport:
    """Load and count `ref` in a fresh worker process (see the module docstring)."""
    try:  # mistyped references and input specs fail here, without starting a worker
        parse_ref(ref)
        for spec in opts.inputs:
            parse_input(spec)
    except RefError as e:
        raise ModelError(str(e)) from None
    if ref.lower().endswith(".py") or ".py:" in ref:
        path = ref.split(".py", 1)[0] + ".py"
        if not Path(path).is_file():
            raise ModelError(f"{path}: no such file")
    code, out, err = run_worker(request_for(ref, opts, memory_limit_mb), opts.timeout)
    return interpret(ref, code, out, err)
