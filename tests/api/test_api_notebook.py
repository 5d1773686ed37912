"""examples/quickstart.ipynb runs top to bottom in a real Jupyter kernel (nbclient + ipykernel, the test extra), and
its outputs hold the HTML report with its totals and an inline SVG diagram: the example can never rot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the test extra (nbclient, ipykernel) runs the notebook")
nbclient = pytest.importorskip("nbclient", reason="the test extra (nbclient, ipykernel) runs the notebook")
pytest.importorskip("ipykernel", reason="the test extra (nbclient, ipykernel) runs the notebook")

ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


def _outputs(cell) -> dict[str, str]:
    found: dict[str, str] = {}
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            found["text"] = found.get("text", "") + out["text"]
        for mime, data in out.get("data", {}).items():
            found[mime] = found.get(mime, "") + (data if isinstance(data, str) else "".join(data))
    return found


def test_quickstart_runs_in_a_kernel(tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook unexecuted"
    # the kernel runs this checkout, headless: no window may open, the figures render offscreen
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.execute()
    cells = [_outputs(c) for c in nb.cells if c.cell_type == "code"]
    html = [c["text/html"] for c in cells if "text/html" in c]
    assert len(html) == 2 and all('class="netcost-report"' in h for h in html)
    assert "TinyNet" in html[0] and "Total params" not in html[0] and "convention: <b>FLOPs</b>" in html[0]
    assert "Conv vs linear" in html[0] and "TransformerBlock" in html[1]
    svgs = [c["image/svg+xml"] for c in cells if "image/svg+xml" in c]
    assert len(svgs) == 2 and all("<svg" in s for s in svgs)  # the diagram; the two charts in one cell
    text = "".join(c.get("text", "") for c in cells)
    assert "vs TinyNet (baseline)" in text and "(apply with --rewrite ID)" in text
    assert "netcost check: FAIL TinyNet: params" in text and "largest contributors to params" in text
    assert not list(tmp_path.iterdir())  # nothing written, no window's file
