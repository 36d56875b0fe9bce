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


def test_a_folded_run_reads_as_a_run_and_filters_by_any_member(qtbot, window):
    """Was: the row read "Mixed_6c" (with Mixed_6d's parameters too), and filtering for
    "Mixed_6d" showed only that "Mixed_6c" row."""
    load(qtbot, window, "inception_v3")
    table = window.table
    i = table.model.row_of("Mixed_6c")
    assert table.model.item(i, 1).text() == "Mixed_6c … Mixed_6d ×2"
    table.filter.setText("Mixed_6d")
    shown = [table.proxy.index(r, 1).data() for r in range(table.proxy.rowCount())]
    assert shown == ["Mixed_6c … Mixed_6d ×2"]


def test_the_layer_dock_fits_its_default_width(qtbot, window):
    """Was: at ~250 px a convolution's filter image, its caption and the "defined in"
    path made the dock's content wider than the dock (cut at the right, scrollbar)."""
    from PySide6.QtCore import QRectF, Qt

    load(qtbot, window, "resnet18")
    window.resizeDocks([window.docks["inspector"]], [250], Qt.Horizontal)
    window.reveal("layer2.0.conv2")
    dock = window.inspector
    qtbot.waitUntil(lambda: dock.filters.grid is not None and dock.filters.isVisible())
    qtbot.waitUntil(lambda: dock.width() <= 300)

    def fits() -> None:  # once the layouts and the filter box have settled (no click)
        body, room = dock.widget(), dock.viewport().width()
        assert body.width() <= room and not dock.horizontalScrollBar().isVisible()
        assert dock.source.text() and dock.source.width() <= room
        canvas = dock.filters.canvas
        shown = canvas.mapFromScene(dock.filters.image.sceneBoundingRect()).boundingRect()
        assert QRectF(canvas.rect()).adjusted(-1, -1, 1, 1).contains(QRectF(shown))
        assert dock.tensors.width() <= room

    qtbot.waitUntil(fits)


def test_find_steps_through_the_inception_boxes(qtbot, window):
    """Was: "Inception" found 0 in inception_v3, whose eleven boxes are inception modules."""
    from apphelpers import TIMEOUT, wait_idle

    load(qtbot, window, "inception_v3")
    window.search.box.setText("Inception")
    assert window.search.count.text().strip() == "11 found"
    assert {"Mixed_5c", "Mixed_6c"} <= window.highlighter.lit  # folded boxes light up
    window.search.find_next()  # Mixed_5b is open in the first view: shown folded again
    qtbot.waitUntil(lambda: window.state.selection == "Mixed_5b", timeout=TIMEOUT)
    assert window.state.model.view.nx.nodes["Mixed_5b"]["folded"]
    for _ in range(6):  # ... Mixed_6c, then Mixed_6d, folded into the run "Mixed_6c ×2"
        window.search.find_next()
        wait_idle(qtbot, window)
    assert window.state.selection == "Mixed_6c"


def test_the_filter_grid_fits_once_shown_and_when_narrowed(qtbot):
    """The whole grid in sight, filling its box, when the grid came before any layout
    and after the dock is dragged narrower (the box refits by itself)."""
    import torch
    from PySide6.QtCore import QRectF

    from explorer.analysis.filter_grid import filter_grid
    from explorer.app.docks.filter_grid import FilterGridView

    view = FilterGridView()
    qtbot.addWidget(view)
    view.show_grid(filter_grid(torch.randn(64, 3, 7, 7)))  # before any layout
    view.resize(600, 260)
    view.show()
    qtbot.waitExposed(view)

    def fits(width: int) -> None:
        canvas = view.canvas
        assert canvas.width() <= width
        shown = canvas.mapFromScene(view.image.sceneBoundingRect()).boundingRect()
        assert QRectF(canvas.rect()).adjusted(-1, -1, 1, 1).contains(QRectF(shown))
        assert shown.width() >= canvas.width() / 2 or shown.height() >= canvas.height() / 2

    qtbot.waitUntil(lambda: fits(600))
    view.resize(200, 260)
    qtbot.waitUntil(lambda: fits(200))
