"""File › Open Built-in offers the installed model libraries; the torchvision/timm browser lists their models
(from a separate process: the app never imports torch) with a search box, and opens `library:NAME`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from netcost.gui.app import library_browser_dialog as lbd
from netcost.gui.app.library_browser_dialog import LibraryBrowserDialog

NAMES = ["resnet18", "resnet50", "vit_b_16", "wide_resnet50_2"]


def _lister(names: object, code: int = 0) -> list[str]:
    return [sys.executable, "-c", f"import json, sys; print(json.dumps({json.dumps(names)!s})); sys.exit({code})"]


@pytest.fixture(autouse=True)
def fresh_catalogues(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lbd, "_NAMES", {})


def test_the_browser_lists_searches_and_opens_a_reference(qtbot) -> None:
    dialog = LibraryBrowserDialog("torchvision", command=_lister(NAMES))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.list.count() == len(NAMES), timeout=15000)
    assert dialog.status.text() == "4 of 4 models"
    dialog.search.setText("resnet 50")
    shown = [dialog.list.item(i).text() for i in range(dialog.list.count()) if not dialog.list.item(i).isHidden()]
    assert shown == ["resnet50", "wide_resnet50_2"] and dialog.status.text() == "2 of 4 models"
    assert dialog.reference() == "torchvision:resnet50" and dialog.ok_button.isEnabled()
    dialog.search.setText("nothing like this")
    assert dialog.reference() == "" and not dialog.ok_button.isEnabled()


def test_the_names_are_listed_once_per_session(qtbot) -> None:
    first = LibraryBrowserDialog("timm", command=_lister(NAMES))
    qtbot.addWidget(first)
    qtbot.waitUntil(lambda: first.list.count() == len(NAMES), timeout=15000)
    second = LibraryBrowserDialog("timm", command=_lister([], code=1))  # would fail if it ran
    qtbot.addWidget(second)
    assert second.list.count() == len(NAMES)


def test_a_failed_listing_says_why(qtbot) -> None:
    command = [sys.executable, "-c", "import sys; sys.exit('timm is broken here')"]
    dialog = LibraryBrowserDialog("timm", command=command)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "Could not list" in dialog.status.text(), timeout=15000)
    assert dialog.status.text() == "Could not list the timm models: timm is broken here"
    assert not dialog.ok_button.isEnabled()


def test_the_menu_offers_only_installed_libraries(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import netcost.gui.app.main_window as mw

    monkeypatch.setattr(mw, "VIEW_FACTORIES", [])
    monkeypatch.setattr(lbd, "library_installed", lambda library: library in ("torchvision", "transformers"))
    window = mw.MainWindow(autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(window)
    titles = [a.text() for a in window.zoo_menu.actions()]
    assert "torchvision models…" in titles and "Hugging Face config…" in titles and "timm models…" not in titles
    opened: list[str] = []
    monkeypatch.setattr(window, "open_reference", lambda ref, opts=None: opened.append(ref) or True)
    monkeypatch.setattr(window, "ask_hf_config", lambda: str(tmp_path / "config.json"))
    next(a for a in window.zoo_menu.actions() if a.text() == "Hugging Face config…").trigger()
    assert opened == [f"hf:{tmp_path / 'config.json'}"]
