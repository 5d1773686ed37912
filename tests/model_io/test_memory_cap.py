"""The worker's memory cap: it caps data memory (what models allocate), not the address space a CUDA build of torch
maps for its libraries; `--memory` sets it, and running out names the cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from netcost.model_io.cli.cli import main
from netcost.model_io.memory_cap import describe, parse_memory
from netcost.model_io.worker.resolve import LoadOptions, ModelError, load_report

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


@pytest.mark.parametrize(("args", "message"), [
    (["--memory", "99999999999999999999T"], "is more memory than any machine has"),
    (["--memory", "1"], "is too small a memory cap: the worker needs at least 512 MiB"),
    (["--memory", "100M"], "is too small a memory cap"),
    (["--timeout", "-1"], "'-1' is not a time limit"),
    (["--timeout", "0"], "'0' is not a time limit"),
    (["--timeout", "inf"], "'inf' is not a time limit"),
    (["--timeout", "nan"], "'nan' is not a time limit"),
    (["--timeout", "1e400"], "'1e400' is not a time limit"),
])
def test_an_out_of_range_limit_is_one_usage_line_before_anything_runs(capsys, args: list[str], message: str) -> None:
    # before: accepted, then an OverflowError traceback in the worker (huge memory), the worker killed by
    # std::bad_alloc (--memory 1), or a load abandoned after the grace period (--timeout -1)
    for command in (["summary", f"{FIXTURES / 'tiny_net.py'}:TinyNet"], ["llm", "zoo:gpt2"]):
        if command[0] == "llm" and args[0] == "--memory":
            continue  # llm has no --memory
        assert main([*command, *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("netcost: error: argument ") and message in err and err.count("\n") == 1


def test_the_limits_accept_what_they_should() -> None:
    from netcost.model_io.cli.cli import timeout_arg

    assert timeout_arg("0.5") == 0.5 and timeout_arg("604800") == 604800.0
    assert parse_memory("512M") == 512 and parse_memory("1024T") == 1024 ** 3
