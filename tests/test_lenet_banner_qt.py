"""LeNet-5's untrained banner offers the trained LeNet-5 that ships with the app (seen
under Xvfb: it offered AlexNet and DenseNet, ImageNet models, as LeNet-5's next step)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from apphelpers import TIMEOUT, gradient_png, load  # noqa: E402


def _banner(qtbot, window, tmp_path, name):
    """The Image dock's panel and its untrained banner's links after an image ran."""
    load(qtbot, window, name)
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "g.png", 40, 40)))
    panel = window.inference.predictions
    qtbot.waitUntil(lambda: not panel.note_box.isHidden(), timeout=TIMEOUT)
    text = panel.steps.text()
    return panel, text


def test_lenet_banner_links_its_shipped_weights_and_they_load(qtbot, window, tmp_path):
    panel, text = _banner(qtbot, window, tmp_path, "lenet5")
    assert "href='trained'" in text and "97.2 %" in text
    assert "alexnet" not in text and "densenet" not in text
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        panel.steps.linkActivated.emit("trained")
    assert "UCI digits" in window.state.weights.label
    qtbot.waitUntil(lambda: panel.note_box.isHidden(), timeout=TIMEOUT)


def test_a_cifar_resnet_banner_offers_training_it(qtbot, window, tmp_path, monkeypatch):
    """Was: "Try alexnet (published weights), densenet121 (published weights), densenet161
    (published weights)" for resnet20_cifar: ImageNet models. Training is its way."""
    panel, text = _banner(qtbot, window, tmp_path, "resnet20_cifar")
    assert "href='train'" in text and "Model ▸ Train" in text
    assert "alexnet" not in text and "densenet" not in text
    asked = []
    monkeypatch.setattr(window.training, "ask_train", lambda: asked.append(True))
    panel.steps.linkActivated.emit("train")
    assert asked == [True]
