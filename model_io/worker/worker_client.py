"""Parent side of the isolated worker: start it, send a request, read one answer. No torch here.

Protocol (for the CLI, the app, or anyone else starting the worker):

    command   worker_command()  ==  [sys.executable, "-m", "netcost.model_io.worker.worker"]
              run with the clean environment worker_env() (the project root on PYTHONPATH), in PROJECT_ROOT, in
              its own session (start_new_session=True) so that one killpg ends it and anything it started. The
              parent ends that group once the worker has exited (end_group), answer or not, and, being a child
              subreaper, every process the worker left re-parented to it (model_io.worker.orphans), detached or not.
    stdin     one JSON object, then EOF:
              {"ref": "/abs/file.py:Net(width=2)" | "zoo:gpt2" | "model.pt" | "model.pt2" | "model.onnx",
               "inputs": ["1,3,224,224", "long:1,2048"],   # optional; else the model's own defaults
               "batch_size": 1 | null, "dtype": "float32" | null, "trust_pickle": false,
               "memory_limit_mb": 4096,                    # data-memory cap (model_io.memory_cap); 0 = none
               "timeout_s": 120 | null}                    # the worker ends itself (and its group) at this age
              optional: "measure": {...} (time it for real: model_io.worker.measure_client),
                        "attention_calls": true (the attention calls of its forward: model_io.cli.llm)
              File paths are absolute (request_for makes them so): the worker runs in a private folder.
    stdout    one JSON object (read once the worker has exited: children that inherited the pipe are not waited
              for):
              {"ok": true, "graph": {...}}    the traced graph (model_io.files.graph_file's netcost.graph/1 form)
              {"ok": false, "error": "one line for the user", "detail": "trimmed model traceback or ''",
               "kind": "usage" | "syntax" | "model" | "pickle" | "format" | "memory" | "internal"}
    stderr    whatever the model printed; its tail is kept for a worker that dies without answering.
    exit      0 after answering. Any other ending (signal, non-zero code, no answer) is a dead worker, or a
              timeout when it came at or after timeout_s (the worker's watchdog ended it).

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
import time
from pathlib import Path
from typing import Any

from netcost.costing import CostReport, FormatError
from netcost.costing.graph import Graph
from netcost.costing.graph_eval import evaluate_graph

from ..errors import FailureKind, ModelError
from ..files.file_checks import refusal
from ..files.graph_file import parse_graph
from ..memory_cap import DEFAULT_MEMORY_MB  # noqa: F401  (re-exported: the protocol's default)
from ..model_ref import (
    RefError,
    absolute_ref,
    list_candidates,  # noqa: F401  (re-exported for the app's open dialog)
    parse_input,
    parse_ref,
)
from ..options import LoadOptions
from . import orphans
from .worker_pipes import read_until_exit
from .worker_sandbox import SandboxError, kept_environment, sandbox_prefix

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds netcost/ (or model_io/ beside it)
STDERR_TAIL = 2000
TIMEOUT_GRACE_S = 3.0  # the worker's watchdog ends it at the timeout; the parent's kill backs that up this much later


class WorkerError(ModelError):
    """The worker answered with an error, died or timed out. `str()` is one line; `detail` may hold more."""

    def __init__(self, message: str, detail: str = "", kind: str = FailureKind.ERROR) -> None:
        super().__init__(message)
        self.detail, self.kind = detail, kind  # `kind` as the worker said it (a FailureKind's word)


def worker_command() -> list[str]:
    """The worker's command line, inside the opt-in NETCOST_SANDBOX wrapper when set (ModelError if unusable)."""
    try:
        prefix = sandbox_prefix(os.environ)
    except SandboxError as e:
        raise ModelError(str(e)) from None
    return [*prefix, sys.executable, "-m", "netcost.model_io.worker.worker"]


