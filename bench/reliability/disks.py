"""Full and read-only disks for every writer: CLI outputs (summary in each format, export-torch, rewrites, compare,
report and roofline in each image format) and the window's (Save, autosave, report and diagram exports).

Each runs against a tiny tmpfs in a private mount namespace (`unshare --user --map-root-user --mount`, as
tests/test_report_cli.py does), filled to the last byte or remounted read-only after each target was written once
("previous N"). Every writer must fail in one clear line (exit 2 / an exception or signal the window shows), leave
the previous file as it was (else data lost), and no temporary behind. Without user namespaces the family is not
run, and its line says so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.namespaces import tmpfs_in_namespace

from .common import ROOT, Count, Run, Tally, env, judge_cli

MODEL = ROOT / "resources" / "layers" / "alexnet.json"

CLI_WRITERS: list[tuple[str, list[str], str]] = [  # (what, args with {out}, module)
    *[(f"summary --format {f}", ["summary", str(MODEL), "--format", f, "-o", "{out}"], "model_io")
      for f in ("table", "csv", "json", "markdown")],
    ("export-torch", ["export-torch", str(MODEL), "-o", "{out}.py"], "model_io"),
    ("rewrites", ["rewrites", str(MODEL), "-o", "{out}"], "model_io"),
    ("compare", ["compare", str(MODEL), "--set", "conv1.out_channels=32", "-o", "{out}"], "model_io"),
    *[(f"report .{e}", ["report", str(MODEL), "-o", "{out}." + e], "gui") for e in ("pdf", "svg", "png")],
    *[(f"roofline .{e}", ["roofline", str(MODEL), "--device", "a100-40gb", "-o", "{out}." + e], "gui")
      for e in ("png", "svg", "pdf")],
]

# Runs inside the namespace: prepares the targets, fills or freezes the disk, runs every writer, prints JSON lines.
DRIVER = r"""
import json, os, subprocess, sys
from pathlib import Path
mode, mnt, writers = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
from PySide6.QtWidgets import QApplication
app = QApplication([])
from netcost.gui.document.autosave import Autosave
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report import exporters

doc = CostDocument()
doc.load_file(sys.argv[4])
targets = {}
def target(i, suffix=""):
    path = mnt / f"case{i}{suffix}"
    path.write_bytes(b"previous %d" % i)
    targets[i] = path
    return path

cli = []
for i, (what, args, module) in enumerate(writers):
    out = mnt / f"case{i}"
    args = [a.replace("{out}", str(out)) for a in args]
    target(i, Path(args[-1]).suffix)
    cli.append((i, what, args, module))
n = len(writers)
auto = Autosave(doc, mnt / "recovery", idle_ms=10**9)
doc.set_layer_arg(0, "out_channels", 32)
assert auto.save_now()
autosaved = auto.path.read_bytes()
doc.set_layer_arg(0, "out_channels", 48)
save_target = target(n, ".json")
report_target = target(n + 1, ".pdf")
diagram_target = target(n + 2, ".svg")

if mode == "full":
    f = open(mnt / "filler", "wb", buffering=0)
    try:
        while True:
            f.write(b"\0" * 4096)
    except OSError:
        pass
    try:
        f.close()
    except OSError:
        pass
    for k in range(1000):  # the inodes too
        try:
            open(mnt / f"filler{k}", "wb").close()
        except OSError:
            break
else:
    # a read-only bind mount over it (a plain remount is refused while the autosave lock is open)
    subprocess.run(["mount", "--bind", str(mnt), str(mnt)], check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", str(mnt)], check=True)

def emit(i, what, code, err, out=""):
    path = targets.get(i)
    intact = path is None or path.read_bytes() == b"previous %d" % i
    left = sorted(p.name for p in mnt.iterdir() if p.name.startswith((f"case{i}.", f".case{i}")) and p != path)
    print(json.dumps({"what": what, "code": code, "err": err, "out": out, "intact": intact, "left": left}),
          flush=True)

for i, what, args, module in cli:
    p = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=240)
    emit(i, what, p.returncode, p.stderr, p.stdout)

def in_process(i, what, fn):
    try:
        fn()
        emit(i, what, 0, "")
    except OSError as e:
        emit(i, what, 2, f"netcost: error: {e}\n")
    except exporters.ExportError as e:  # what the window shows in its message bar
        emit(i, what, 2, f"netcost: error: {e}\n")
    except Exception as e:
        emit(i, what, 1, f"Traceback: {type(e).__name__}: {e}")

in_process(n, "window Save", lambda: doc.save_file(save_target))
in_process(n + 1, "window report export .pdf", lambda: exporters.export_report(doc, report_target))
in_process(n + 2, "window diagram export .svg", lambda: exporters.export_diagram(doc, diagram_target))
messages = []
auto.failed.connect(messages.append)
ok = auto.save_now()
intact = auto.path.read_bytes() == autosaved
print(json.dumps({"what": "autosave", "code": 0 if ok else 2, "err": (f"netcost: error: {messages[0]}\n"
                  if messages else ""), "out": "", "intact": intact, "left": []}), flush=True)
doc.undo_stack.setClean()
"""


def namespaces_work() -> bool:
    return tmpfs_in_namespace()


def _judge(tally: Tally, mode: str, record: dict) -> None:
    what = f"{mode} disk: {record['what']}"
    run = Run(record["code"], record["out"], record["err"], 0.0)
    outcome = judge_cli(tally, what, run, "table")
    if outcome == "ok" and record["what"] != "autosave":
        tally.fail(Count.WRONG, f"{what}: reported success on a {mode} disk")
        outcome = None
    elif outcome == "ok":  # autosave returned True on a disk that cannot take it
        tally.fail(Count.WRONG, f"{what}: claimed to have saved")
        outcome = None
    elif record["what"] == "autosave" and not record["err"]:
        tally.fail(Count.WRONG, f"{what}: failed without a message for the window")
        outcome = None
    if not record["intact"]:
        tally.fail(Count.LOST, f"{what}: the previous file was changed or removed")
        outcome = None
    if record["left"]:
        tally.fail(Count.LOST, f"{what}: left {record['left'][:3]} behind")
        outcome = None
    tally.case(outcome or "failed")


def run(folder: Path) -> Tally:
    tally = Tally("full and read-only disks (every writer)")
    if not namespaces_work():
        tally.figures.append("no user/mount namespaces here: not run (needs unshare and a tiny tmpfs)")
        return tally
    writers = json.dumps(CLI_WRITERS)
    for mode in ("full", "read-only"):
        mnt = folder / f"mnt-{mode}"
        mnt.mkdir(parents=True)
        shell = 'mount -t tmpfs -o size=512k tmpfs "$0" && exec "$@"'
        p = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", shell, str(mnt),
                            sys.executable, "-c", DRIVER, "full" if mode == "full" else "ro", str(mnt), writers,
                            str(MODEL)], capture_output=True, text=True, timeout=900, cwd=str(ROOT), env=env())
        records = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
        for record in records:
            _judge(tally, mode, record)
        if len(records) != len(CLI_WRITERS) + 4:
            tally.case("failed")
            tally.fail(Count.CRASH, f"{mode} disk: the driver stopped after {len(records)} writers: "
                                    f"{p.stderr.strip()[-200:]!r}")
    return tally
