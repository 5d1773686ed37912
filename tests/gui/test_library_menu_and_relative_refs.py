"""File ▸ Open Built-in lists a model library installed while the app runs, without a restart; a relative file
reference opened in the window is the current folder's (as on the command line)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from netcost.gui.app.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:
    w = MainWindow(autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(w)
    w.show()
    return w


def _library_entries(w: MainWindow) -> list[str]:
    return [a.objectName() for a in w.zoo_menu.actions() if a.objectName().startswith("openLibrary_")]


def test_a_library_installed_while_running_appears_when_the_menu_opens(
        window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = _library_entries(window)
    if "openLibrary_torchvision" in before:
        pytest.skip("torchvision is installed here already")
    (site / "torchvision").mkdir()
    (site / "torchvision" / "__init__.py").write_text("", encoding="utf-8")  # `pip install torchvision`, now
    window.zoo_menu.aboutToShow.emit()
    after = _library_entries(window)
    assert "openLibrary_torchvision" in after and after.count("openLibrary_torchvision") == 1
    window.zoo_menu.aboutToShow.emit()  # opened again: not listed twice
    assert _library_entries(window) == after
    (site / "torchvision" / "__init__.py").unlink()
    (site / "torchvision").rmdir()
    sys.modules.pop("torchvision", None)
    window.zoo_menu.aboutToShow.emit()  # uninstalled: gone again
    assert _library_entries(window) == before


def test_a_relative_hf_path_opened_in_the_window_is_the_current_folder_s(
        window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    asked: list[str] = []
    monkeypatch.setattr(window.loader, "load", lambda ref, opts=None: asked.append(ref))
    window.open_reference("hf:llama2-7b")
    window.open_reference("model.py:Net")
    assert asked == [f"hf:{tmp_path / 'llama2-7b'}", f"{tmp_path / 'model.py'}:Net"]
