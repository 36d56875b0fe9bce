"""A first launch on a screen smaller than the window's usual size (issue 24, seen under
Xvfb with openbox at 1024x640: the window opened at 1400x900, a third of it off the
screen, the Options dock and the status bar out of reach)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")


def test_a_first_launch_fits_the_screen(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from explorer.app.window import MainWindow

    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    room = w.screen().availableGeometry()  # offscreen: 800x600
    assert room.width() < 1400
    assert w.width() <= room.width() - 16 and w.height() <= room.height() - 48
    assert w.width() >= room.width() - 16 - 1  # as much of it as fits


def test_a_window_closed_while_loading_keeps_the_saved_layout(qtbot, monkeypatch, tmp_path):
    """Seen under Xvfb: a window closed before PyTorch had loaded (its docks and toolbar
    not built yet) saved that empty layout; the next launch restored it and the toolbar
    (depth, Expand all, Find) was gone."""
    from PySide6.QtCore import QSettings
    from test_window_layout import close, lifetime

    from explorer.app.window import MainWindow

    path = tmp_path / "settings.ini"
    close(lifetime(qtbot, monkeypatch, path, (1280, 720)))
    early = MainWindow(QSettings(str(path), QSettings.IniFormat))
    qtbot.addWidget(early)
    early.show()
    qtbot.waitExposed(early)
    early.close()  # before load_core
    early.settings.sync()
    w = lifetime(qtbot, monkeypatch, path, (1280, 720))
    bar = w.findChild(type(w.search.parent()), "toolbar_graph") or w.search.parent()
    qtbot.waitUntil(lambda: w.search.isVisible())
    assert bar.isVisible() and w.docks["catalogue"].isVisible()
    close(w)


def test_the_toolbar_comes_back_from_the_panels_menu_and_reset_layout(qtbot, window):
    """Seen under Xvfb: after a relaunch the toolbar (depth, Expand all, Find) was gone
    and nothing in the menus could bring it back."""
    from explorer.app.actions import DOCKS

    bar = window.toolbar
    qtbot.waitUntil(bar.isVisible)
    toggles = [a for a in window.menus[DOCKS].actions() if a.text() == "Graph toolbar"]
    assert len(toggles) == 1
    toggles[0].trigger()
    assert bar.isHidden()
    toggles[0].trigger()
    assert bar.isVisible()
    bar.hide()
    window.reset_layout()
    assert bar.isVisible()
