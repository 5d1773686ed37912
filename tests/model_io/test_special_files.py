"""Files the user names that are not regular files (a FIFO, a device) or are huge: one clear line, never a hang.

Before: a FIFO named x.json hung the CLI forever and froze the window (opened and read with no check and no
limit); a symlink to /dev/zero read without end."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from netcost.costing import FormatError
from netcost.costing.devices import DeviceError
from netcost.model_io.cli.cli import main
from netcost.model_io.files import device_files
from netcost.model_io.files.graph_file import load_graph
from netcost.model_io.files.layer_file import load_network
from netcost.model_io.safe_read import DOCUMENT_LIMIT, UnreadableFile, read_regular
from tests.hang_guard import no_hang

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mkfifo, /dev/zero: POSIX")


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "x.json"
    os.mkfifo(path)
    return path


def test_summary_of_a_fifo_is_one_line_not_a_hang(fifo: Path, capsys) -> None:
    with no_hang(20, "netcost summary x.json (a FIFO)"):
        assert main(["summary", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "FIFO" in err and "not a regular file" in err


@pytest.mark.parametrize("reader", [load_network, load_graph], ids=["layer-list", "graph"])
def test_documents_refuse_a_fifo_and_a_device(fifo: Path, tmp_path: Path, reader) -> None:
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    for path, what in ((fifo, "FIFO"), (zero, "character device"), (tmp_path, "folder")):
        with no_hang(20, f"reading {path}"), pytest.raises(FormatError) as caught:
            reader(path)
        assert what in str(caught.value) and "\n" not in str(caught.value)


def test_a_document_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "huge.json"
    with open(big, "wb") as f:
        f.truncate(DOCUMENT_LIMIT + 1)  # sparse: no disk used
    with pytest.raises(FormatError, match="over the 256 MiB limit"):
        load_network(big)
    with pytest.raises(UnreadableFile, match="over the 1 MiB limit"):
        read_regular(big, 1 << 20)


def test_a_devices_file_that_is_a_fifo_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = device_files.user_devices_path()
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    with no_hang(20, "reading a devices file that is a FIFO"), pytest.raises(DeviceError, match="FIFO"):
        device_files.load_user_devices()
    calibration = device_files.calibration_path()
    calibration.parent.mkdir(parents=True)
    os.mkfifo(calibration)
    with no_hang(20, "reading a calibration cache that is a FIFO"):
        assert device_files.load_calibration() == ()  # a bad cache is no cache


def test_a_model_file_that_is_a_fifo_is_refused_before_a_worker_starts(tmp_path: Path, capsys) -> None:
    model = tmp_path / "model.py"
    os.mkfifo(model)
    with no_hang(20, "summary of model.py (a FIFO)"):
        assert main(["summary", f"{model}:Net"]) == 2
    assert "not a regular file" in capsys.readouterr().err
    from netcost.model_io.model_ref import list_candidates

    with no_hang(20, "listing the models of a FIFO"):
        assert list_candidates(model) == []


def test_a_regular_file_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "ok.txt"
    path.write_bytes(b"hello")
    assert read_regular(path) == b"hello"
