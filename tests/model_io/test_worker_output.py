"""A model that prints without end: the parent keeps only the tail of the worker's stderr (its memory stays
bounded), and the message still shows that tail."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from netcost.model_io.worker.resolve import LoadOptions
from netcost.model_io.worker.worker_client import WorkerError, graph_in_worker, request_for, run_worker
from netcost.model_io.worker.worker_pipes import STDERR_KEEP, Capped, Tail

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipes and os._exit: POSIX")
FLOOD_MB = 64


def test_a_flooding_model_keeps_only_a_tail_of_its_output() -> None:
    ref = f"{FIXTURES / 'floods.py'}:Floods(mb={FLOOD_MB}, then='exit')"
    code, out, err = run_worker(request_for(ref, LoadOptions(timeout=60)), 60)
    assert code == 3 and out == ""
    # before: all 64 MiB were kept (the CLI reached 18 GB with a model printing in a loop)
    assert len(err.encode()) <= STDERR_KEEP
    assert err.rstrip().endswith("the last words of a flood")


def test_the_message_of_a_flooding_model_still_shows_its_last_line() -> None:
    ref = f"{FIXTURES / 'floods.py'}:Floods(mb={FLOOD_MB}, then='exit')"
    with pytest.raises(WorkerError) as caught:
        graph_in_worker(ref, LoadOptions(timeout=60))
    assert "exited with code 3 without an answer: the last words of a flood" in str(caught.value)
    assert len(caught.value.detail) <= STDERR_KEEP


def test_a_flooding_model_that_raises_still_says_why() -> None:
    with pytest.raises(WorkerError) as caught:
        graph_in_worker(f"{FIXTURES / 'floods.py'}:Floods(mb=8, then='raise')", LoadOptions(timeout=60))
    assert "flooded and failed" in str(caught.value) + caught.value.detail


def test_a_tail_keeps_the_last_bytes_in_bounded_memory() -> None:
    tail = Tail(keep=10)
    for i in range(1000):
        tail.add(b"%04d," % i)
        assert len(tail._buf) <= 20
    assert tail.bytes() == b"0998,0999," and tail.total == 5000
    tail.add(b"y" * 100)  # one chunk longer than what is kept
    assert tail.bytes() == b"y" * 10


def test_an_answer_past_its_limit_is_dropped_not_kept() -> None:
    answer = Capped(limit=8)
    answer.add(b"1234")
    answer.add(b"56789")
    answer.add(b"0")
    assert answer.overflowed and answer.bytes() == b"" and len(answer._buf) == 0
