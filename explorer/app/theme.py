"""Light and dark themes: Qt's Fusion style with a palette, and the graph's background.

The graph's node and edge colours come from the one style table (explorer.graph.style);
pastel fills with dark text read on both backgrounds, so only the canvas changes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")
CANVAS = {"light": "#fbfbfb", "dark": "#23252a"}
# Data-flow edges: the style table's dark grey is lost on the dark canvas (1.3:1).
DATA_INK = {"light": None, "dark": "#a9afb9"}

_DARK = {
    QPalette.Window: "#2d2f34", QPalette.WindowText: "#e6e6e6", QPalette.Base: "#1f2125",
    QPalette.AlternateBase: "#2a2c31", QPalette.ToolTipBase: "#2d2f34",
    QPalette.ToolTipText: "#e6e6e6", QPalette.Text: "#e6e6e6", QPalette.Button: "#34373d",
    QPalette.ButtonText: "#e6e6e6", QPalette.BrightText: "#ff6b6b",
    QPalette.Highlight: "#3d7bd9", QPalette.HighlightedText: "#ffffff",
    QPalette.Link: "#7fb2ff", QPalette.PlaceholderText: "#8a8f98",
}


def effective(name: str) -> str:
    """'system' resolves to what the desktop asks for."""
    if name in ("light", "dark"):
        return name
    app = QApplication.instance()
    dark = app is not None and app.styleHints().colorScheme() == Qt.ColorScheme.Dark
    return "dark" if dark else "light"


def apply_theme(name: str) -> str:
    """Apply ``name`` to the whole application; returns the theme in effect."""
    app = QApplication.instance()
    theme = effective(name)
    app.setStyle("Fusion")  # the platform styles ignore a dark palette
    palette = app.style().standardPalette()
    if theme == "dark":
        for role, colour in _DARK.items():
            palette.setColor(role, QColor(colour))
        for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
            palette.setColor(QPalette.Disabled, role, QColor("#80848c"))
    app.setPalette(palette)
    # Fusion outlines an unticked box in the window colour darkened: invisible on the
    # dark palette (QA: "dark theme's unticked checkboxes nearly invisible")
    app.setStyleSheet(DARK_INDICATORS if theme == "dark" else "")
    return theme


DARK_INDICATORS = ("QCheckBox::indicator:unchecked, QAbstractItemView::indicator:unchecked "
                   "{ border: 1px solid #a9afb9; border-radius: 2px; background: #1f2125; "
                   "width: 12px; height: 12px; }")
