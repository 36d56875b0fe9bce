"""The Image and Feature maps docks stay usable in a small window (QA under Xvfb): one
test per defect, each failing on the docks as they were before its fix (noted per test)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from apphelpers import TIMEOUT, gradient_png, load, wait_idle  # noqa: E402
from PySide6.QtCore import QPointF, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def run_image(qtbot, w, path) -> None:
    w.inference.open_image(str(path))
    qtbot.waitUntil(lambda: w.state.result is not None
                    and w.inference.features.act is not None, timeout=TIMEOUT)
    wait_idle(qtbot, w)


def test_image_docks_can_get_narrow_after_an_image_ran(qtbot, window, tmp_path):
    """Was: the Image dock's minimum width went to 459 px and the Feature maps dock's to
    426 px once an image ran through resnet18 (the picture's pixmap, the untrained-weights
    button's long text, the stats line), so the window could not get narrow and a 900 px
    window cut the Image dock off at its right edge."""
    load(qtbot, window, "resnet18")
    run_image(qtbot, window, gradient_png(tmp_path / "g.png", 640, 480))
    window.docks["image"].raise_()
    panel = window.inference.predictions
    qtbot.waitUntil(lambda: panel.note_box.isVisible(), timeout=TIMEOUT)
    for key in ("image", "features"):
        assert window.docks[key].minimumSizeHint().width() < 300, key
    window.resizeDocks([window.docks["image"]], [300], Qt.Horizontal)
    QApplication.processEvents()
    assert panel.width() <= 300
    for widget in (panel.weights_note, panel.offer_button, panel.offer_detail,
                   panel.cam_button, panel.cam_class):
        right = widget.mapTo(panel, widget.rect().topRight()).x()
        assert right <= panel.width(), widget  # nothing cut off at the dock's right edge
def test_a_narrow_image_dock_keeps_the_overlay_controls_usable(qtbot, window, tmp_path):
    """Was (seen under Xvfb at 900x600): the opacity slider squeezed to its handle."""
    load(qtbot, window, "unet_padded", options={"base_width": 4, "in_channels": 3},
         input_shape=(1, 3, 64, 64))
    run_image(qtbot, window, gradient_png(tmp_path / "g.png"))
    panel = window.inference.predictions
    window.docks["image"].raise_()
    qtbot.waitUntil(lambda: panel.seg_box.isVisible(), timeout=TIMEOUT)
    window.resizeDocks([window.docks["image"]], [120], Qt.Horizontal)
    QApplication.processEvents()
    assert panel.opacity.width() >= 60
    right = panel.mask_only.mapTo(panel, panel.mask_only.rect().topRight()).x()
    assert right <= panel.width()


def test_side_plots_have_a_readable_height(qtbot, window, tmp_path):
    """Was: at the default bottom-dock height the channel's and the layer's histograms
    shared the side column and got ~15 px of plot each, their count labels overlapping."""
    load(qtbot, window, "resnet18")
    run_image(qtbot, window, gradient_png(tmp_path / "g.png"))
    panel = window.inference.features
    window.docks["features"].raise_()
    qtbot.waitUntil(lambda: panel.isVisible(), timeout=TIMEOUT)
    for plot in (panel.channel_hist, panel.layer_hist):
        item = plot.getPlotItem() if hasattr(plot, "getPlotItem") else plot
        if hasattr(panel, "side_tabs"):
            panel.side_tabs.setCurrentWidget(plot)
            QApplication.processEvents()
        assert item.getViewBox().sceneBoundingRect().height() >= 50, plot


def test_clicking_a_tile_opens_that_channel_large(qtbot, window, tmp_path):
    """Was: a click only changed the stats line; no one-channel view opened."""
    load(qtbot, window, "resnet18")
    run_image(qtbot, window, gradient_png(tmp_path / "g.png"))
    window.state.select("layer1.0.conv1")
    panel = window.inference.features
    qtbot.waitUntil(lambda: panel.name == "layer1.0.conv1" and panel.act is not None,
                    timeout=TIMEOUT)
    window.docks["features"].raise_()
    qtbot.waitUntil(lambda: panel.grid_view.isVisible(), timeout=TIMEOUT)
    # the centre of the second tile, in scene coordinates of the grid's view
    ch = int(panel.order[1])
    h, w = panel.cell
    scene = panel.grid_box.mapViewToScene(QPointF(w + (w - 1) / 2, (h - 1) / 2))
    pos = panel.grid_view.mapFromScene(scene)
    qtbot.mouseClick(panel.grid_view.viewport(), Qt.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: panel.detail_view.isVisible(), timeout=TIMEOUT)
    assert panel.current_channel == ch
    assert not panel.grid_view.isVisible()  # the one map takes the grid's place
    assert f"channel {ch}" in panel.detail_title.text()
    assert f"channel {ch}:" in panel.stats.text()  # its statistics beside it
    assert panel.detail_image.image.shape == panel.act[ch].shape
    assert panel.detail_view.height() >= panel.height() // 2
    box = panel.detail_image.sceneBoundingRect()  # the map itself is shown large
    assert box.height() >= 0.8 * panel.detail_view.height()
    qtbot.mouseClick(panel.back, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.grid_view.isVisible(), timeout=TIMEOUT)
    assert not panel.detail_view.isVisible()
def test_sample_images_offer_the_demo_shapes(qtbot, window):
    """Was: File ▸ Open sample image listed the photos only, not the shapes the demo
    U-Net was trained on."""
    from explorer.app.actions import SAMPLES

    texts = [a.text() for a in window.menus[SAMPLES].actions() if not a.isSeparator()]
    shapes = [t for t in texts if "shapes" in t]
    assert len(shapes) >= 3, texts
    action = next(a for a in window.menus[SAMPLES].actions() if "shapes 2" in a.text())
    action.trigger()
    qtbot.waitUntil(lambda: window.state.image_name == "shapes_2.png", timeout=TIMEOUT)
