"""The Image and Feature maps docks stay usable in a small window (QA under Xvfb): one
test per defect, each failing on the docks as they were before its fix (noted per test)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from apphelpers import TIMEOUT, gradient_png, load, wait_idle  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
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
