"""The isolated worker: `python -m netcost.model_io.worker.worker` reads one request (JSON) on stdin, loads, counts
the model, and writes one response (JSON) on stdout. The protocol is documented in model_io.worker.worker_client.

User model code runs only here, with the user's rights but the least else (model_io.worker.worker_guard: its own
session, no stdin, a private empty working directory, no core dumps). It may print (its stdout is redirected to
stderr, so the answer stays clean), raise, hang (a watchdog ends the whole process group at the request's
`timeout_s`, or when the parent is gone; the parent's own timeout backs it up), exhaust memory (capped by
model_io.memory_cap),
start processes (ended with the group once the worker is done) or kill itself (the parent reports the exit code or
signal).

`--warm`: a spare worker, started before it has a request (the window keeps one). It does what needs no request
first — its own session, private folder, subreaper and watchdog (forked while there are no threads), then torch and
the tracer imported — writes WARM_MARK on stderr and waits for its one request. It is used for one model and then
ends like any worker, so what a model does to the process (global state, monkey-patches, a crash) never reaches the
next one.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any

from .. import memory_cap
from ..errors import FailureKind, LoadFailure
from ..memory_cap import DEFAULT_MEMORY_MB
from . import worker_guard

# Up to the guard the worker imports only the standard library and the modules above. torch, and whatever brings
# it or costing in (loaders, graph_file, measure, llm_trace, the tracer), is imported inside the functions below:
# after the guard is in place (the watchdog is forked while the process has no threads; torch starts some) and
# under the memory cap, so that importing them counts against it.

_WATCHDOG = 0  # pid of the watchdog (model_io.worker.worker_guard), 0 if none
_DEADLINE_FD = -1  # a warm worker's pipe to its watchdog (the deadline goes through it once the request is read)
WARM_MARK = b"netcost-worker: warm\n"  # on stderr once a --warm worker has torch imported


def _limit_memory(mb: int) -> None:
    memory_cap.apply(mb)


def _skip_dynamo_disable() -> None:
    """torch wraps many of its meta kernels in `torch._disable_dynamo`, which imports torch._dynamo (about a second)
    on first use only to mark them "do not compile". This process never compiles, so mark them done up front."""
    import gc

    import torch  # heavy (seconds): after the guard is in place (see above)

    if "torch._dynamo" in sys.modules:
        return
    code = torch._compile._disable_dynamo(lambda: None).__code__
    for obj in gc.get_objects():
        if type(obj) is type(_skip_dynamo_disable) and obj.__code__ is code and obj.__closure__:
            fn = obj.__closure__[code.co_freevars.index("fn")].cell_contents
            if getattr(fn, "__dynamo_disable", None) is None:
                with contextlib.suppress(AttributeError, TypeError):
                    fn.__dynamo_disable = fn


def _guard(request: dict[str, Any]) -> None:
    """Least rights and an enforced end before any model code runs (model_io.worker.worker_guard); before torch is
    imported, because the watchdog is forked."""
    timeout = _timeout_of(request)
    leads = worker_guard.own_session()
    worker_guard.detach_stdin()
    folder = worker_guard.private_cwd()
    worker_guard.limit_resources(timeout)
    worker_guard.become_subreaper()
    global _WATCHDOG
    _WATCHDOG = worker_guard.start_watchdog(timeout, leads, cleanup=folder)


def _timeout_of(request: dict[str, Any]) -> float | None:
    timeout = request.get("timeout_s")
    return float(timeout) if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) else None


def _prepare_warm() -> None:
    """The request-free part of `_guard`, then the imports every model needs (see the module docstring)."""
    global _WATCHDOG, _DEADLINE_FD
    leads = worker_guard.own_session()
    folder = worker_guard.private_cwd()
    worker_guard.become_subreaper()
    read_end, _DEADLINE_FD = os.pipe()
    _WATCHDOG = worker_guard.start_watchdog(None, leads, cleanup=folder, deadline_fd=read_end)
    os.close(read_end)
    import importlib.util

    with contextlib.suppress(Exception):  # a broken install fails again, with its message, when the request runs
        import torch  # noqa: F401  (the point of a warm worker)

        from ..files import graph_file  # noqa: F401
        from ..importers import loaders, tracer  # noqa: F401
        if importlib.util.find_spec("torchvision") is not None:  # torchvision:NAME and detection models use it
            import torchvision  # noqa: F401
        if os.environ.get("NETCOST_WORKER_DYNAMO") != "1":
            _skip_dynamo_disable()
        loaders.warm_up()
    os.write(2, WARM_MARK)


def _guard_warm(request: dict[str, Any]) -> None:
    """The request's part of the guard for a warm worker: no stdin, the CPU cap and the watchdog's deadline."""
    timeout = _timeout_of(request)
    worker_guard.detach_stdin()
    worker_guard.limit_resources(timeout)
    if _DEADLINE_FD >= 0:
        worker_guard.set_deadline(_DEADLINE_FD, timeout)


def handle(request: dict[str, Any]) -> dict[str, Any]:
    from ..files.graph_file import graph_to_dict
    from ..importers.loaders import run_request

    mb = int(request.get("memory_limit_mb", DEFAULT_MEMORY_MB))
    try:
        graph = run_request(request)
    except LoadFailure as e:
        if e.kind is FailureKind.MEMORY:  # its message names what ran out; the cap is the worker's to say
            return {"ok": False, "error": memory_cap.out_of_memory_message(e.message, mb), "detail": e.detail,
                    "kind": "memory"}
        return {"ok": False, "error": e.message, "detail": e.detail, "kind": e.kind}
    except MemoryError:
        return {"ok": False, "error": memory_cap.out_of_memory_message(str(request.get("ref")), mb), "detail": "",
                "kind": "memory"}
    except SystemExit as e:
        return {"ok": False, "error": f"the model's code called sys.exit({e.code!r})", "detail": "", "kind": "model"}
    answer = {"ok": True, "graph": graph_to_dict(graph)}
    if request.get("measure"):  # `--measure`: also run it for real and time each row (model_io.worker.measure)
        from netcost.costing.graph_eval import evaluate_graph

        from .measure import measure_answer  # imports torch: only for a request that asks to measure

        answer.update(measure_answer(request, evaluate_graph(graph)))
    if request.get("attention_calls"):  # `netcost llm`: the decode step's attention calls (model_io.worker.llm_trace)
        from .llm_trace import attention_answer  # imports torch: only for `netcost llm`'s requests

        answer.update(attention_answer(request))
    return answer


def main() -> None:
    sys.dont_write_bytecode = True  # the user's model.py is imported here: no __pycache__/ beside it
    warm = "--warm" in sys.argv[1:]
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything the model prints goes to stderr, never into the answer
    sys.stdout = sys.stderr
    if warm:
        _prepare_warm()
    try:
        request = json.loads(sys.stdin.read() or "{}")
        if not isinstance(request, dict):
            raise ValueError("the request must be a JSON object")
    except ValueError as e:  # JSONDecodeError included
        response: dict[str, Any] = {"ok": False, "error": f"bad request: {e}", "detail": "", "kind": "protocol"}
    else:
        _limit_memory(int(request.get("memory_limit_mb", DEFAULT_MEMORY_MB)))
        if warm:
            _guard_warm(request)
        else:
            _guard(request)
        try:
            if not warm and os.environ.get("NETCOST_WORKER_DYNAMO") != "1":
                _skip_dynamo_disable()
            response = handle(request)
        except BaseException as e:  # a bug of ours or an odd model: still one answer, never a silent exit
            import traceback

            response = {"ok": False, "error": f"internal error: {type(e).__name__}: {e}",
                        "detail": traceback.format_exc(), "kind": "internal"}
    answer.write(json.dumps(response))
    answer.flush()
    if _WATCHDOG:  # what the model started, detached or not, ends with the load (the watchdog ends the group)
        worker_guard.end_descendants(os.getpid(), keep=_WATCHDOG)
    os._exit(0)  # skip teardown: the model's atexit handlers and torch finalizers cannot change the answer


if __name__ == "__main__":
    main()
