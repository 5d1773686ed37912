"""A model file that is not what its extension says, a missing one, or edits asked of ONNX/.pt2: refused in-process
with the worker's own message and kind (model_io.files.file_checks), without a worker being started."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from netcost.model_io.errors import LoadFailure
from netcost.model_io.file_kinds import FileKind, sniff
from netcost.model_io.options import LoadOptions
from netcost.model_io.worker import worker_client
from netcost.model_io.worker.resolve import ModelError, load_graph_ref

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
EDIT = {"path": "fc", "type": "Linear", "args": {"out_features": 2}}


@pytest.fixture
def no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a worker was started")

    monkeypatch.setattr(worker_client, "run_worker", refuse)


def _files(tmp_path: Path) -> dict[str, tuple[str, LoadOptions]]:
    export = tmp_path / "export.pt"  # a torch.export program's listing under the TorchScript extension
    with zipfile.ZipFile(export, "w") as z:
        z.writestr("m/archive_format", "pt2")
    script = tmp_path / "script.pt2"
    with zipfile.ZipFile(script, "w") as z:
        z.writestr("m/code/__torch__/m.py", "")
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "layers.pt2").write_text('{"format": "netcost.layers/1"}')
    plain = LoadOptions()
    return {
        "text.pt": (str(FIXTURES / "not_a_model.pt"), plain),
        "text.pt2": (str(FIXTURES / "not_a_model.pt2"), plain),
        "export.pt": (str(export), plain),
        "script.pt2": (str(script), plain),
        "empty.pt": (str(tmp_path / "empty.pt"), plain),
        "json.pt2": (str(tmp_path / "layers.pt2"), plain),
        "missing.pt": (str(tmp_path / "nope.pt"), plain),
        "missing.onnx": (str(tmp_path / "nope.onnx"), plain),
        "edited.pt2": (str(tmp_path / "nope.pt2"), LoadOptions(module_edits=(EDIT,))),
    }


def test_refused_in_process_without_a_worker(tmp_path: Path, no_worker: None) -> None:
    files = _files(tmp_path)
    said = {}
    for key, (ref, opts) in files.items():
        with pytest.raises(worker_client.WorkerError) as info:
            load_graph_ref(ref, opts)
        said[key] = (str(info.value), info.value.kind)
    assert said["text.pt"] == ("not_a_model.pt is not a TorchScript archive or a torch.save file (its extension says "
                               "PyTorch, its content does not; it holds text)", "format")
    assert said["export.pt"] == ("export.pt holds a torch.export program (use the .pt2 extension)", "format")
    assert said["script.pt2"] == ("script.pt2 is not a torch.export program: it holds a TorchScript archive (use "
                                  "the .pt extension)", "format")
    assert said["missing.onnx"] == (f"{tmp_path / 'nope.onnx'}: no such file", "usage")
    assert said["edited.pt2"][1] == "usage" and "layer edits can only be applied" in said["edited.pt2"][0]


def test_the_worker_says_the_same(tmp_path: Path) -> None:
    """What the worker's importers raise for each file (run here, in-process) is what the parent said."""
    pytest.importorskip("torch")
    from netcost.model_io.importers.loaders import run_request

    for ref, opts in _files(tmp_path).values():
        with pytest.raises(worker_client.WorkerError) as parent:
            worker_client.check_file(ref, opts)
        with pytest.raises(LoadFailure) as worker:
            run_request(worker_client.request_for(ref, opts))
        assert (worker.value.message, str(worker.value.kind)) == (str(parent.value), parent.value.kind)


def test_what_only_the_worker_can_tell_still_goes_to_it(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(b"\x80\x02rest")  # a legacy torch.save header: torch.load decides
    zipped = tmp_path / "archive.pt"  # a zip archive: what torch.load says of it is torch's
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("notes.txt", "hello")
    for ref in (str(legacy), str(zipped), str(FIXTURES / "not_a_model.onnx"),
                str(FIXTURES / "tiny_net.py") + ":TinyNet", "zoo:gpt2"):
        worker_client.check_file(ref, LoadOptions())  # nothing refused here


def test_detecting_a_kind_imports_no_torch() -> None:
    assert sniff(str(FIXTURES / "not_a_model.pt")) is FileKind.TEXT
    import subprocess

    code = ("import sys; from netcost.model_io.worker import worker_client as w; from netcost.model_io.options import "
            f"LoadOptions\ntry: w.check_file({str(FIXTURES / 'not_a_model.pt')!r}, LoadOptions())\n"
            "except w.WorkerError: pass\nassert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_cli_says_it_without_a_worker(capsys: pytest.CaptureFixture[str], no_worker: None) -> None:
    from netcost.model_io.cli.cli import main

    assert main(["summary", str(FIXTURES / "not_a_model.pt2")]) == 2
    assert "not_a_model.pt2 is not a torch.export program: it holds text" in capsys.readouterr().err
    assert issubclass(worker_client.WorkerError, ModelError)
