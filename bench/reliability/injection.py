"""Files that try to run code: each payload creates a marker file when it runs, so a marker = an injection executed.

  - crafted `.pt2` archives (pickled weights, an opaque constant, pickled sample inputs; tests/model_io's `craft`)
    opened with `summary`, `export-torch` and `check`, and in the window's loader, without --trust-pickle;
  - a graph file whose `source.ref` names a hostile `.py`: opened, and edited with `--set` before its opaque node
    (which re-traces) without --trust-source, in the CLI and in the window (its question declined);
  - graph files whose strings reach `export-torch`'s generated code (dtype, memory_format, names, scopes, labels,
    the graph's name, choice arguments): the exported file is run; it must not run the payload, and code NetCost
    writes must at least compile.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from .common import ROOT, Count, Tally, env, judge_cli, run_cli

FIXTURES = ROOT / "tests" / "fixtures" / "models"


def _marker_check(tally: Tally, marker: Path, what: str) -> bool:
    if marker.exists():
        tally.fail(Count.INJECTED, what)
        marker.unlink()
        return True
    return False


def _cli_case(tally: Tally, marker: Path, what: str, args: list[str], expect_refusal: bool = True) -> None:
    run = run_cli(args, 180)
    outcome = judge_cli(tally, what, run, "table")
    injected = _marker_check(tally, marker, f"{what}: the payload ran")
    if outcome == "ok" and expect_refusal:
        tally.fail(Count.WRONG, f"{what}: accepted without consent")
        outcome = None
    tally.case("failed" if injected or outcome is None else outcome)


def _window_load(ref: str, timeout: float = 60) -> str:
    from PySide6.QtCore import QEventLoop, QTimer

    from netcost.gui.document.model_loader import ModelLoader
    from netcost.model_io.worker.resolve import LoadOptions

    loader = ModelLoader(warm=False)
    result: list[str] = []
    loop = QEventLoop()
    loader.loaded.connect(lambda *_: (result.append("ok"), loop.quit()))
    loader.failed.connect(lambda _ref, m: (result.append("refused: " + m), loop.quit()))
    QTimer.singleShot(int(timeout * 1000), loop.quit)
    loader.load(ref, LoadOptions(timeout=timeout))
    loop.exec()
    loader.cancel()
    loader.deleteLater()
    return result[0] if result else "hang"


# ---- crafted .pt2 ---------------------------------------------------------------------------------------------
def pt2_cases(tally: Tally, folder: Path) -> None:
    import torch

    from tests.model_io.test_pt2_trust import VARIANTS, Small, craft

    legit = folder / "small.pt2"
    torch.export.save(torch.export.export(Small(), (torch.zeros(2, 4),)), str(legit))
    marker = folder / "pt2-ran"
    for variant in VARIANTS:
        bad = craft(legit, folder / f"bad-{variant}.pt2", marker, variant)
        for args in (["summary", str(bad)], ["export-torch", str(bad), "-o", str(folder / "x.py")],
                     ["check", str(bad), "--max-params", "1G"]):
            _cli_case(tally, marker, f".pt2 ({variant}) {args[0]}", args)
        got = _window_load(str(bad))
        injected = _marker_check(tally, marker, f".pt2 ({variant}) in the window: the payload ran")
        if got == "ok":
            tally.fail(Count.WRONG, f".pt2 ({variant}) in the window: loaded without consent")
        elif got == "hang":
            tally.fail(Count.HANG, f".pt2 ({variant}) in the window: no answer")
        tally.case("refused" if got.startswith("refused") and not injected else "failed")


# ---- a graph file's source reference ------------------------------------------------------------------------
def source_cases(tally: Tally, folder: Path) -> None:
    from netcost.costing.graph import Graph
    from netcost.model_io.files.graph_file import save_graph
    from netcost.model_io.worker.resolve import load_graph_ref

    traced: Graph = load_graph_ref(f"{FIXTURES / 'opaque_fft.py'}:Net")
    marker = folder / "source-ran"
    evil = folder / "evil_model.py"
    evil.write_text(f"open({str(marker)!r}, 'w').write('ran')\n" + (FIXTURES / "opaque_fft.py").read_text())
    path = folder / "saved_model.json"
    save_graph(path, replace(traced, source={**traced.source, "ref": f"{evil}:Net"}))
    edit = ["--set", "conv.out_channels=8"]  # before the opaque FFT rows: needs a new trace
    for args, refusal in ((["summary", str(path)], False), (["summary", str(path), "--format", "json"], False),
                          (["summary", str(path), *edit], True),
                          (["export-torch", str(path), *edit, "-o", str(folder / "x.py")], True),
                          (["check", str(path), *edit, "--max-params", "1G"], True),
                          (["compare", str(path), *edit], True)):
        _cli_case(tally, marker, f"source.ref {' '.join(a for a in args[:1] + args[2:] if '/' not in a)}", args,
                  refusal)
    window_edit(tally, path, marker)


def window_edit(tally: Tally, path: Path, marker: Path) -> None:
    """Open the file in the window and edit the conv (before the opaque rows); decline the question."""
    from PySide6.QtWidgets import QApplication

    from netcost.gui.app.main_window import MainWindow
    from netcost.gui.table.layer_table_model import ARGS

    w = MainWindow(autosave_dir=path.parent / "recovery")
    asked: list[str] = []
    w.ask_trust_source = lambda ref: asked.append(ref) is not None  # type: ignore[method-assign] - declines
    w.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    try:
        opened = w.open_reference(str(path))
        while w.file_job is not None:  # every file opens on a thread
            QApplication.processEvents()
            time.sleep(0.01)
        opened = opened and w.document.path == path
        injected = _marker_check(tally, marker, "source.ref opened in the window: the model ran")
        row = w.document.row_of("conv")
        model = w.table.table_model
        model.setData(model.index(row, ARGS), "out_channels=8, kernel_size=3")
        end = time.monotonic() + 8  # a re-trace, had it started, would have run the file by then
        while time.monotonic() < end and not marker.exists():
            QApplication.processEvents()
            time.sleep(0.02)
        injected = _marker_check(tally, marker, "source.ref edited in the window (question declined): the model "
                                                "ran") or injected
        if not opened:
            tally.fail(Count.WRONG, "source.ref: the window could not open the graph file")
        tally.case("refused (asked, declined)" if asked and not injected and opened else "failed")
    finally:
        w.document.undo_stack.setClean()
        w.close()
        w.deleteLater()


# ---- strings into export-torch's code ------------------------------------------------------------------------
def _payload(marker: Path) -> str:
    return f"__import__('os').system('touch {marker}')"


def export_documents(marker: Path) -> dict[str, dict]:
    code = _payload(marker)
    x = [{"name": "x", "shape": [1, 4]}]
    base = {"format": "netcost.graph/1", "inputs": x}
    return {
        "parameter dtype": {**base, "nodes": [
            {"type": "parameter", "name": "p", "inputs": [], "shape": [4], "dtype": f"float32); {code}; (torch"},
            {"type": "add", "name": "a", "inputs": ["x", "p"]}]},
        "buffer dtype": {**base, "nodes": [
            {"type": "buffer", "name": "b", "inputs": [], "shape": [4], "dtype": f"float32\n{code}\n#"},
            {"type": "add", "name": "a", "inputs": ["x", "b"]}]},
        "_to_copy dtype": {**base, "nodes": [{"type": "_to_copy", "name": "c", "dtype": f"float16 if {code} else 1"}]},
        "contiguous memory_format": {**base, "nodes": [
            {"type": "contiguous", "name": "c", "memory_format": f"contiguous_format if {code} else 1"}]},
        "node name": {**base, "nodes": [{"type": "Linear", "name": f"fc\n{code}\n", "out_features": 2}]},
        "graph name": {**base, "name": f'"""\n{code}\n"""', "nodes": [{"type": "ReLU", "name": "r"}]},
        "scope and label": {**base, "nodes": [{"type": "ReLU", "name": "r", "scope": f"s\n{code}\n",
                                               "label": f"')\n{code}\n('"}]},
        "choice argument": {**base, "inputs": [{"name": "x", "shape": [1, 3, 8, 8]}], "nodes": [
            {"type": "Conv2d", "name": "c", "out_channels": 2, "kernel_size": 3, "padding_mode": f"zeros' + {code}"}]},
        "gelu approximate": {**base, "nodes": [{"type": "gelu", "name": "g", "approximate": f"none' + {code} + '"}]},
        "input name": {**base, "inputs": [{"name": f"x=({code})", "shape": [1, 4]}], "nodes": [
            {"type": "ReLU", "name": "r"}]},
        "scopes path": {**base, "scopes": [{"path": f"a\n{code}", "type": f"T\n{code}"}],
                        "nodes": [{"type": "ReLU", "name": "r", "scope": f"a\n{code}"}]},
        "overload": {**base, "nodes": [{"type": "relu", "name": "r", "_overload": f"default({code})#"}]},
    }


def export_cases(tally: Tally, folder: Path) -> None:
    marker = folder / "export-ran"
    for name, doc in export_documents(marker).items():
        path = folder / f"export-{name.replace(' ', '-')}.json"
        path.write_text(json.dumps(doc))
        out = folder / f"export-{name.replace(' ', '-')}.py"
        out.unlink(missing_ok=True)
        what = f"export-torch ({name})"
        run = run_cli(["export-torch", str(path), "-o", str(out)], 120)
        outcome = judge_cli(tally, what, run, "table")
        if outcome == "ok" and out.exists():
            ran = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, timeout=120,
                                 cwd=str(folder), env=env())
            if "SyntaxError" in ran.stderr:
                tally.fail(Count.WRONG, f"{what}: the exported code does not compile")
                outcome = None
        injected = _marker_check(tally, marker, f"{what}: running the exported code ran the payload")
        tally.case("failed" if injected or outcome is None else outcome)


def run(folder: Path) -> Tally:
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    tally = Tally("code injection (crafted .pt2, source.ref, export-torch)")
    folder.mkdir(parents=True, exist_ok=True)
    for part in (pt2_cases, source_cases, export_cases):
        try:
            part(tally, folder)
        except Exception as e:  # noqa: BLE001 - a family that cannot run is a crash of the run, said so
            tally.case("failed")
            tally.fail(Count.CRASH, f"{part.__name__}: {type(e).__name__}: {str(e)[:160]}")
    return tally
