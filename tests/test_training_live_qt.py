"""Looking at a model while it trains, in the window: "Show weights now" has the
training thread copy the model at its next step, the image's feature maps and the Flow
dock's pass run again on that copy while the training goes on; when it ends the live
model carries the trained weights, the title says how they were earned, and File ▸ Save
weights writes those."""

from __future__ import annotations

import numpy as np
import torch
from apphelpers import TIMEOUT, load
from PIL import Image

from explorer.app.training.dialog import TrainRequest
from explorer.inference.predictions import load_labels


def _digit() -> Image.Image:
    a = np.zeros((32, 32), np.uint8)
    a[6:26, 14:18] = 255  # a one
    return Image.fromarray(a, "L").convert("RGB")


def _maps(w, node):
    return w.state.result.capture.get(w.state.model.graph.resolve(node)).clone()


def _state(module):
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def test_weights_shown_while_training_then_the_trained_ones_saved(qtbot, window, tmp_path):
    from safetensors.torch import load_file

    w = window
    load(qtbot, w, "lenet5")
    w.inference.set_image(_digit(), "a bar")
    qtbot.waitUntil(lambda: w.state.result is not None, timeout=TIMEOUT)
    node = "features.3"
    untrained, first = _maps(w, node), w.state.result
    w.flow.measure("lenet5")  # beside a fresh LeNet-5
    qtbot.waitUntil(lambda: w.state.flow is not None, timeout=TIMEOUT)
    untrained_loss, fresh = w.state.flow[0].loss, w.state.flow[1]

    w.training.runs = tmp_path
    w.training.start(TrainRequest("shapes", (("lenet5", {}),), "quick", 2,
                                  "cpu", 1500))
    panel, log = w.training.panel, w.training.log
    assert log.running and panel.refresh.isVisible() and not panel.which.isVisible()
    panel.refresh.click()  # served at the run's first step boundary
    qtbot.waitUntil(lambda: w.state.weights.label.startswith("training on shapes"),
                    timeout=TIMEOUT * 3)
    assert w.state.weights.label == "training on shapes: epoch 1 of 2, step 1 of 12"
    assert "epoch 1 of 2, step 1 of 12" in w.windowTitle()
    snapshot = w.state.live.module
    qtbot.waitUntil(lambda: w.state.result is not first and w.state.flow is not None,
                    timeout=TIMEOUT * 3)
    early, second = _maps(w, node), w.state.result
    assert not snapshot.training  # (the flow pass puts it in train mode while it runs)
    assert not torch.equal(early, untrained)  # the maps are the copy's, one step in
    assert w.state.flow[0].loss != untrained_loss  # and so is the flow pass
    assert w.state.flow[1] is fresh  # its fresh twin is not measured again
    assert not w.training.dock.visibleRegion().isEmpty()  # Flow did not take its place

    qtbot.waitUntil(lambda: log.state == "done", timeout=TIMEOUT * 3)
    assert len(log.history["lenet5"]) == 2 and not w.warnings
    qtbot.waitUntil(lambda: w.state.weights.label.startswith("trained 2 epochs"),
                    timeout=TIMEOUT)
    error = log.history["lenet5"][-1].test_error
    assert w.state.weights.label == f"trained 2 epochs on shapes, test error {error:.1%}"
    assert w.windowTitle().endswith(f"(trained 2 epochs on shapes, test error {error:.1%})")
    assert w.state.live.module is not snapshot
    trained = _state(w.state.live.module)
    on_disk = load_file(log.folder + "/weights.safetensors")
    assert all(torch.equal(trained[k], on_disk[k]) for k in on_disk)
    assert not all(torch.equal(trained[k], v) for k, v in _state(snapshot).items())
    qtbot.waitUntil(lambda: w.state.result is not second, timeout=TIMEOUT)
    assert not torch.equal(_maps(w, node), early)  # the image ran through the trained net
    shapes = load_labels("shapes", 10)  # its answers are the data's classes, not CIFAR's
    assert {p["label"] for p in w.state.result.top_k} <= set(shapes)

    saved = tmp_path / "lenet5-trained.safetensors"
    w.inference.save_weights(str(saved))
    qtbot.waitUntil(lambda: saved.exists(), timeout=TIMEOUT)
    back = load_file(str(saved))
    assert back.keys() == trained.keys()
    assert all(torch.equal(back[k], trained[k]) for k in trained)

    # loaded back (say, next week) they still name the shapes, not LeNet's digits
    w.inference.random_init()
    qtbot.waitUntil(lambda: not w.state.weights.trained, timeout=TIMEOUT)
    w.inference.load_weights(str(saved))
    qtbot.waitUntil(lambda: w.state.weights.path == str(saved), timeout=TIMEOUT)
    assert w.state.weights.labels == "shapes"
    qtbot.waitUntil(lambda: w.state.result is not None
                    and {p["label"] for p in w.state.result.top_k} <= set(shapes),
                    timeout=TIMEOUT)


