""".pt2 files are refused like pickles unless trusted: `torch.export.load` unpickles weights marked `use_pickle`,
opaque constants and sample inputs with weights_only=False, so a crafted archive would run code on a plain open."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn

from netcost.model_io.cli.cli import main
from netcost.model_io.errors import LoadFailure
from netcost.model_io.importers.graph_trace import load_exported


class Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class _Payload:
    """Unpickling this writes the marker file: what a hostile archive would do (here harmless)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return exec, (f"open({str(self.marker)!r}, 'w').write('ran')",)


@pytest.fixture(scope="module")
def legit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pt2") / "small.pt2"
    torch.export.save(torch.export.export(Small(), (torch.zeros(2, 4),)), str(path))
    return path


def craft(legit: Path, out: Path, marker: Path, variant: str) -> Path:
    """`legit` with one record made hostile: `weights` (fc.weight marked use_pickle), `constant` (an opaque
    object among the constants) or `inputs` (the sample inputs replaced by a pickle that is not tensors)."""
    payload = pickle.dumps(_Payload(marker), protocol=2)
    with zipfile.ZipFile(legit) as src, zipfile.ZipFile(out, "w") as dst:
        weight_0 = _weight_file(src, "fc.weight")
        for name in src.namelist():
            data = src.read(name)
            rel = name.split("/", 1)[1]
            if variant == "weights" and rel.endswith("_weights_config.json"):
                config = json.loads(data)
                config["config"]["fc.weight"]["use_pickle"] = True
                data = json.dumps(config).encode()
            elif variant == "weights" and rel == "data/weights/" + weight_0:
                data = payload
            elif variant == "constant" and rel.endswith("_constants_config.json"):
                data = json.dumps({"config": {"evil": {"path_name": "opaque_obj_0", "is_param": False,
                                                       "use_pickle": True, "tensor_meta": None}}}).encode()
                dst.writestr(name.rsplit("/", 1)[0] + "/opaque_obj_0", payload)
            elif variant == "inputs" and rel.startswith("data/sample_inputs/"):
                data = payload
            dst.writestr(name, data)
    return out


def _weight_file(z: zipfile.ZipFile, fqn: str) -> str:
    name = next(n for n in z.namelist() if n.endswith("_weights_config.json"))
    return str(json.loads(z.read(name))["config"][fqn]["path_name"])


VARIANTS = {"weights": "pickled weights (fc.weight)", "constant": "pickled constants (evil)",
            "inputs": "pickled Python objects (data/sample_inputs/model.pt)"}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_crafted_pt2_is_refused_before_anything_is_unpickled(legit: Path, tmp_path: Path, variant: str) -> None:
    from netcost.model_io.importers.graph_trace import pt2_code_payloads

    marker = tmp_path / "ran"
    bad = craft(legit, tmp_path / "bad.pt2", marker, variant)
    assert pt2_code_payloads(str(bad)) == [VARIANTS[variant]]
    with pytest.raises(LoadFailure) as failure:
        load_exported(str(bad))
    assert not marker.exists()
    assert failure.value.kind == "pickle"
    assert str(failure.value) == (f"bad.pt2 holds {VARIANTS[variant]}, which NetCost does not load by default "
                                  "(unpickling runs code): pass --trust-pickle if the file is yours")


def test_torch_itself_would_have_run_the_payload(legit: Path, tmp_path: Path) -> None:
    """The crafted files are real attacks: torch.export.load runs them (so the refusal above is what stops it)."""
    marker = tmp_path / "ran"
    bad = craft(legit, tmp_path / "bad.pt2", marker, "weights")
    with pytest.raises(Exception):  # noqa: B017 - the payload returns None, not a tensor: torch fails after it ran
        torch.export.load(str(bad))
    assert marker.read_text() == "ran"


def test_the_unpickling_guard_stops_what_the_archive_check_misses(legit: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import netcost.model_io.importers.graph_trace as gt

    marker = tmp_path / "ran"
    bad = craft(legit, tmp_path / "bad.pt2", marker, "inputs")
    monkeypatch.setattr(gt, "pt2_code_payloads", lambda path: [])  # an archive layout the check does not know
    with pytest.raises(LoadFailure, match="holds pickled Python objects.*pass --trust-pickle"):
        load_exported(str(bad))
    assert not marker.exists()


def test_a_legit_pt2_still_loads_and_a_crafted_one_is_refused_by_the_cli(legit: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from netcost.model_io.importers.graph_trace import pt2_code_payloads

    assert pt2_code_payloads(str(legit)) == []
    assert main(["summary", str(legit), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["params"] == 4 * 3 + 3
    marker = tmp_path / "ran"
    bad = craft(legit, tmp_path / "bad.pt2", marker, "weights")
    assert main(["summary", str(bad)]) == 2  # in the worker, as any open
    err = capsys.readouterr().err
    assert "bad.pt2 holds pickled weights (fc.weight)" in err and "--trust-pickle" in err
    assert not marker.exists()
