"""Grad-CAM in the Image dock (issue 24, defect 15): a choice of layer (the last stage by
default, any conv, or a layer clicked in the diagram), a colour bar with what its scale
means, and the centre crop outlined (was: no choice, no scale, an unexplained lit square)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from apphelpers import TIMEOUT, gradient_png, load, wait_idle  # noqa: E402


def ran(qtbot, w, path) -> None:
    with qtbot.waitSignal(w.inference.ran, timeout=TIMEOUT):
        w.inference.open_image(str(path))
    wait_idle(qtbot, w)


def cam_shown(qtbot, w, before=None) -> None:
    panel = w.inference.predictions
    qtbot.waitUntil(lambda: panel.cam is not None and panel.cam is not before,
                    timeout=TIMEOUT)
    wait_idle(qtbot, w)


def test_grad_cam_has_a_layer_a_colour_bar_and_the_crop_outlined(qtbot, window, tmp_path):
    load(qtbot, window, "resnet18", input_shape=(1, 3, 96, 96))
    ran(qtbot, window, gradient_png(tmp_path / "wide.png", 160, 90))  # a centre crop
    window.docks["image"].raise_()
    panel = window.inference.predictions
    assert panel.cam_layer.currentText() == "layer4 (stage, 512×3×3)"
    assert panel.cam_layer.findText("layer1.0.conv1 (Conv2d, 64×24×24)") >= 0
    assert panel.cam_scale.isHidden()
    panel.cam_button.click()
    cam_shown(qtbot, window)
    top = window.state.result.top_k[0]["label"]
    assert not panel.cam_scale.isHidden() and not panel.cam_bar.pixmap().isNull()
    note = panel.cam_note.text()
    assert f"‘{top}’ at layer4" in note and "relative to this image's strongest" in note
    assert "dashed box is the centre crop" in note
    shown = panel.composed()
    # outside the crop (the image's left edge) the picture is the faded image, not heat
    assert shown.getpixel((1, 45)) != panel.result.image.getpixel((1, 45))


def test_a_layer_clicked_in_the_diagram_becomes_grad_cams_layer(qtbot, window, tmp_path):
    load(qtbot, window, "resnet18", input_shape=(1, 3, 96, 96))
    ran(qtbot, window, gradient_png(tmp_path / "g.png", 96, 96))
    panel = window.inference.predictions
    panel.cam_button.click()
    cam_shown(qtbot, window)
    first = panel.cam
    window.state.select("layer1.0.conv2")
    assert panel.cam_target().node == "layer1.0.conv2"
    cam_shown(qtbot, window, before=first)  # computed again at the clicked layer
    assert "at layer1.0.conv2" in panel.cam_note.text()
    window.state.select("layer1.0.add")  # a function: Grad-CAM cannot hook it
    assert panel.cam_target().node == "layer1.0.conv2"
    window.state.select("layer1.0.relu:1")  # not in the list: added and chosen
    assert panel.cam_target().call == 1 and panel.cam_layer.currentText().startswith(
        "layer1.0.relu:1 (ReLU")
    window.state.select("layer3.1")  # a folded block
    assert panel.cam_target().module == "layer3.1"
    assert panel.cam_layer.currentText() == "layer3.1 (BasicBlock, 256×6×6)"