def test_the_second_model_after_each_epoch_and_nothing_to_save_says_so(qtbot, window,
                                                                       tmp_path):
    w = window
    load(qtbot, w, "lenet5")
    w.inference.save_weights(str(tmp_path / "random.safetensors"))
    assert w.warnings.pop().startswith("The model runs with random init: there are no "
                                       "weights to save yet")
    assert not (tmp_path / "random.safetensors").exists()
    w.training.runs = tmp_path
    seen: list[str] = []
    w.state.events.weights.connect(lambda weights: seen.append(weights.label))
    panel, log = w.training.panel, w.training.log
    panel.every_epoch.setChecked(True)
    w.training.start(TrainRequest("digits", (("lenet5", {}), ("lenet5", {"activation": "relu"})),
                                  "quick", 2, "cpu", None))
    qtbot.waitUntil(lambda: log.state == "training", timeout=TIMEOUT)
    assert panel.which.isVisible() and panel.which.count() == 2
    panel.which.setCurrentIndex(1)  # the ReLU one: the window opens it and follows it
    qtbot.waitUntil(lambda: log.state == "done", timeout=TIMEOUT * 3)
    qtbot.waitUntil(lambda: bool(seen) and seen[-1].startswith("trained 2 epochs"),
                    timeout=TIMEOUT)
    assert w.state.model.options["activation"] == "relu"  # opened for its weights
    during = [s for s in seen if s.startswith("training on digits")]
    assert during[-1].startswith("training on digits: after epoch 2 of 2, test error")
    assert any(s.startswith("training on digits: after epoch 1 of 2") for s in during)
    relu = log.history["lenet5 (activation=relu)"][-1].test_error
    assert seen[-1] == f"trained 2 epochs on digits, test error {relu:.1%}"
    assert not panel.refresh.isVisible() and not w.warnings


def test_after_each_epoch_never_takes_the_person_to_another_model(qtbot, window, tmp_path):
    w = window
    load(qtbot, w, "lenet5")
    w.training.runs = tmp_path
    events: list[str] = []
    w.state.events.model.connect(lambda p: events.append(f"model {p.name}"))
    w.state.events.weights.connect(lambda weights: events.append(weights.label))
    w.training.panel.every_epoch.setChecked(True)
    w.training.start(TrainRequest("digits", (("lenet5", {}),), "quick", 3, "cpu", None))
    load(qtbot, w, "resnet20_cifar")  # the person looks at something else meanwhile
    log = w.training.log
    qtbot.waitUntil(lambda: log.state == "done", timeout=TIMEOUT * 3)
    qtbot.waitUntil(lambda: w.state.weights.label.startswith("trained 3 epochs"),
                    timeout=TIMEOUT)
    after = events[events.index("model resnet20_cifar"):]
    assert not [e for e in after if e.startswith("training on")]
    assert w.state.model.name == "lenet5"  # the trained weights, when the run ends


def test_after_each_epoch_keeps_the_curves_in_front(qtbot, window, tmp_path):
    """Each epoch's copy reruns the image; the Training dock a person watches stays in
    front of the Feature maps it shares a tab group with."""
    w = window
    load(qtbot, w, "lenet5")
    w.inference.set_image(_digit(), "a bar")
    qtbot.waitUntil(lambda: w.state.result is not None, timeout=TIMEOUT)
    first = w.state.result
    w.training.runs = tmp_path
    w.training.panel.every_epoch.setChecked(True)
    w.training.start(TrainRequest("digits", (("lenet5", {}),), "quick", 2, "cpu", None))
    qtbot.waitUntil(lambda: not w.training.dock.visibleRegion().isEmpty(),
                    timeout=TIMEOUT)  # start raised it
    qtbot.waitUntil(lambda: w.state.result is not first
                    and w.state.weights.label.startswith("training on digits: after"),
                    timeout=TIMEOUT * 3)
    # tabified docks all read isVisible(); the one in front is the one with a region
    assert not w.training.dock.visibleRegion().isEmpty()  # the maps did not come over it
    assert w.docks["features"].visibleRegion().isEmpty()
    qtbot.waitUntil(lambda: w.training.log.state == "done", timeout=TIMEOUT * 3)
