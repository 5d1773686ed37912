"""The isolated worker with small hostile files: each failure is one clear line, and the caller stays up."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
import torch

from netcost.model_io.worker.resolve import LoadOptions, ModelError, load_report
from netcost.model_io.worker.worker_client import WorkerError, list_candidates, trace_in_worker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def _fixture(name: str) -> str:
    return str(FIXTURES / name)


def _error(ref: str, **opts: object) -> WorkerError:
    with pytest.raises(ModelError) as info:
        load_report(ref, LoadOptions(**opts))  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return info.value  # type: ignore[return-value]


def test_a_python_file_with_kwargs_sibling_import_example_input_and_prints() -> None:
    report = load_report(_fixture("tiny_net.py") + ":TinyNet(width=4, num_classes=3)")
    # conv 3->4 k3 (108 + 4) + bn (8) + linear 4->3 (12 + 3) = 135
    assert report.totals.params == 135
    assert report.inputs == (((2, 3, 32, 32), "float32"),)  # from example_input()
    assert report.source == "torch" and report.model == "tiny_net.py:TinyNet(width=4, num_classes=3)"


def test_a_factory_and_an_explicit_input() -> None:
    report = load_report(_fixture("tiny_net.py") + ":build_wide", LoadOptions(inputs=("1,3,8,8",)))
    assert report.inputs[0][0] == (1, 3, 8, 8)
    conv = next(r for r in report.layers if r.type == "Conv2d")
    assert conv.macs == 16 * 64 * 27  # Cout x H x W x (Cin x 3 x 3)


def test_zoo_models_run_in_the_worker() -> None:
    report = load_report("zoo:gpt2", LoadOptions(inputs=("long:1,64",)))
    assert report.totals.params == 124_439_808 and report.inputs == (((1, 64), "int64"),)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken_model.py"
    shutil.copy(FIXTURES / "syntax_error.py.txt", bad)
    e = _error(f"{bad}:Net")
    assert "broken_model.py line 6" in str(e) and "syntax error" in str(e)


def test_constructor_error_shows_the_models_frames_only() -> None:
    e = _error(_fixture("ctor_raises.py") + ":Broken")
    assert str(e) == "Broken() raised ValueError: width must be even, got 3"
    assert "ctor_raises.py" in e.detail and "check_width" in e.detail and "site-packages" not in e.detail


def test_forward_error() -> None:
    e = _error(_fixture("forward_raises.py") + ":Bad")
    assert str(e).startswith("the forward of forward_raises.py:Bad raised RuntimeError")
    assert "mix" in e.detail and "torch/" not in e.detail


def test_missing_name_lists_candidates() -> None:
    e = _error(_fixture("tiny_net.py") + ":Nope")
    assert "tiny_net.py has no 'Nope'" in str(e) and "TinyNet" in str(e) and "build_wide" in str(e)
    assert list_candidates(_fixture("tiny_net.py")) == ["TinyNet", "build_wide"]


def test_a_hang_times_out() -> None:
    e = _error(_fixture("hangs.py") + ":Slow", timeout=4.0)
    assert "no answer after 4 s" in str(e) and e.kind == "timeout"


def test_a_worker_that_exits_or_is_killed() -> None:
    assert "exited with code 3" in str(_error(_fixture("dies.py") + ":ExitsHard"))
    assert "SIGKILL" in str(_error(_fixture("dies.py") + ":KillsItself"))


def test_memory_cap() -> None:
    e = _error(_fixture("dies.py") + ":EatsMemory")
    assert "memory" in str(e).lower()


def test_files_that_are_not_what_their_extension_says() -> None:
    assert "not a TorchScript archive or a torch.save file" in str(_error(_fixture("not_a_model.pt")))
    assert "is not an ONNX model" in str(_error(_fixture("not_a_model.onnx")))
    assert "is not a torch.export program" in str(_error(_fixture("not_a_model.pt2")))


def test_meta_fallback_is_reported_in_warnings() -> None:
    report = load_report(_fixture("needs_real.py") + ":DataDependent")
    assert report.totals.macs == 64 and any("CPU" in w for w in report.warnings)


@pytest.fixture(scope="module")
def torch_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pickled module, a state_dict, TorchScript and torch.export files of one small model."""
    import importlib.util
    import sys

    folder = tmp_path_factory.mktemp("torch_files")
    shutil.copy(FIXTURES / "pickled_net.py", folder / "pickled_net.py")
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location("pickled_net", folder / "pickled_net.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules["pickled_net"] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        model = module.PickledNet()
        torch.save(model, folder / "whole.pt")
        torch.save(model.state_dict(), folder / "weights.pth")
        with warnings.catch_warnings():  # torch.jit.script is deprecated, TorchScript files still exist
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.jit.script(model).save(str(folder / "scripted.pt"))
        torch.export.save(torch.export.export(model, (torch.zeros(1, 6),)), str(folder / "exported.pt2"))
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("pickled_net", None)
    return folder


def test_pickled_module_is_refused_unless_trusted(torch_files: Path) -> None:
    e = _error(str(torch_files / "whole.pt"))
    assert "holds a pickled pickled_net.PickledNet" in str(e) and "--trust-pickle" in str(e)
    report = load_report(str(torch_files / "whole.pt"), LoadOptions(trust_pickle=True))
    assert report.totals.params == 21 and report.inputs[0][0] == (1, 6)


def test_state_dict_is_explained(torch_files: Path) -> None:
    e = _error(str(torch_files / "weights.pth"))
    assert "holds a state_dict (2 tensors, no architecture)" in str(e) and "file.py:Name" in str(e)


def test_torchscript_and_export(torch_files: Path) -> None:
    script = load_report(str(torch_files / "scripted.pt"), LoadOptions(inputs=("4,6",)))
    assert script.totals.params == 21 and script.totals.macs == 4 * 18 and script.source == "torchscript"
    exported = load_report(str(torch_files / "exported.pt2"))
    assert exported.totals.params == 21 and exported.totals.macs == 18
    # one node per aten op of the export (its weights are sources), all inside the Linear they came from
    assert {r.scope for r in exported.layers} == {"fc"}
    assert [(h.path, h.type) for h in exported.hierarchy if h.path] == [("fc", "Linear")]
    assert exported.layers[-1].type == "aten.addmm" and exported.layers[-1].inputs[0] == "fc.bias"


def test_trace_in_worker_is_the_resolver_hook() -> None:
    report = trace_in_worker("zoo:inception_block", LoadOptions())
    assert report.totals.params == 163_696
