"""One worker trace per model for the whole test session, for tests that need a traced graph as their input.

`traced_graph(ref, opts)` gives what `load_graph_ref(ref, opts)` gives, but the worker runs once per (ref, opts) in
the session: its answer (exit code, stdout, stderr) is kept, and every call parses it again into a new Graph, exactly
as the first call did, so no test sees another's objects. Tests about loading itself (the worker, trust, timeouts, a
model's side effects) call load_graph_ref / graph_in_worker directly: each of their calls runs the model.
"""

from __future__ import annotations

import functools

from netcost.costing.graph import Graph
from netcost.model_io.worker import worker_client
from netcost.model_io.worker.resolve import LoadOptions, is_layer_list, load_graph_ref


@functools.cache
def _answer(ref: str, opts: LoadOptions) -> tuple[int, str, str]:
    worker_client.check_request(ref, opts)
    return worker_client.run_worker(worker_client.request_for(ref, opts), opts.timeout)


def traced_graph(ref: str, opts: LoadOptions | None = None) -> Graph:
    opts = opts or LoadOptions()
    if is_layer_list(ref):  # read here, no worker: nothing to keep
        return load_graph_ref(ref, opts)
    return worker_client.interpret_graph(ref, *_answer(ref, opts))
