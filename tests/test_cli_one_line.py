"""Hostile input to the `netcost` command line is one `netcost: error:` line and exit status 2, never a traceback
(issue 23 item 8: eleven causes that each printed one). Run as a user runs it, in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.namespaces import tmpfs_in_namespace

ROOT = Path(__file__).resolve().parent.parent
GRAPH = {"format": "netcost.graph/1", "inputs": [{"name": "x", "shape": [1, 3], "dtype": "float32"}]}
LINEAR = {"type": "Linear", "name": "fc", "in_features": 3, "out_features": 3}


def _graph(tmp: Path, nodes: list, text: Callable[[str], str] = lambda t: t) -> str:
    path = tmp / "g.json"
    path.write_text(text(json.dumps({**GRAPH, "nodes": nodes})))
    return str(path)


def _devices(tmp: Path, text: str) -> dict[str, str]:
    (tmp / "netcost").mkdir()
    (tmp / "netcost" / "devices.json").write_text(text)
    return {"XDG_CONFIG_HOME": str(tmp)}




READ_ONLY = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
             'mount -t tmpfs -o ro,size=16k tmpfs /mnt && exec "$@"', "sh"]
DEEP = "[" * 900 + "]" * 900

# each: (id, a function of a temporary folder giving (argv, extra environment), the words the line must hold)
CASES = [
    ("tagged-inf-arg", lambda t: (["summary", _graph(t, [{"type": "LeakyReLU", "name": "act", "args": {
        "negative_slope": {"float": "inf"}}}])], {}), "negative_slope=inf must be a finite number"),
    ("900-deep-list", lambda t: (["summary", _graph(t, [{"type": "LeakyReLU", "name": "act", "negative_slope": "D"}],
                                                    lambda s: s.replace('"D"', DEEP))], {}), "nested deeper"),
    ("401-digit-float-arg", lambda t: (["summary", _graph(t, [{"type": "LeakyReLU", "name": "act",
                                                               "negative_slope": "D"}],
                                                          lambda s: s.replace('"D"', "9" * 401))], {}),
     "negative_slope=<a 401-digit integer> must be a finite number"),
    ("5000-digit-output-index", lambda t: (["summary", _graph(t, [LINEAR, {"type": "ReLU", "name": "act",
                                                                           "inputs": ["fc:" + "9" * 5000]}])], {}),
     "'fc' has 1 output"),
    ("junk-overload", lambda t: (["export-torch", _graph(t, [{"type": "add", "name": "plus", "inputs": ["x", "x"],
                                                              "_overload": "junk!!"}]), "-o", str(t / "m.py")], {}),
     "_overload='junk!!' is not an overload of aten.add"),
    ("file-name-too-long", lambda t: (["summary", str(t / ("a" * 300 + ".json"))], {}), "File name too long"),
    ("max-params-1e400", lambda t: (["check", _graph(t, [LINEAR]), "--max-params", "1e400"], {}),
     "'1e400' is larger than any budget"),
    ("deeply-nested-set", lambda t: (["summary", _graph(t, [LINEAR]), "--set",
                                      "fc.out_features=" + "[" * 5000 + "]" * 5000], {}), "nested too deeply"),
    ("report-into-read-only-folder", lambda t: ([*READ_ONLY, "report", _graph(t, [LINEAR]), "-o", "/mnt/r.pdf"], {}),
     "cannot write /mnt/r.pdf: Read-only file system"),
    ("roofline-into-read-only-folder", lambda t: ([*READ_ONLY, "roofline", _graph(t, [LINEAR]), "--device", "t4",
                                                   "-o", "/mnt/r.svg"], {}),
     "cannot write /mnt/r.svg: Read-only file system"),
    ("devices-5000-digit-number", lambda t: (["devices"], _devices(
        t, '{"devices": [{"name": "d", "peak_flops": {"fp32": ' + "9" * 5000 + '}, "memory_bandwidth": 1}]}')),
     "devices.json: not valid JSON"),
    ("devices-400-digit-number", lambda t: (["devices"], _devices(
        t, '{"devices": [{"name": "d", "peak_flops": {"fp32": ' + "9" * 400 + '}, "memory_bandwidth": 1}]}')),
     "peak_flops.fp32: expected a positive number of FLOP/s, got a 400-digit integer"),
    ("devices-100000-deep", lambda t: (["devices"], _devices(t, '{"devices": ' + "[" * 100_000 + "]" * 100_000 + "}")),
     "devices.json: not valid JSON"),
]


@pytest.mark.parametrize("make,words", [pytest.param(m, w, id=i) for i, m, w in CASES])
def test_hostile_input_is_one_line_and_exit_2(tmp_path: Path, make: Callable, words: str) -> None:
    argv, env = make(tmp_path)
    if argv[0] == "unshare":
        if not sys.platform.startswith("linux") or not tmpfs_in_namespace("ro,size=16k"):
            pytest.skip("needs unshare and unprivileged user and mount namespaces (a read-only tmpfs)")
        i = argv.index("sh", 6) + 1
        argv = [*argv[:i], sys.executable, "-m", "netcost", *argv[i:]]
    else:
        argv = [sys.executable, "-m", "netcost", *argv]
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    run = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=240,
                         env={**environment, "QT_QPA_PLATFORM": "offscreen", **env})
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 2, run.stderr[-3000:]
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("netcost: error: "), run.stderr[-3000:]
    assert words in lines[0]
    assert len(lines[0]) < 400  # one readable line, not a 5,000-digit echo
