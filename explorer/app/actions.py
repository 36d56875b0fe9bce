"""The menus as one table: menu, text, shortcut, and the window's method it calls.

Menus stay where people look for them (File, View, Model, Device, Help); the
shortcuts are the conventional ones (Ctrl+W closes, Alt+Left goes back), and Help ▸
Keyboard shortcuts lists this very table."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QAction, QKeySequence

SEPARATOR = "-"
# Submenus the window fills itself (their content changes at run time).
RECENT, EXPORT_IMAGE, THEME, DOCKS, DEVICES, SAMPLES, WEIGHTS = (
    "@recent", "@export-image", "@theme", "@docks", "@devices", "@samples", "@weights")


@dataclass(frozen=True)
class Entry:
    menu: str
    text: str
    slot: str = ""  # a method of the window, or of one of its parts ("inspector.show_…")
    shortcut: Any = None  # a string or a QKeySequence.StandardKey
    arg: Any = None  # passed to the slot when given


MENUS: tuple[Entry, ...] = (
    Entry("&File", "Open model file…", "ask_model_file", QKeySequence.Open),
    Entry("&File", "Open recent", RECENT),
    Entry("&File", "Open image…", "ask_image", "Ctrl+I"),
    Entry("&File", "Open sample image", SAMPLES),
    Entry("&File", "Paste image", "paste_image", QKeySequence.Paste),
    Entry("&File", SEPARATOR),
    Entry("&File", "Load weights…", "ask_weights", "Ctrl+Shift+O"),
    Entry("&File", "Save weights…", "ask_save_weights"),
    Entry("&File", SEPARATOR),
    Entry("&File", "Export…", "ask_export", "Ctrl+E"),
    Entry("&File", "Export image results", EXPORT_IMAGE),
    Entry("&File", SEPARATOR),
    Entry("&File", "Close window", "close", QKeySequence.Close),
    Entry("&File", "Quit", "close", QKeySequence.Quit),
    Entry("&View", "Back", "go_back", "Alt+Left"),
    Entry("&View", "Forward", "go_forward", "Alt+Right"),
    Entry("&View", SEPARATOR),
    Entry("&View", "Zoom in", "zoom_in", QKeySequence.ZoomIn),
    Entry("&View", "Zoom out", "zoom_out", QKeySequence.ZoomOut),
    Entry("&View", "Fit to window", "fit", "Ctrl+0"),
    Entry("&View", SEPARATOR),
    Entry("&View", "Expand all", "expand_all", "Ctrl+Shift+Down"),
    Entry("&View", "Collapse all", "collapse_all", "Ctrl+Shift+Up"),
    Entry("&View", "Top-to-bottom / left-to-right", "toggle_direction", "Ctrl+L"),
    Entry("&View", "Encoder–decoder U / column", "toggle_arrangement", "Ctrl+U"),
    Entry("&View", "Find layer…", "focus_search", QKeySequence.Find),
    Entry("&View", SEPARATOR),
    Entry("&View", "Theme", THEME),
    Entry("&View", "Panels", DOCKS),
    Entry("&View", "Reset layout", "reset_layout"),
    Entry("&Model", "Rebuild", "rebuild", "F5"),
    Entry("&Model", "Weights", WEIGHTS),
    Entry("&Model", "Load demo weights", "load_demo"),
    Entry("&Model", SEPARATOR),
    Entry("&Model", "Compare with…", "ask_compare"),
    Entry("&Model", "Lessons…", "show_lessons"),
    Entry("&Model", "Train…", "training.ask_train", "Ctrl+T"),
    Entry("&Model", "Training lessons…", "training.ask_lesson"),
    Entry("&Model", "Draw a digit", "training.show_draw"),
    Entry("&Model", "Model info…", "inspector.show_model_info", "Ctrl+Shift+I"),
    Entry("&Device", "Devices", DEVICES),
    Entry("&Help", "Keyboard shortcuts", "show_shortcuts", QKeySequence.HelpContents),
    Entry("&Help", "About", "about"),
)


def build_menus(window) -> dict[str, Any]:
    """Menus and actions on ``window``'s menu bar; returns the submenus to fill by key."""
    bar = window.menuBar()
    bar.clear()
    menus: dict[str, Any] = {}
    special: dict[str, Any] = {}
    for entry in MENUS:
        menu = menus.get(entry.menu) or menus.setdefault(entry.menu, bar.addMenu(entry.menu))
        if entry.text == SEPARATOR:
            menu.addSeparator()
        elif entry.slot.startswith("@"):
            special[entry.slot] = menu if entry.slot == DEVICES else menu.addMenu(entry.text)
        else:
            action = QAction(entry.text, window)
            if entry.shortcut is not None:
                action.setShortcut(QKeySequence(entry.shortcut))
            action.triggered.connect(functools.partial(_call, window, entry))
            menu.addAction(action)
    return special


def _call(window, entry: Entry, _checked: bool = False) -> None:
    """Resolved when triggered: the menus exist (greyed) before the core has loaded."""
    slot = functools.reduce(getattr, entry.slot.split("."), window)
    slot() if entry.arg is None else slot(entry.arg)


def shortcut_table() -> list[tuple[str, str]]:
    """(keys, what they do) for Help ▸ Keyboard shortcuts, with the graph's own keys."""
    rows = [(QKeySequence(e.shortcut).toString(QKeySequence.NativeText),
             f"{e.menu.strip('&')} ▸ {e.text}") for e in MENUS if e.shortcut is not None]
    return rows + [("+ / − / wheel", "zoom the graph"), ("0 or F", "fit the graph"),
                   ("double-click", "fold or unfold a block"),
                   ("Enter (in Find)", "next match, unfolding to it")]
