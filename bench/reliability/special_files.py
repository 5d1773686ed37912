"""FIFOs and special files where a document, a model file or a devices file is expected: one clear line, never a
hang — through every CLI command that reads a file, and in the window (project open, the model loader)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

from tests.hang_guard import Hang, no_hang

from .common import ROOT, Count, Tally, judge_cli, run_cli

GOOD = ROOT / "resources" / "layers" / "alexnet.json"


def _sparse(path: Path) -> None:
    with path.open("wb") as f:
        f.truncate(300 << 20)  # over the document limit, no disk used


def make_specials(folder: Path) -> dict[str, Path]:
    """Each kind as `<kind>/x.json` (and `<kind>/m.py` beside it, the same kind)."""
    makers: dict[str, Callable[[Path], object]] = {
        "FIFO": os.mkfifo, "/dev/zero": lambda p: p.symlink_to("/dev/zero"),
        "/dev/urandom": lambda p: p.symlink_to("/dev/urandom"), "folder": lambda p: p.mkdir(),
        "socket": lambda p: socket.socket(socket.AF_UNIX).bind(str(p)),
        "sparse 300 MiB": _sparse,
        "unreadable": lambda p: (p.write_text("{}"), p.chmod(0)),
        "dangling link": lambda p: p.symlink_to(p.parent / "gone")}
    found = {}
    for kind, make in makers.items():
        d = folder / kind.strip("/").replace("/", "-").replace(" ", "-")
        d.mkdir(parents=True)
        for name in ("x.json", "m.py", "devices.json"):
            make(d / name)
        found[kind] = d
    return found


def run(folder: Path) -> Tally:
    from PySide6.QtWidgets import QApplication

    from netcost.costing import FormatError
    from netcost.gui.document.cost_document import CostDocument
    from netcost.gui.document.model_loader import ModelLoader

    app = QApplication.instance() or QApplication([])
    tally = Tally("FIFOs and special files")
    for kind, d in make_specials(folder).items():
        x, model = d / "x.json", d / "m.py"
        config = d.parent / f"config-{d.name}"
        (config / "netcost").mkdir(parents=True)
        (config / "netcost" / "devices.json").symlink_to(d / "devices.json")
        calls = [(["summary", str(x)], "model_io"), (["summary", f"{model}:Net"], "model_io"),
                 (["check", str(x), "--max-params", "1G"], "model_io"),
                 (["export-torch", str(x)], "model_io"), (["compare", str(GOOD), str(x)], "model_io"),
                 (["report", str(x), "-o", str(folder / "r.pdf")], "gui"),
                 (["devices"], "model_io")]
        for args, module in calls:
            what = f"{kind}: {module} {args[0]}{' (devices file)' if args == ['devices'] else ''}"
            extra = {"XDG_CONFIG_HOME": str(config), "XDG_CACHE_HOME": str(config)}
            run_ = run_cli(args, 30, module=module, extra_env=extra)
            outcome = judge_cli(tally, what, run_, "table")
            if outcome == "ok" and args != ["devices"]:
                tally.fail(Count.WRONG, f"{what}: read as if it were a document")
                outcome = None
            tally.case(outcome or "failed")
        try:
            with no_hang(20, f"opening {kind} as a project"):
                try:
                    CostDocument().load_file(x)
                    tally.fail(Count.WRONG, f"{kind}: opened as a project")
                    tally.case("failed")
                except FormatError as e:
                    tally.case("refused" if "\n" not in str(e) else "failed")
        except Hang:
            tally.fail(Count.HANG, f"{kind}: the window's project open")
            tally.case("failed")
        loader = ModelLoader(warm=False)
        got: list[str] = []
        loader.failed.connect(lambda _r, m, g=got: g.append(m))
        loader.loaded.connect(lambda *_, g=got: g.append("loaded"))
        loader.load(str(x))
        end = time.monotonic() + 20
        while not got and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        if not got:
            tally.fail(Count.HANG, f"{kind}: the window's loader gave no answer in 20 s")
        elif got[0] == "loaded":
            tally.fail(Count.WRONG, f"{kind}: the window's loader loaded it")
        tally.case("refused" if got and got[0] != "loaded" else "failed")
        loader.cancel()
        loader.deleteLater()
    return tally
