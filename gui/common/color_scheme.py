"""The app's colour scheme: follow the system, or light or dark whatever the system says (View ▸ Colour scheme).

The choice is an application palette (Fusion draws every widget from it) plus Qt's colour-scheme hint, so native
dialogs agree. Every view already follows palette changes on its own: the charts and the diagram switch their
themes, the totals their delta colours, the table draws from the palette.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

SCHEMES: dict[str, str] = {"system": "Follow the &system", "light": "&Light", "dark": "&Dark"}
SETTINGS_KEY = "view/colorScheme"
_APPLIED_PROPERTY = "netcostColorScheme"


def dark_palette() -> QPalette:
    """Fusion's colours on a dark ground (the scheme Qt's own dark Fusion uses), with readable disabled text."""
    p = QPalette()
    window, base, text = QColor(45, 46, 50), QColor(30, 31, 34), QColor(230, 230, 230)
    disabled = QColor(130, 132, 138)
    highlight = QColor(42, 130, 218)
    roles = {QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
             QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: QColor(38, 39, 43),
             QPalette.ColorRole.ToolTipBase: QColor(60, 61, 66), QPalette.ColorRole.ToolTipText: text,
             QPalette.ColorRole.PlaceholderText: disabled, QPalette.ColorRole.Text: text,
             QPalette.ColorRole.Button: QColor(55, 56, 61), QPalette.ColorRole.ButtonText: text,
             QPalette.ColorRole.BrightText: QColor(255, 90, 60), QPalette.ColorRole.Link: QColor(100, 170, 240),
             QPalette.ColorRole.LinkVisited: QColor(170, 140, 240), QPalette.ColorRole.Highlight: highlight,
             QPalette.ColorRole.HighlightedText: QColor(255, 255, 255), QPalette.ColorRole.Light: QColor(75, 76, 82),
             QPalette.ColorRole.Midlight: QColor(62, 63, 68), QPalette.ColorRole.Mid: QColor(40, 41, 45),
             QPalette.ColorRole.Dark: QColor(25, 26, 28), QPalette.ColorRole.Shadow: QColor(10, 10, 10)}
    for role, color in roles.items():
        p.setColor(role, color)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor(70, 72, 78))
    return p


def saved_scheme() -> str:
    value = str(QSettings().value(SETTINGS_KEY, "system") or "system")
    return value if value in SCHEMES else "system"


def current_scheme() -> str:
    """The scheme applied in this process ("system" until one is chosen)."""
    app = QApplication.instance()
    value = app.property(_APPLIED_PROPERTY) if app is not None else None
    return str(value) if value in SCHEMES else "system"


def apply_scheme(scheme: str, remember: bool = True) -> None:
    """Switch the whole application to `scheme` ("system", "light" or "dark"); `remember` saves the choice."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown colour scheme {scheme!r} (choose {', '.join(SCHEMES)})")
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    if remember:
        QSettings().setValue(SETTINGS_KEY, scheme)
    if scheme == current_scheme():
        return
    hints = QGuiApplication.styleHints()
    if scheme == "system":
        hints.unsetColorScheme()
        app.setPalette(QPalette())  # nothing set: the platform's palette (light or dark) again
    elif scheme == "dark":
        hints.setColorScheme(Qt.ColorScheme.Dark)
        app.setPalette(dark_palette())
    else:
        hints.setColorScheme(Qt.ColorScheme.Light)
        app.setPalette(app.style().standardPalette())  # Fusion's light palette
    app.setProperty(_APPLIED_PROPERTY, scheme)
