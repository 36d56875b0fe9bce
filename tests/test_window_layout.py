"""The dock layout across relaunches: two (or more) window lifetimes share one QSettings
file, as a person's quits and starts do. A single lifetime cannot see a layout that
collapses only when it is restored."""

from __future__ import annotations

import gc

import pytest
from apphelpers import TIMEOUT, load


def lifetime(qtbot, monkeypatch, path, size=None, model="resnet34"):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from explorer.app.main import collect_garbage_on_ui_thread
    from explorer.app.window import MainWindow

    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: None)
    w = MainWindow(QSettings(str(path), QSettings.IniFormat))
    qtbot.addWidget(w)
    if size is not None:
        w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    w.load_core(count_sizes=False)
    w.gc_timer = collect_garbage_on_ui_thread(w)
    load(qtbot, w, model)
    qtbot.wait(50)
    return w


def close(w):
    w.close()
    w.settings.sync()
    w.runner.wait(30_000)
    gc.collect()
    gc.enable()


def share(w) -> float:
    return w.panel.width() * w.panel.height() / (w.width() * w.height())


SIZES = [(1024, 640), (1280, 720), (1600, 1000)]


@pytest.mark.parametrize("size", SIZES)
def test_the_graph_keeps_half_the_window_across_relaunches(qtbot, monkeypatch, tmp_path,
                                                            size):
    """Was: 26 % of a 1024x640 window at the first launch, then 7 % (a 96 px strip)
    at every later one, the side docks wider each time."""
    path = tmp_path / "settings.ini"
    shares, widths = [], []
    for _ in range(3):
        w = lifetime(qtbot, monkeypatch, path, size)
        shares.append(share(w))
        widths.append(w.docks["catalogue"].width())
        w.state.select("conv1")  # the Layer dock shows up with it
        qtbot.waitUntil(w.docks["inspector"].isVisible)
        qtbot.wait(50)
        shares.append(share(w))
        close(w)
    assert min(shares) >= 0.5, f"graph panel's share of the window: {shares}"
    assert len(set(widths)) == 1, f"the Models dock's width per launch: {widths}"


def test_a_table_dragged_tall_is_given_back_at_the_next_launch(qtbot, monkeypatch,
                                                               tmp_path):
    """The layout a person leaves is restored only while the graph keeps half."""
    from PySide6.QtCore import Qt

    path = tmp_path / "settings.ini"
    w = lifetime(qtbot, monkeypatch, path, (1280, 720))
    w.resizeDocks([w.docks["table"]], [500], Qt.Vertical)
    qtbot.wait(50)
    assert share(w) < 0.5
    close(w)
    w = lifetime(qtbot, monkeypatch, path, (1280, 720))  # offscreen's screen is 800x600
    qtbot.waitUntil(lambda: share(w) >= 0.5)
    close(w)


def test_shrinking_the_window_keeps_the_graph_half(qtbot, monkeypatch, tmp_path):
    w = lifetime(qtbot, monkeypatch, tmp_path / "settings.ini", (1600, 1000))
    w.resize(1024, 640)
    qtbot.waitUntil(lambda: share(w) >= 0.5)
    close(w)


def test_reset_layout_and_docks_that_wait_for_content(qtbot, monkeypatch, tmp_path):
    """View ▸ Reset layout puts every dock back; Layer and Image take no room before a
    selection or an image."""
    from PySide6.QtCore import Qt

    w = lifetime(qtbot, monkeypatch, tmp_path / "settings.ini", (1280, 720))
    assert w.docks["inspector"].isHidden() and w.docks["image"].isHidden()
    w.addDockWidget(Qt.RightDockWidgetArea, w.docks["table"])
    w.resizeDocks([w.docks["table"]], [700], Qt.Horizontal)
    w.docks["catalogue"].hide()
    qtbot.wait(50)
    texts = [a.text() for m in w.menuBar().actions() for a in m.menu().actions()]
    assert "Reset layout" in texts
    w.reset_layout()
    qtbot.waitUntil(lambda: share(w) >= 0.5)
    assert w.dockWidgetArea(w.docks["table"]) == Qt.BottomDockWidgetArea
    assert w.docks["catalogue"].isVisible() and w.docks["inspector"].isHidden()
    w.state.select("conv1")
    qtbot.waitUntil(lambda: w.docks["inspector"].isVisible())
    w.reset_layout()  # something to show: it stays
    qtbot.wait(50)
    assert w.docks["inspector"].isVisible() and w.docks["image"].isHidden()
    close(w)


