"""`plain_tip`: a tooltip that shows user text as written.

Qt renders a tooltip as HTML when its text merely looks like markup (`Qt.mightBeRichText`), so a layer named
`<b>` or a model path with `<...>` would turn bold or vanish. Such text is escaped into explicit rich text, line
breaks kept; anything else is returned as it is (plain tooltips stay plain).
"""

from __future__ import annotations

from html import escape

from PySide6.QtGui import Qt


def plain_tip(text: str) -> str:
    if not Qt.mightBeRichText(text):
        return text
    return "<p style='white-space:pre-wrap'>" + escape(text).replace("\n", "<br>") + "</p>"
