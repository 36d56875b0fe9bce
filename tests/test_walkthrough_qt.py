"""A new user's walk through the window (issue 24), one test per defect a test can see."""

from __future__ import annotations

from apphelpers import TIMEOUT, gradient_png, load


def test_the_untrained_banner_names_next_steps_for_a_model_without_weights(
        qtbot, window, tmp_path, monkeypatch):
    load(qtbot, window, "fcn8s", input_shape=(1, 3, 64, 64))
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "g.png")))
    panel = window.inference.predictions
    qtbot.waitUntil(lambda: not panel.note_box.isHidden(), timeout=TIMEOUT)
    assert panel.offer_button.isHidden()  # no published set of its own
    text = panel.steps.text()
    assert "model:fcn_resnet50" in text and "'demo'" in text and "'file'" in text
    taken = []
    monkeypatch.setattr(window, "load_demo", lambda: taken.append("demo"))
    monkeypatch.setattr(window, "ask_weights", lambda: taken.append("file"))
    panel.steps.linkActivated.emit("demo")
    panel.steps.linkActivated.emit("file")
    assert taken == ["demo", "file"]
