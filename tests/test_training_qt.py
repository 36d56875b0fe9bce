"""Training in the window: two models trained side by side into the Training dock (on a
worker thread), the trained weights made live with a title that says so, cancel, the
shipped LeNet-5 in one click, and the Draw panel feeding it a drawn digit."""

from __future__ import annotations

import pytest
from apphelpers import TIMEOUT, load
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from explorer.app.training.dialog import TrainDialog, TrainRequest


def test_two_runs_side_by_side_then_the_weights_are_live(qtbot, window, tmp_path):
    w = window
    load(qtbot, w, "lenet5")
    w.training.runs = tmp_path
    w.training.start(TrainRequest("digits", (("lenet5", {}), ("lenet5", {"activation": "relu"})),
                                  "quick", 2, "cpu", 96))
    log = w.training.log
    assert log.running  # the call returned at once: the run is on the worker
    qtbot.waitUntil(lambda: log.state == "done", timeout=TIMEOUT * 3)
    assert [len(log.history[k]) for k in ("lenet5", "lenet5 (activation=relu)")] == [2, 2]
    assert log.steps["lenet5"] and not w.warnings
    curves = [item for item in w.training.panel.errors.getPlotItem().listDataItems()
              if item.xData is not None and len(item.xData)]
    assert len(curves) == 4  # training and test error of each model
    qtbot.waitUntil(lambda: w.state.weights.trained, timeout=TIMEOUT)
    assert w.state.weights.label.startswith("trained 2 epochs on digits, test error")
    assert "trained 2 epochs on digits" in w.windowTitle()
    assert w.state.weights.path.startswith(str(tmp_path))
    assert w.state.live.module.training is False


def test_cancel_stops_between_steps(qtbot, window, tmp_path):
    w = window
    load(qtbot, w, "lenet5")
    w.training.runs = tmp_path
    w.training.start(TrainRequest("digits", (("lenet5", {}),), "quick", 50, "cpu", None))
    log = w.training.log
    qtbot.waitUntil(lambda: bool(log.steps.get("lenet5")), timeout=TIMEOUT)
    w.training.panel.cancel.click()
    assert log.state == "cancelled" and not w.training.panel.cancel.isVisible()
    # the status bar says so (was: the last epoch's "lenet5: epoch 3/5, …" stayed)
    assert w.status_label.text().startswith("Training cancelled")
    assert w.training.runner.wait(TIMEOUT)
    assert not w.warnings and not w.state.weights.trained


def test_train_dialog_defaults_follow_the_model(qtbot):
    dialog = TrainDialog("lenet5", {}, "classification", 1, ["alexnet"], ["cpu"])
    qtbot.addWidget(dialog)
    request = dialog.request()
    assert request.dataset == "digits" and request.preset == "quick" and request.epochs == 5
    dialog.vs.setCurrentIndex(1)
    dialog.preset.setCurrentIndex(dialog.preset.findData("paper"))
    assert dialog.request().models[1] == ("alexnet", {}) and dialog.request().epochs == 164
    seg = TrainDialog("unet", {}, "segmentation", 3, [], ["cpu"])
    qtbot.addWidget(seg)
    assert seg.request().dataset == "shapes-seg"


def test_shipped_lenet_in_one_click_and_a_drawn_digit(qtbot, window):
    w = window
    if w.training.shipped_lenet() is None:
        pytest.fail("resources/trained/lenet5_digits.json is missing")
    w.training.show_draw()
    w.training.draw.use.click()
    qtbot.waitUntil(lambda: w.prepared is not None and w.prepared.name == "lenet5"
                    and w.state.weights.trained, timeout=TIMEOUT)
    assert "UCI digits" in w.windowTitle()
    canvas = w.training.draw.canvas
    before = w.inference.runner.generation
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(112, 30))
    for y in range(30, 200, 10):  # a vertical stroke: a one
        QTest.mouseMove(canvas, QPoint(112, y))
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(112, 200))
    qtbot.waitUntil(lambda: w.inference.runner.generation > before, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: w.state.result is not None and w.state.image_name == "drawn digit",
                    timeout=TIMEOUT)
    assert w.state.result.top_k[0]["label"] == "one"
    assert w.training.draw.answer.text().startswith("<b>one</b>")
    names = [a.text() for a in w.weights_menu.menu.actions()]
    assert any(n.startswith("Trained on the UCI digits (test accuracy") for n in names)


def test_a_lesson_runs_from_its_dialog_and_says_what_it_measured(qtbot, window, tmp_path,
                                                                 monkeypatch):
    from dataclasses import replace

    from explorer.app.training.lessons_dialog import TrainingLessonsDialog
    from explorer.training import recipes
    from explorer.training.lessons import TrainingLesson, load_training_lessons

    w = window
    load(qtbot, w, "lenet5")
    w.training.runs = tmp_path
    monkeypatch.setitem(recipes.PRESETS, "quick", replace(recipes.PRESETS["quick"], epochs=1))
    tiny = TrainingLesson("t", "tanh vs ReLU", "a claim", "digits", "quick",
                          (("lenet5", {}), ("lenet5", {"activation": "relu"})),
                          "second_worse", "train_error", train_size=64)
    dialog = TrainingLessonsDialog([*load_training_lessons(), tiny], w.training.run_lesson, w)
    qtbot.addWidget(dialog)
    assert "plain-20 vs plain-56" in dialog.list.item(0).text()
    dialog.list.setCurrentRow(dialog.list.count() - 1)
    assert "lenet5 and lenet5" in dialog.text.toPlainText()
    dialog.run_button.click()
    log = w.training.log
    qtbot.waitUntil(lambda: log.state == "done", timeout=TIMEOUT * 3)
    assert log.message.startswith("tanh vs ReLU. After 1 epoch (")  # and how long it took
    assert "), final train error: lenet5 " in log.message
    assert "this run" in w.training.panel.status.text()
