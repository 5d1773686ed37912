"""The worker's memory cap: it caps data memory (what models allocate), not the address space a CUDA build of torch
maps for its libraries; `--memory` sets it, and running out names the cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_io.cli import main
from model_io.memory_cap import describe, parse_memory
from model_io.resolve import LoadOptions, ModelError, load_report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


@pytest.mark.parametrize(("text", "mb"), [("4G", 4096), ("6144M", 6144), ("512", 512), ("1.5GiB", 1536),
                                          ("none", 0), ("0", 0)])
def test_memory_sizes(text: str, mb: int) -> None:
    assert parse_memory(text) == mb


def test_a_bad_memory_size_is_one_usage_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "zoo:alexnet", "--memory", "lots"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("netcost: error:") and "'lots' is not a memory size" in err and "\n" not in err


def test_mapped_libraries_do_not_count_against_the_cap() -> None:
    # 3 GiB of read-only file mapping under a 1 GiB cap: refused by an address-space cap, fine under a data cap
    report = load_report(f"{FIXTURES / 'maps_libraries.py'}:MapsLargeFile", LoadOptions(memory_mb=1024))
    assert report.totals.params == 4 * 2 + 2


def test_running_out_names_the_cap_and_how_to_raise_it() -> None:
    with pytest.raises(ModelError) as info:
        load_report(f"{FIXTURES / 'dies.py'}:EatsMemory", LoadOptions(memory_mb=1536))
    message = str(info.value)
    assert "ran out of memory" in message and "memory cap is 1536 MiB" in message and "--memory" in message
    assert describe(4096) == "4 GiB"


def test_a_failed_cpu_retry_says_why_the_meta_forward_failed() -> None:
    # the meta forward fails (`.item()`), the retry with real weights runs out: the message says both, or a user
    # of a large model sees only the memory (issue 24 item 2)
    with pytest.raises(ModelError) as info:
        load_report(f"{FIXTURES / 'reads_values.py'}:ReadsValues", LoadOptions(inputs=("1,32768",), memory_mb=1024))
    message = str(info.value)
    assert "ran out of memory" in message and "memory cap is 1 GiB" in message
    assert "the forward failed on the meta device: RuntimeError: Tensor.item() cannot be called on meta" in message


def test_the_cli_passes_memory_to_the_worker(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", f"{FIXTURES / 'dies.py'}:EatsMemory", "--memory", "2G"]) == 2
    assert "memory cap is 2 GiB" in capsys.readouterr().err
