"""`netcost report`: headless rendering (it picks the offscreen platform itself) and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from tests.namespaces import tmpfs_in_namespace

ROOT = Path(__file__).resolve().parent.parent


def _netcost(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return subprocess.run([sys.executable, "-m", "netcost", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_png_report_without_a_display(tmp_path: Path) -> None:
    out = tmp_path / "alexnet.png"
    run = _netcost("report", "zoo:alexnet", "-o", str(out), "--width", "1200")
    assert run.returncode == 0, run.stderr
    assert _png_size(out)[0] == 1200
    assert "wrote" in run.stdout


def test_svg_and_pdf_reports(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    svg, pdf = tmp_path / "r.svg", tmp_path / "r.pdf"
    assert _netcost("report", "zoo:alexnet", "-o", str(svg), "--dark", "--metric", "params").returncode == 0
    assert "AlexNet" in svg.read_text(encoding="utf-8")
    run = _netcost("report", "zoo:alexnet", "-o", str(pdf), "--page", "letter", "--convention", "thop")
    assert run.returncode == 0, run.stderr
    reader = pypdf.PdfReader(str(pdf))
    assert f"({len(reader.pages)} pages)" in run.stdout
    text = unicodedata.normalize("NFKC", " ".join(p.extract_text() for p in reader.pages))  # "ﬂ" -> "fl"
    assert "thop flops" in " ".join(text.split())


@pytest.mark.parametrize(("args", "message"), [
    (["zoo:alexnet", "-o", "{tmp}/r.txt"], "written as .png, .svg or .pdf"),
    (["zoo:no_such_model", "-o", "{tmp}/r.png"], "no_such_model"),
    (["zoo:alexnet", "-o", "{tmp}/missing/r.pdf"], "does not exist"),
])
def test_bad_input_is_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    run = _netcost("report", *[a.format(tmp=tmp_path) for a in args])
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("netcost: error:") and message in lines[0]


def test_resnet50_report(tmp_path: Path) -> None:
    out = tmp_path / "resnet50.pdf"
    run = _netcost("report", "zoo:resnet50", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert out.read_bytes()[:5] == b"%PDF-"


def test_depth_option(tmp_path: Path) -> None:
    out = tmp_path / "r.svg"
    run = _netcost("report", "zoo:alexnet", "-o", str(out), "--depth", "1")
    assert run.returncode == 0, run.stderr
    bad = _netcost("report", "zoo:alexnet", "-o", str(out), "--depth", "-2")
    assert bad.returncode == 2 and "hierarchy depth" in bad.stderr




# a full disk: a 16 KiB tmpfs (in a private mount namespace) holding a previous report, then the new one
FULL_DISK = """
set -e
mount -t tmpfs -o size=16k tmpfs /mnt
printf old > /mnt/previous.{fmt}
cp /mnt/previous.{fmt} /mnt/r.{fmt}
set +e
"$@" -o /mnt/r.{fmt}
echo "rc=$?"
ls -A /mnt
cat /mnt/r.{fmt}
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or not tmpfs_in_namespace(),
                    reason="needs unshare and unprivileged user and mount namespaces (a tiny tmpfs)")
@pytest.mark.parametrize("fmt", ["pdf", "svg", "png"])
def test_a_report_onto_a_full_disk_fails_and_leaves_the_old_file(tmp_path: Path, fmt: str) -> None:
    model = tmp_path / "tiny.json"
    model.write_text('{"format": "netcost.layers/1", "input_shape": [4], '
                     '"layers": [{"type": "Linear", "out_features": 2}]}')
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    run = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", FULL_DISK.format(fmt=fmt),
                          "sh", sys.executable, "-m", "netcost", "report", str(model)], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=240)
    # before: exit 0, "wrote /mnt/r.pdf", and a 0-byte or cut PDF/SVG in place of the previous report
    lines = run.stdout.splitlines()
    assert "rc=2" in lines, run.stdout + run.stderr
    assert f"netcost: error: cannot write /mnt/r.{fmt}: No space left on device" in run.stderr
    # the previous report untouched ("old"), no temporary file left behind, nothing else
    assert lines[lines.index("rc=2") + 1:] == [f"previous.{fmt}", f"r.{fmt}", "old"]


def test_cli_pdf_says_what_it_is_of_and_keeps_the_title_whole(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "inception.pdf"
    run = _netcost("report", "zoo:inception_3a", "--set", "branch1.conv.out_channels=32", "-o", str(out))
    assert run.returncode == 0, run.stderr
    first = " ".join(unicodedata.normalize("NFKC", pypdf.PdfReader(str(out)).pages[0].extract_text()).split())
    assert first.startswith("Inception-v1 block 3a (naive branches, by hand), edited")  # wrapped, never cut
    assert "with 1 change applied: 1. --set branch1.conv.out_channels=32." in first
    assert "Baseline: none pinned" in first


def test_orientation_and_baseline_options(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "r.pdf"
    run = _netcost("report", "zoo:alexnet", "--set", "conv1.out_channels=32", "--baseline", "zoo:alexnet",
                   "--orientation", "left-right", "-o", str(out))
    assert run.returncode == 0, run.stderr
    first = " ".join(unicodedata.normalize("NFKC", pypdf.PdfReader(str(out)).pages[0].extract_text()).split())
    assert "Baseline: zoo:alexnet as loaded; the Δ columns show the change since then." in first
    assert "Δ: change since the pinned baseline" in first
    assert "Parameters 60.9 M 60,934,472 -330 K (-0.5 %)" in first  # conv1: 64 → 32 channels
    # another model (the same network traced from its nn.Module): rows matched by name
    other = _netcost("report", "zoo:alexnet", "--baseline", "zoo:alexnet-module", "-o", str(out))
    assert other.returncode == 0, other.stderr
    first = " ".join(unicodedata.normalize("NFKC", pypdf.PdfReader(str(out)).pages[0].extract_text()).split())
    assert "Baseline: zoo:alexnet-module as loaded" in first and "Parameters 61.3 M 61,264,904 ±0" in first
    bad = _netcost("report", "zoo:alexnet", "--orientation", "sideways", "-o", str(out))
    assert bad.returncode == 2 and "--orientation" in bad.stderr


def test_report_orientations_are_the_diagrams() -> None:
    from netcost.gui.diagram.layout import Orientation
    from netcost.gui.report.report_cli import ORIENTATIONS

    assert tuple(o.value for o in Orientation) == ORIENTATIONS


def test_train_adds_the_training_section(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    pdf = tmp_path / "r.pdf"
    options = ("--optimizer", "sgd", "--precision", "bf16-mixed", "--device", "t4")
    run = _netcost("report", "zoo:alexnet", "-o", str(pdf), "--train", *options)
    assert run.returncode == 0, run.stderr
    text = unicodedata.normalize("NFKC", " ".join(p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages))
    text = " ".join(text.split())  # ("ﬁ" -> "fi"; the extractor puts tabs between words)
    train = _netcost("train", "zoo:alexnet", "--format", "json", *options)
    cli = json.loads(train.stdout)["totals"]["training"]
    assert "Training step" in text and "sgd, bf16-mixed, batch 1" in text
    assert f"fits on t4 up to batch {cli['max_batch']:,}" in text
    assert f"{cli['peak_bytes']:,}" in text
    bad = _netcost("report", "zoo:alexnet", "-o", str(pdf), "--train", "--freeze", "nope")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "nope" in bad.stderr
