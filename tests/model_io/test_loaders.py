"""The worker's loading step, run in-process (fast; the worker tests cover the process boundary): several inputs and
token ids, example_inputs as an attribute, constructor keywords, models inside packages, the optional onnx extra,
and hints for the usual --input mistakes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.errors import LoadFailure
from netcost.model_io.importers.loaders import run_request

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


@pytest.fixture(autouse=True)
def _restore_import_state():
    """run_request imports user files as the worker does (sys.path, sys.modules): undo that after each test."""
    path, modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if name.startswith(("netcost_user_", "pkgmodel")):
            del sys.modules[name]


def _run(ref: str, *inputs: str, batch: int | None = None):
    return evaluate_graph(run_request({"ref": ref, "inputs": list(inputs), "batch_size": batch}))


TWO = f"{FIXTURES / 'two_inputs.py'}:TokensAndFeatures"


def test_example_inputs_attribute_gives_several_inputs_and_their_dtypes() -> None:
    report = _run(TWO)
    assert report.inputs == (((1, 12), "int64"), ((1, 12, 4), "float32"))
    # embedding 100 x 16 + Linear 4 -> 16 + Linear 16 -> 2
    assert report.totals.params == 1_600 + (64 + 16) + (32 + 2)
    assert report.totals.macs == 12 * 4 * 16 + 12 * 16 * 2  # feat + head; an embedding is a lookup
    batched = _run(TWO, batch=5)
    assert batched.inputs == (((5, 12), "int64"), ((5, 12, 4), "float32"))


def test_repeated_inputs_with_token_ids_and_keyword_arguments() -> None:
    report = _run(f"{TWO}(vocab=50, dim=8)", "long:3,7", "3,7,4")
    assert report.inputs == (((3, 7), "int64"), ((3, 7, 4), "float32"))
    assert report.totals.params == 400 + (32 + 8) + (16 + 2)
    assert report.totals.macs == 21 * (4 * 8 + 8 * 2)
    assert report.model == "two_inputs.py:TokensAndFeatures(vocab=50, dim=8)"


def test_the_usual_input_mistakes_get_a_hint() -> None:
    with pytest.raises(LoadFailure) as info:
        _run(TWO, "long:3,7")
    assert "missing 1 required positional argument" in info.value.message
    assert info.value.message.endswith("(give one --input per forward argument, in order)")
    with pytest.raises(LoadFailure) as info:
        _run(TWO, "3,7", "3,7,4")
    assert info.value.message.endswith("(token ids: give the input as --input long:BATCH,LENGTH)")
    assert "two_inputs.py" in info.value.detail  # the model's own frame


def test_a_model_inside_a_package_with_relative_imports() -> None:
    report = _run(f"{FIXTURES / 'pkgmodel' / 'nets' / 'net.py'}:PackagedNet")
    assert report.inputs == (((2, 8), "float32"),)  # example_inputs() of the file
    assert report.totals.params == 8 * 8 + 8 and report.totals.macs == 2 * 64
    report = _run(f"{FIXTURES / 'pkgmodel' / 'nets' / 'net.py'}:PackagedNet(width=4)", "1,4")
    assert report.totals.params == 4 * 4 + 4


def test_an_error_without_frames_of_the_model_has_no_repeated_detail() -> None:
    with pytest.raises(LoadFailure) as info:
        _run(f"{FIXTURES / 'tiny_net.py'}:TinyNet(depth=3)")
    assert "unexpected keyword argument 'depth'" in info.value.message and info.value.detail == ""


def test_onnx_missing_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError
    model = tmp_path / "m.onnx"
    model.write_bytes(b"\x08\x07")
    with pytest.raises(LoadFailure) as info:
        _run(str(model))
    assert info.value.message == "reading ONNX models needs the onnx package: pip install netcost[onnx]"
    with pytest.raises(LoadFailure, match="no such file"):  # a missing file is said first
        _run(str(tmp_path / "missing.onnx"))
