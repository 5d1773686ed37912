"""tests/traced.py: the session's kept worker answer gives the graph load_graph_ref gives, as new objects each time."""

from __future__ import annotations

from pathlib import Path

from netcost.model_io.worker.resolve import load_graph_ref
from tests.traced import traced_graph

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "models" / "opaque_fft.py"


def test_a_kept_trace_is_the_graph_a_fresh_worker_gives() -> None:
    ref = f"{FIXTURE}:Net"
    first, again = traced_graph(ref), traced_graph(ref)
    assert first == again == load_graph_ref(ref)
    assert first is not again and first.nodes[0] is not again.nodes[0]
