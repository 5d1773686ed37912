"""Help ▸ Keyboard shortcuts, Help ▸ Conventions and Help ▸ About.

Nothing here is a hand-kept copy: the shortcut list is read from the window's actions (menus, then the views'
shortcuts), the conventions from `costing.conventions` (docs/conventions.md's table is checked against the same
text), the versions from the installed packages (`netcost.model_io.versions`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QKeySequence, QShortcut, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from netcost.costing.conventions import CONVENTIONS, ELEMENTWISE_RULES
from netcost.model_io.versions import library_versions, netcost_version

_NATIVE = QKeySequence.SequenceFormat.NativeText


@dataclass(frozen=True)
class ShortcutRow:
    where: str  # the menu ("Edit") or view ("Diagram") it belongs to
    what: str
    keys: str  # every key sequence that triggers it, ", "-separated


def _keys(sequences: list[QKeySequence]) -> str:
    return ", ".join(k.toString(_NATIVE) for k in sequences if not k.isEmpty())


def _menu_rows(menu: QMenu, where: str, seen: set[int]) -> list[ShortcutRow]:
    rows: list[ShortcutRow] = []
    for act in menu.actions():
        if act.menu() is not None:
            rows += _menu_rows(act.menu(), where, seen)
        elif not act.isSeparator() and id(act) not in seen:
            seen.add(id(act))
            keys = _keys(act.shortcuts())
            if keys:
                rows.append(ShortcutRow(where, act.text().replace("&", "").rstrip("…"), keys))
    return rows


def shortcut_rows(window: QMainWindow) -> list[ShortcutRow]:
    """Every shortcut the window answers to, as it is bound now: the menus' actions in menu order, then the
    actions, buttons and shortcuts of the views (those carry a `whatsThis` of the form "View: what it does")."""
    seen: set[int] = set()
    rows: list[ShortcutRow] = []
    for top in window.menuBar().actions():
        if top.menu() is not None:
            rows += _menu_rows(top.menu(), top.text().replace("&", ""), seen)
    for act in window.findChildren(QAction):
        keys = _keys(act.shortcuts())
        if keys and id(act) not in seen and act.text():
            seen.add(id(act))
            rows.append(ShortcutRow("Views", act.text().replace("&", "").rstrip("…"), keys))
    for obj in [*window.findChildren(QShortcut), *window.findChildren(QAbstractButton)]:
        key = obj.key() if isinstance(obj, QShortcut) else obj.shortcut()
        if key.isEmpty() or not obj.whatsThis():
            continue
        where, _, what = obj.whatsThis().partition(": ")
        rows.append(ShortcutRow(where, what or where, key.toString(_NATIVE)))
    return rows


def _close_buttons(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    return buttons


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard shortcuts: a table built from the window's actions when it opens."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = shortcut_rows(window)
        self.table = QTableWidget(len(self.rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Where", "What", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for r, row in enumerate(self.rows):
            for c, text in enumerate((row.where, row.what, row.keys)):
                self.table.setItem(r, c, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(_close_buttons(self))
        self.resize(620, 560)


def conventions_html() -> str:
    """What each counting convention counts, with its formula, from `netcost.costing.conventions`."""
    rows = "".join(
        f"<tr><td><b>{html.escape(c.label)}</b><br><code>{html.escape(c.key)}</code></td>"
        f"<td>{html.escape(c.counts.replace('`', ''))}</td></tr>" for c in CONVENTIONS.values())
    return ("<p>NetCost computes one set of per-layer records and derives every convention from them, so each "
            "number on screen names its convention (Model ▸ Convention chooses the one shown).</p>"
            f"<table border='1' cellspacing='0' cellpadding='4'><tr><th>Convention</th><th>What it counts</th>"
            f"</tr>{rows}</table><p>{html.escape(ELEMENTWISE_RULES)}</p>")


class ConventionsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conventionsDialog")
        self.setWindowTitle("Counting conventions")
        self.text = QTextBrowser(self)
        self.text.setHtml(conventions_html())
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(_close_buttons(self))
        self.resize(680, 560)


def about_text() -> str:
    lines = [f"<h3>NetCost {html.escape(netcost_version())}</h3>",
             "<p>Where the parameters and compute of a neural network live: per-layer costs, dataflow diagrams, "
             "charts, latency estimates and reports.</p><table>"]
    lines += [f"<tr><td>{html.escape(k)}</td><td>&nbsp;{html.escape(v)}</td></tr>"
              for k, v in about_versions().items()]
    return "".join(lines) + "</table>"


def about_versions() -> dict[str, str]:
    """NetCost's, the libraries' and the Qt it runs on (the Qt library's own, beside the binding's)."""
    import PySide6
    from PySide6 import QtCore

    versions = {"NetCost": netcost_version(), **library_versions()}
    # the binding may be installed as PySide6 or as its parts (PySide6_Essentials): ask the module itself
    versions["PySide6 (Qt for Python)"] = PySide6.__version__
    versions["Qt"] = QtCore.qVersion()
    return versions


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About NetCost")
        self.label = QLabel(about_text(), self)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        lay.addWidget(_close_buttons(self))
        self.setMinimumWidth(380)


def user_guide_path() -> Path:
    """The README beside the packages (a checkout or an editable install); the reference is in docs/ beside it."""
    return Path(__file__).resolve().parents[2] / "README.md"


class UserGuideDialog(QDialog):
    """Help ▸ NetCost help (F1): the README, rendered, whose links open the docs/ pages in the same browser; where
    it is not installed, where to read it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("userGuideDialog")
        self.setWindowTitle("NetCost help")
        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(True)  # web links go to the browser; relative ones (docs/*.md) open here
        self.text.setSearchPaths([str(user_guide_path().parent)])  # its screenshots, wherever the app started
        if user_guide_path().is_file():  # a source: relative links and images resolve against the README's folder
            self.text.setSource(QUrl.fromLocalFile(str(user_guide_path())),
                                QTextDocument.ResourceType.MarkdownResource)
        else:
            self.text.setPlainText("The user guide (README.md and docs/) is not installed with this copy of NetCost; "
                                   "Help ▸ Keyboard shortcuts and Help ▸ Conventions are.")
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(_close_buttons(self))
        self.resize(820, 620)