def test_the_catalogue_opens_a_filtered_model_with_enter_and_shows_whole_names(
        qtbot, window):
    """Was: Enter or Down+Enter in a filtered list did nothing; the four ShuffleNet v2
    names were cut to "shufflenet_v2_x…" (all alike)."""
    from PySide6.QtCore import Qt

    cat = window.catalogue
    qtbot.keyClicks(cat.filter, "mobilenet_v2")
    assert cat.models_shown() == ["mobilenet_v2"]
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        qtbot.keyClick(cat.filter, Qt.Key_Return)
    assert window.prepared.name == "mobilenet_v2"
    cat.filter.clear()
    qtbot.keyClicks(cat.filter, "lenet5")
    qtbot.keyClick(cat.filter, Qt.Key_Down)
    assert cat.tree.currentIndex().data() == "lenet5"
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        qtbot.keyClick(cat.tree, Qt.Key_Return)
    assert window.prepared.name == "lenet5"
    cat.filter.clear()
    tree = cat.tree
    window.resizeDocks([window.docks["catalogue"]], [230], Qt.Horizontal)
    qtbot.wait(50)
    index = cat.proxy.mapFromSource(cat.items["shufflenet_v2_x0_5"][0].index())
    shown = tree.visualRect(index)
    assert shown.right() <= tree.viewport().width()  # no horizontal scroll
    assert shown.width() >= tree.fontMetrics().horizontalAdvance("shufflenet_v2_x0_5") + 6


def test_the_legend_is_whole_in_a_small_window(qtbot, window):
    """Was: cut to "data flo", "activa" at 1024x640."""
    window.resize(1024, 640)
    load(qtbot, window, "se_resnet50")
    legend = window.panel.legend
    qtbot.waitUntil(lambda: legend.width() < 900)
    qtbot.wait(50)
    labels = [w for pair in legend.entries.values() for w in pair] + list(
        legend.boxes.values())
    for label in labels:
        if not label.isHidden():
            right = label.mapTo(legend, label.rect().topRight()).x()
            assert label.width() >= label.sizeHint().width() - 1, label.text()
            assert right <= legend.width(), label.text()
    view = window.panel.view
    assert view.width() >= 0.8 * window.panel.width()  # the overview takes little


def test_demo_weights_ask_before_replacing_the_model_and_run_a_shapes_sample(
        qtbot, window, tmp_path, monkeypatch):
    """Was: Model ▸ Load demo weights replaced the model on screen with unet_padded and
    reran the person's photo (a cat labelled circle/square/triangle) without asking."""
    from apphelpers import gradient_png

    load(qtbot, window, "resnet18")
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "cat.png")))
    asked = []
    monkeypatch.setattr(window, "demo_choice", lambda current: asked.append(current) or "")
    window.load_demo()  # cancelled: nothing changes
    assert asked == ["resnet18"] and window.prepared.name == "resnet18"
    assert not window.progress.isVisible()
    monkeypatch.setattr(window, "demo_choice", lambda current: "sample")
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.load_demo()
    qtbot.waitUntil(lambda: window.state.image_name.startswith("shapes_"), timeout=TIMEOUT)
    assert window.prepared.name == "unet_padded" and window.state.weights.trained


def test_docks_added_by_other_parts_join_the_plan(qtbot, monkeypatch, tmp_path):
    """The Training dock joins the bottom's tabs; the Draw panel (406 px wide at least)
    waits for Model ▸ Draw a digit instead of widening the side column at launch."""
    from PySide6.QtCore import Qt

    w = lifetime(qtbot, monkeypatch, tmp_path / "settings.ini", (1024, 640))
    assert w.docks["draw"].isHidden() and share(w) >= 0.5
    assert w.dockWidgetArea(w.docks["training"]) == Qt.BottomDockWidgetArea
    w.reset_layout()
    qtbot.wait(50)
    assert w.docks["draw"].isHidden() and share(w) >= 0.5
    assert w.dockWidgetArea(w.docks["training"]) == Qt.BottomDockWidgetArea
    close(w)


def test_an_image_in_a_small_window_keeps_the_window_small(qtbot, monkeypatch, tmp_path):
    """Was (1024x640 under Xvfb): the Image dock's content, a tab of the side column,
    grew the window to 663 px tall once an image ran."""
    from apphelpers import gradient_png

    w = lifetime(qtbot, monkeypatch, tmp_path / "settings.ini", (1024, 640), "resnet18")
    with qtbot.waitSignal(w.inference.ran, timeout=TIMEOUT):
        w.inference.open_image(str(gradient_png(tmp_path / "g.png", 451, 300)))
    qtbot.waitUntil(w.docks["image"].isVisible)
    qtbot.wait(100)
    assert w.minimumSizeHint().height() <= 640 and w.height() == 640
    assert share(w) >= 0.5
    close(w)