def worker_env() -> dict[str, str]:
    """A clean environment: what Python, torch and the model caches need (worker_sandbox.KEEP), not the
    user's tokens and keys. The project root goes first on PYTHONPATH."""
    env = kept_environment(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")  # counting runs on meta tensors: threads only cost start-up
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # importing the user's model.py must not leave __pycache__/ beside it
    return env


def request_for(ref: str, opts: LoadOptions, memory_limit_mb: int | None = None) -> dict[str, Any]:
    """The request for `ref`; the memory cap is `opts.memory_mb` unless given here."""
    mb = opts.memory_mb if memory_limit_mb is None else memory_limit_mb
    return {"ref": absolute_ref(ref), "inputs": list(opts.inputs), "batch_size": opts.batch_size,
            "dtype": opts.dtype, "trust_pickle": opts.trust_pickle, "memory_limit_mb": mb,
            "timeout_s": opts.timeout if opts.timeout and opts.timeout > 0 else None,
            **({"module_edits": list(opts.module_edits)} if opts.module_edits else {})}


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
    """The report of the graph in a worker's answer, or a WorkerError saying what happened."""
    return evaluate_graph(interpret_graph(ref, returncode, stdout, stderr))


def interpret_graph(ref: str, returncode: int, stdout: str, stderr: str) -> Graph:
    """The graph in a worker's answer, or a WorkerError saying what happened."""
    try:
        answer = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        raise WorkerError(f"{ref}: {describe_exit(returncode, stderr)}", stderr[-STDERR_TAIL:], FailureKind.DIED)
    if not answer.get("ok"):
        raise WorkerError(str(answer.get("error", "unknown error")), str(answer.get("detail", "")),
                          str(answer.get("kind", "error")))
    try:
        return parse_graph(answer["graph"])[0]
    except (FormatError, KeyError, TypeError) as e:
        raise WorkerError(f"{ref}: the worker's answer could not be read (not a graph: {e})",
                          kind=FailureKind.PROTOCOL) from None


def run_worker(request: dict[str, Any], timeout: float, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run one request (in `env`, default worker_env()); returns (returncode, stdout, stderr). Raises WorkerError
    on a timeout. The answer is read as soon as the worker exits, and the worker's whole process group is ended
    then, whatever it left running."""
    started = time.monotonic()
    orphans.adopt_orphans()  # whatever way the worker ends, what the model started comes here to be ended
    proc = subprocess.Popen(worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env or worker_env(), cwd=str(PROJECT_ROOT),
                            start_new_session=True)
    orphans.spawned(proc.pid)
    born = orphans.start_ticks(proc.pid)
    try:
        with contextlib.suppress(BrokenPipeError):  # a worker that died at once: its exit says why
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(request).encode("utf-8"))
            proc.stdin.close()
        out, err = read_until_exit(proc, started + timeout + TIMEOUT_GRACE_S)
    finally:
        end_group(proc, born)
    code = proc.returncode
    if code is None or (time.monotonic() - started >= timeout and not _has_answer(out)):
        raise WorkerError(f"{request.get('ref')}: no answer after {timeout:g} s (the model's code hangs or is very "
                          f"slow); the worker was stopped — give more time with --timeout", kind=FailureKind.TIMEOUT)
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _has_answer(out: bytes) -> bool:
    try:
        return isinstance(json.loads(out), dict)
    except ValueError:
        return False


def end_group(proc: subprocess.Popen, born: int = -1) -> None:
    """SIGKILL the worker's process group (the worker, if still running, and everything the model started), reap
    the worker, then end what it left re-parented here (model_io.worker.orphans; `born`: the worker's start ticks)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    for f in (proc.stdout, proc.stderr):
        if f is not None:
            f.close()
    orphans.end_orphans(proc.pid, born)


def trace_in_worker(ref: str, opts: LoadOptions, memory_limit_mb: int | None = None) -> CostReport:
    """Load and count `ref` in a fresh worker process (see the module docstring)."""
    return evaluate_graph(graph_in_worker(ref, opts, memory_limit_mb))


def graph_in_worker(ref: str, opts: LoadOptions, memory_limit_mb: int | None = None) -> Graph:
    """Load and trace `ref` in a fresh worker process into its graph."""
    check_request(ref, opts)
    check_file(ref, opts)
    code, out, err = run_worker(request_for(ref, opts, memory_limit_mb), opts.timeout)
    return interpret_graph(ref, code, out, err)


def check_file(ref: str, opts: LoadOptions) -> None:
    """The WorkerError the worker would answer for what its file checks refuse before torch is needed (a missing
    model file, edits on ONNX or .pt2, a .pt/.pt2 that holds another format), said in-process, without starting a
    worker: the same message and kind (model_io.files.file_checks)."""
    try:
        parsed = parse_ref(absolute_ref(ref))
    except RefError:
        return  # the worker's parse says it, as before
    refused = refusal(parsed, bool(opts.module_edits))
    if refused is not None:
        raise WorkerError(refused.message, refused.detail, str(refused.kind))


def check_request(ref: str, opts: LoadOptions) -> None:
    """ModelError for what fails without starting a worker: a mistyped reference or --input, a missing file."""
    try:  # mistyped references and input specs fail here, without starting a worker
        parse_ref(ref)
        for spec in opts.inputs:
            parse_input(spec)
    except RefError as e:
        raise ModelError(str(e)) from None
    if ref.lower().endswith(".py") or ".py:" in ref:
        path = ref.split(".py", 1)[0] + ".py"
        if not Path(path).exists():
            raise ModelError(f"{path}: no such file")
        if not Path(path).is_file():  # a FIFO or a device: the worker would wait on it until its timeout
            raise ModelError(f"{path}: not a regular file")
