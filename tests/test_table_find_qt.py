"""The layer table, Find and the Layer dock as a person reads them (QA pass under Xvfb):
one test per defect, each failing on the window as it was (noted per test)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from apphelpers import load  # noqa: E402


def test_small_network_totals_pick_their_units(qtbot, window):
    """Was: LeNet-5 read "0.000 GMACs · 0.001 GFLOPs"."""
    load(qtbot, window, "lenet5")
    text = window.table.totals.text()
    assert "0.000" not in text
    assert "k MACs" in text and "k FLOPs" in text


def test_find_box_shows_its_example_query(qtbot, window):
    """Was: "type=Conv2d stride=2" showed as "e=Conv2d stride=2" (box at most 220 px)."""
    box = window.search.box
    box.setText("type=Conv2d stride=2")
    qtbot.waitUntil(lambda: box.isVisible())
    needed = box.fontMetrics().horizontalAdvance(box.text())
    assert box.width() - 30 >= needed  # room for the margins and the clear button
