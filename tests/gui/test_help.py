"""Help ▸ NetCost help (F1), Keyboard shortcuts, Conventions and About; undo/redo icons; `--version`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImage, QKeySequence, QTextDocument
from PySide6.QtWidgets import QApplication, QStyle

from netcost.costing.conventions import CONVENTIONS, ELEMENTWISE_RULES
from netcost.gui.app.main_window import MainWindow
from netcost.model_io.versions import netcost_version

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet) -> MainWindow:
    w = MainWindow(autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(w)
    w.document.set_network(alexnet)
    w.show()
    return w


def _help_titles(w: MainWindow) -> list[str]:
    menu = next(a.menu() for a in w.menuBar().actions() if a.text().replace("&", "") == "Help")
    return [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]


def test_help_menu_lists_help_shortcuts_conventions_about(window: MainWindow) -> None:
    assert _help_titles(window) == ["NetCost help", "Keyboard shortcuts", "Conventions", "About NetCost"]


def test_f1_opens_the_user_guide(qtbot, window: MainWindow) -> None:
    assert QKeySequence("F1") in window.act_help.shortcuts()
    window.activateWindow()
    qtbot.keyClick(window.table, Qt.Key.Key_F1)
    guides = [d for d in QApplication.topLevelWidgets() if d.objectName() == "userGuideDialog" and d.isVisible()]
    assert guides, "F1 opened nothing"
    browser = guides[0].text
    assert "Counting conventions" in browser.toPlainText()
    # the README links the reference pages under docs/: following a link opens the page in the same browser
    href = _link_to(browser, "docs/conventions.md")
    browser.setSource(browser.source().resolved(QUrl(href)))  # what a click on it does
    assert "thop profile" in browser.toPlainText() and "GELU 8" in browser.toPlainText()
    browser.backward()
    browser.setSource(browser.source().resolved(QUrl(_link_to(browser, "docs/window.md"))))
    image = browser.loadResource(QTextDocument.ResourceType.ImageResource.value, QUrl("alexnet.png"))
    assert image, "a docs page's picture, relative to the page, did not load"


def _link_to(browser, page: str) -> str:
    block = browser.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            href = it.fragment().charFormat().anchorHref()
            if href.split("#")[0] == page:
                return href
            it += 1
        block = block.next()
    raise AssertionError(f"the user guide has no link to {page}")


def test_shortcut_list_is_generated_from_the_actions(window: MainWindow) -> None:
    dialog = window._show_dialog("shortcuts")
    table = dialog.table
    rows = {(table.item(r, 1).text(), table.item(r, 2).text()) for r in range(table.rowCount())}
    save = window.act_save.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    assert any(what == "Save" and keys.split(", ")[0] == save for what, keys in rows)
    assert any(what == "Redo" and "Ctrl+Y" in keys for what, keys in rows)
    assert any(what == "Find a layer by name or type" and keys == "Ctrl+F" for what, keys in rows)
    # a shortcut changed at run time is listed as it is bound now, not as a hand-written list says
    window.act_duplicate.setShortcut(QKeySequence("Ctrl+Alt+J"))
    again = window._show_dialog("shortcuts").table
    assert any(again.item(r, 1).text() == "Duplicate" and again.item(r, 2).text() == "Ctrl+Alt+J"
               for r in range(again.rowCount()))


def test_conventions_dialog_names_every_convention_with_its_formula(window: MainWindow) -> None:
    text = window._show_dialog("conventions").text.toPlainText()
    for conv in CONVENTIONS.values():
        assert conv.label in text
    for phrase in ("2 × MACs + bias adds + element-wise work", "FlopCounterMode", "thop profile", "fvcore",
                   "FlopCountAnalysis", "torchinfo", "ptflops", "GELU 8"):
        assert phrase in text, phrase


def test_conventions_page_table_is_the_code_s_text() -> None:
    """One source: docs/conventions.md's table says exactly what Help ▸ Conventions shows."""
    page = (ROOT / "docs" / "conventions.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)`[^|]*\| (.+?) \|[^|]*\|$", page, re.M))
    assert {k: rows.get(k) for k in CONVENTIONS} == {k: c.counts for k, c in CONVENTIONS.items()}
    assert ELEMENTWISE_RULES in " ".join(page.split())


def test_about_names_versions(window: MainWindow) -> None:
    import PySide6
    from PySide6 import QtCore

    text = window._show_dialog("about").label.text()
    assert f"NetCost {netcost_version()}" in text
    for needle in ("torch", f"{QtCore.qVersion()}<", f"{PySide6.__version__}<", f"{sys.version.split()[0]}<"):
        assert needle in text, needle
    assert "not installed</td></tr><tr><td>pyqtgraph" not in text  # PySide6 is, whatever its distribution


def _arrow_like(icon, pixmap: QStyle.StandardPixmap, window: MainWindow) -> bool:
    a = icon.pixmap(24, 24).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    b = window.style().standardIcon(pixmap).pixmap(24, 24).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    return a == b


def test_undo_redo_icons_are_not_back_and_forward_arrows(window: MainWindow) -> None:
    for act, arrow in ((window.act_undo, QStyle.StandardPixmap.SP_ArrowBack),
                       (window.act_redo, QStyle.StandardPixmap.SP_ArrowForward)):
        assert not act.icon().isNull()
        assert not _arrow_like(act.icon(), arrow, window)
    undo = window.act_undo.icon().pixmap(24, 24).toImage()
    redo = window.act_redo.icon().pixmap(24, 24).toImage()
    assert undo != redo


@pytest.mark.parametrize("argv", [["-m", "netcost", "--version"], ["-m", "netcost", "-V"]])
def test_version_option_prints_the_version(argv: list[str]) -> None:
    out = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"netcost {netcost_version()} (Python ")
    assert "torch" in out.stdout


