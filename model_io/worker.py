"""The isolated worker: `python -m model_io.worker` reads one request (JSON) on stdin, loads and counts the model,
and writes one response (JSON) on stdout. The protocol is documented in model_io.worker_client.

User model code runs only here. It may print (its stdout is redirected to stderr, so the answer stays clean),
raise, hang (the parent's timeout kills the process group), exhaust memory (capped by model_io.memory_cap) or kill
itself (the parent reports the exit code or signal).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any

from . import memory_cap
from .memory_cap import DEFAULT_MEMORY_MB


def _limit_memory(mb: int) -> None:
    memory_cap.apply(mb)


def _skip_dynamo_disable() -> None:
    """torch wraps many of its meta kernels in `torch._disable_dynamo`, which imports torch._dynamo (about a second)
    on first use only to mark them "do not compile". This process never compiles, so mark them done up front."""
    import gc

    import torch

    if "torch._dynamo" in sys.modules:
        return
    code = torch._compile._disable_dynamo(lambda: None).__code__
    for obj in gc.get_objects():
        if type(obj) is type(_skip_dynamo_disable) and obj.__code__ is code and obj.__closure__:
            fn = obj.__closure__[code.co_freevars.index("fn")].cell_contents
            if getattr(fn, "__dynamo_disable", None) is None:
                with contextlib.suppress(AttributeError, TypeError):
                    fn.__dynamo_disable = fn


def handle(request: dict[str, Any]) -> dict[str, Any]:
    from . import report_codec
    from .loaders import LoadFailure, run_request

    mb = int(request.get("memory_limit_mb", DEFAULT_MEMORY_MB))
    try:
        report = run_request(request)
    except LoadFailure as e:
        if e.kind == "memory":  # its message names what ran out; the cap is the worker's to say
            return {"ok": False, "error": memory_cap.out_of_memory_message(e.message, mb), "detail": e.detail,
                    "kind": "memory"}
        return {"ok": False, "error": e.message, "detail": e.detail, "kind": e.kind}
    except MemoryError:
        return {"ok": False, "error": memory_cap.out_of_memory_message(str(request.get("ref")), mb), "detail": "",
                "kind": "memory"}
    except SystemExit as e:
        return {"ok": False, "error": f"the model's code called sys.exit({e.code!r})", "detail": "", "kind": "model"}
    return {"ok": True, "report": report_codec.to_dict(report)}


def main() -> None:
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything the model prints goes to stderr, never into the answer
    sys.stdout = sys.stderr
    try:
        request = json.loads(sys.stdin.read() or "{}")
    except json.JSONDecodeError as e:
        response: dict[str, Any] = {"ok": False, "error": f"bad request: {e}", "detail": "", "kind": "protocol"}
    else:
        _limit_memory(int(request.get("memory_limit_mb", DEFAULT_MEMORY_MB)))
        try:
            if os.environ.get("NETCOST_WORKER_DYNAMO") != "1":
                _skip_dynamo_disable()
            response = handle(request)
        except BaseException as e:  # a bug of ours or an odd model: still one answer, never a silent exit
            import traceback

            response = {"ok": False, "error": f"internal error: {type(e).__name__}: {e}",
                        "detail": traceback.format_exc(), "kind": "internal"}
    answer.write(json.dumps(response))
    answer.flush()
    os._exit(0)  # skip teardown: the model's atexit handlers and torch finalizers cannot change the answer


if __name__ == "__main__":
    main()
