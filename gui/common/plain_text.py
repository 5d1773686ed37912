"""User text as the window shows it: `plain_tip` for tooltips, `screen_text` for messages and dialogs.

Qt renders a tooltip as HTML when its text merely looks like markup (`Qt.mightBeRichText`), so a layer named
`<b>` or a model path with `<...>` would turn bold or vanish. Such text is escaped into explicit rich text, line
breaks kept; anything else is returned as it is (plain tooltips stay plain).
"""

from __future__ import annotations

from html import escape

from PySide6.QtGui import Qt
from PySide6.QtWidgets import QLabel, QWidget

from netcost.model_io.escape import printable_lines


def plain_tip(text: str) -> str:
    if not Qt.mightBeRichText(text):
        return text
    return "<p style='white-space:pre-wrap'>" + escape(text).replace("\n", "<br>") + "</p>"


def screen_text(text: str) -> str:
    """A message (a model's error, a worker's traceback tail, a file's name) with its control, bidi and invisible
    characters shown escaped (`\\x1b`) and its line breaks kept, as the CLI prints it: what a model or a file put
    there is data, never a terminal sequence or a reordering of the text around it."""
    return printable_lines(text)


def plain_label(parent: QWidget, name: str) -> QLabel:
    """A wrapped label that shows its text as typed (no rich text: names from models may hold '<'), with an object
    name for tests and style sheets."""
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
