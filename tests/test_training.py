"""The training core on tiny data and a few steps: data sets, recipes, augmentation on the
device, the loop (seeded, resumable, cancellable), metrics and the run folder."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from explorer import zoo
from explorer.training import (
    DataError,
    RunSpec,
    TrainingCancelled,
    get_recipe,
    load_dataset,
    prepare,
    synthetic,
    train_side_by_side,
    write_outputs,
)
from explorer.training.augment import augment, pad_crop, plan_epoch
from explorer.training.loop import Acceleration, acceleration
from explorer.training.metrics import confusion, mean_iou
from explorer.training.run import run_options, title


def tiny(name="shapes", train=48, test=24, **kw):
    return load_dataset(name, train_size=train, test_size=test, **kw)


def quick(epochs=2, batch=16):
    from dataclasses import replace

    return replace(get_recipe("quick"), batch_size=batch, epochs=epochs)


def test_shipped_digits():
    d = load_dataset("digits")
    assert len(d.train_x) + len(d.test_x) == 1797 and len(d.test_x) == 359
    assert d.train_x.dtype == torch.uint8 and tuple(d.train_x.shape[1:]) == (1, 8, 8)
    assert d.train_x.max() == 255 and d.classes == tuple("0123456789")
    assert set(d.test_y.tolist()) == set(range(10)) and not d.flippable
    again = load_dataset("digits")
    assert torch.equal(again.test_x, d.test_x)  # the held-out split is fixed


def test_shapes_are_seeded_and_cover_every_class():
    a, b = tiny(train=200), tiny(train=200)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.train_y, b.train_y)
    assert not torch.equal(tiny(seed=1).train_x, a.train_x)
    assert tuple(a.train_x.shape[1:]) == (3, 32, 32) and len(a.classes) == 10
    assert set(a.train_y.tolist()) == set(range(10))
    assert not torch.equal(a.train_x[:24], a.test_x)  # test images are others


def test_shapes_segmentation_are_the_demos_scenes():
    d = tiny("shapes-seg", train=4, test=2, image_size=16)
    assert d.task == "segmentation" and d.classes == synthetic.SEG_CLASSES
    assert tuple(d.train_x.shape) == (4, 3, 32, 32) and tuple(d.train_y.shape) == (4, 32, 32)
    assert set(d.train_y.unique().tolist()) - {0}  # shapes in the masks
    from explorer import demo

    assert demo.sample is synthetic.scene  # one generator, not a copy


def test_image_folder(tmp_path):
    for cls, colour in (("cats", (200, 30, 30)), ("dogs", (30, 30, 200))):
        (tmp_path / cls).mkdir()
        for i in range(5):
            Image.new("RGB", (40 + i, 30), colour).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    d = load_dataset(str(tmp_path), image_size=16)
    assert d.classes == ("cats", "dogs") and len(d.train_x) + len(d.test_x) == 10
    assert tuple(d.train_x.shape[1:]) == (3, 16, 16)
    with pytest.raises(DataError, match="at least two sub-folders"):
        load_dataset(str(tmp_path / "cats"))
    with pytest.raises(DataError, match="no such data set"):
        load_dataset(str(tmp_path / "missing"))


def test_paper_recipe_divides_the_rate_at_half_and_three_quarters():
    r = get_recipe("paper")
    assert (r.lr, r.momentum, r.weight_decay, r.batch_size, r.pad_crop, r.flip) == (
        0.1, 0.9, 1e-4, 128, 4, True)
    assert [r.lr_at(e, 8) for e in range(8)] == pytest.approx(
        [0.1] * 4 + [0.01] * 2 + [0.001] * 2)
    with pytest.raises(ValueError, match="presets are"):
        get_recipe("fast")


def test_epoch_plan_is_seeded_and_crops_shift_images():
    a = plan_epoch(10, 3, 1, 4, True, torch.device("cpu"))
    b = plan_epoch(10, 3, 1, 4, True, torch.device("cpu"))
    assert torch.equal(a.order, b.order) and torch.equal(a.shift, b.shift)
    assert not torch.equal(plan_epoch(10, 3, 2, 4, True, torch.device("cpu")).order, a.order)
    x = torch.arange(2 * 1 * 4 * 4).view(2, 1, 4, 4).float() + 1
    same = pad_crop(x, torch.tensor([[2, 2], [2, 2]]), 2)
    assert torch.equal(same, x)  # offset = pad: the original image
    moved = pad_crop(x, torch.tensor([[0, 0], [4, 4]]), 2)
    assert moved[0, 0, 0, 0] == 0 and torch.equal(moved[0, 0, 2:, 2:], x[0, 0, :2, :2])
    assert torch.equal(moved[1, 0, :2, :2], x[1, 0, 2:, 2:])
    flipped, mask = augment(x, x[:, 0].long(), None, torch.tensor([True, False]), 0)
    assert torch.equal(flipped[0], x[0].flip(2)) and torch.equal(mask[0], x[0, 0].flip(1).long())


def test_mean_iou_over_the_confusion_matrix():
    target = torch.tensor([0, 0, 1, 1, 2])
    assert mean_iou(confusion(target, target, 3)) == 1.0
    pred = torch.tensor([0, 1, 1, 1, 2])
    assert mean_iou(confusion(pred, target, 3)) == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)


def test_cuda_path_uses_bfloat16_and_channels_last_the_cpu_channels_last():
    assert acceleration(torch.device("cuda")) == Acceleration(torch.bfloat16, True)
    cpu = acceleration(torch.device("cpu"))
    assert cpu.amp is None and cpu.channels_last


def test_training_learns_and_two_runs_with_one_seed_agree():
    data = tiny("digits", train=160, test=64)
    spec = RunSpec((("lenet5", {}), ("lenet5", {})), quick(epochs=3, batch=32), 3, seed=5)
    a, b = prepare(spec, data)
    assert b.label == "lenet5 (2)"
    train_side_by_side([a, b])
    assert a.history[-1].train_loss < a.history[0].train_loss
    for key, tensor in a.model.state_dict().items():
        assert torch.equal(tensor, b.model.state_dict()[key]), key  # same data order, seed
    assert a.history[-1].test_error < 0.9 and title(a, data).startswith(
        "trained 3 epochs on digits, test error")


def test_resume_continues_as_if_never_stopped(tmp_path):
    data = tiny(train=32, test=16)
    spec = RunSpec((("lenet5", {}),), quick(epochs=2), 2, seed=1)
    [whole] = prepare(spec, data)
    whole.trainer.train()
    [first] = prepare(spec, data)
    first.trainer.run_epoch()
    first.trainer.save_checkpoint(tmp_path / "c.safetensors")
    [second] = prepare(spec, data)
    second.trainer.resume(tmp_path / "c.safetensors")
    assert second.trainer.epoch == 1
    second.trainer.train()
    for key, tensor in whole.model.state_dict().items():
        assert torch.allclose(tensor, second.model.state_dict()[key], atol=1e-6), key
    assert [m.train_loss for m in second.history] == pytest.approx(
        [m.train_loss for m in whole.history], rel=1e-5)


def test_cancel_between_steps():
    data = tiny(train=64, test=16)
    [c] = prepare(RunSpec((("lenet5", {}),), quick(), 2), data)
    cancel = threading.Event()
    steps = []

    def on_step(report):
        steps.append(report.step)
        if report.step == 2:
            cancel.set()

    with pytest.raises(TrainingCancelled, match="step 2"):
        c.trainer.run_epoch(cancel, on_step)
    assert steps == [1, 2] and c.trainer.epoch == 0


def test_segmentation_reports_mean_iou():
    data = tiny("shapes-seg", train=8, test=4, image_size=16)
    options = {"base_width": 4, "padding": True, "batch_norm": True}
    [c] = prepare(RunSpec((("unet_padded", options),), quick(epochs=1, batch=4), 1), data)
    assert c.options["num_classes"] == 4 and c.options["in_channels"] == 3
    m = c.trainer.run_epoch()
    assert 0 <= m.mean_iou <= 1 and 0 <= m.train_error <= 1


def test_task_mismatch_is_one_clear_error():
    with pytest.raises(ValueError, match="segmentation network and shapes a classification"):
        prepare(RunSpec((("unet_padded", {}),), quick(), 1), tiny(train=8, test=4))


def test_run_folder(tmp_path):
    data = tiny(train=32, test=16)
    contenders = prepare(RunSpec((("lenet5", {}), ("lenet5", {"activation": "relu"})),
                                 quick(epochs=1), 1), data)
    train_side_by_side(contenders, out=tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["checkpoint-lenet5.safetensors", "checkpoint-lenet5_activation_relu"
                     ".safetensors", "curves.png", "metrics.csv", "run.json",
                     "weights-lenet5_activation_relu.safetensors",
                     "weights.safetensors"]
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert rows[0] == "model,epoch,train_loss,train_error,test_loss,test_error,mean_iou,lr," \
                      "seconds" and len(rows) == 3
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["labels"] == "shapes" and meta["models"][1]["options"]["activation"] == "relu"
    assert run_options(tmp_path / "weights-lenet5_activation_relu.safetensors") == (
        contenders[1].options, "shapes")
    assert Image.open(tmp_path / "curves.png").size[0] > 500
    write_outputs(tmp_path, contenders)  # writing again replaces, leaves no .part
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]
    model = zoo.build("lenet5", **contenders[0].options)
    from explorer.inference.weights import load_weights

    assert load_weights(model, tmp_path / "weights.safetensors").ok


def test_digit_values_are_the_ucis_counts():
    d = load_dataset("digits")
    values = np.unique(d.train_x.numpy())
    assert len(values) == 17  # 0..16 scaled to 0..255


def test_lessons_say_what_the_run_measured():
    from explorer.training.lessons import load_training_lessons, verdict
    from explorer.training.metrics import EpochMetrics

    lessons = {lesson.id: lesson for lesson in load_training_lessons()}
    plain = lessons["plain-degradation"]

    def run(*errors):
        return [EpochMetrics(i + 1, 1.0, e, 1.0, e, seconds=30.0) for i, e in enumerate(errors)]

    text = verdict(plain, {"plain-20": run(0.6, 0.34), "plain-56": run(0.8, 0.61)})
    assert "final train error: plain-20 34.0%, plain-56 61.0%" in text
    assert "plain-56 ends above plain-20 by 27.0 points, at every epoch" in text
    assert "Per epoch: plain-20 60.0, 34.0 %; plain-56 80.0, 61.0 %." in text
    assert text.endswith("The claim shows in this run.") and "After 2 epochs (2.0 min)" in text
    depth = lessons["residual-depth"]
    text = verdict(depth, {"ResNet-20": run(0.8, 0.5, 0.3), "ResNet-56": run(0.7, 0.6, 0.2)})
    assert "ResNet-56 ends below ResNet-20 by 10.0 points, from epoch 3 on" in text
    text = verdict(plain, {"plain-20": run(0.5), "plain-56": run(0.4)})
    assert "does not show in this run" in text
    assert verdict(plain, {"plain-20": run(0.5), "plain-56": []}).startswith("The run did not")
    mnist = lessons["lenet-mnist"]
    assert verdict(mnist, {"lenet5": run(0.02)}).endswith("Shown in this run.")


def test_every_lesson_names_zoo_models_of_its_data_sets_task():
    from explorer.training.datasets import NAMES
    from explorer.training.lessons import load_training_lessons
    from explorer.training.recipes import PRESETS

    for lesson in load_training_lessons():
        assert lesson.dataset in NAMES and lesson.preset in PRESETS, lesson.id
        for name, options in lesson.models:
            info = zoo.get_info(name)  # raises for a model the zoo does not have
            task = "segmentation" if lesson.dataset == "shapes-seg" else "classification"
            assert info.task == task and info.resolve(options), lesson.id


def test_quick_preset_warms_up_over_its_first_epoch():
    r = get_recipe("quick")
    assert r.lr_at_step(0, 0, 10, 5) == pytest.approx(0.005)
    assert r.lr_at_step(0, 5, 10, 5) == pytest.approx(0.0275)
    assert r.lr_at_step(1, 0, 10, 5) == pytest.approx(0.05) == r.lr_at_step(4, 9, 10, 5)
    assert get_recipe("paper").lr_at_step(0, 0, 10, 5) == 0.1  # the paper's: no warm-up


def test_training_builds_the_papers_init_unless_asked_otherwise():
    """With each residual branch's last BN at zero (the zoo's default, for bounded
    random-init outputs) ResNet-20 ended the quick preset at 76 % training error against
    22 % with He et al.'s init: training builds the paper's, and keeps an explicit choice."""
    data = tiny(train=16, test=8)
    spec = RunSpec((("resnet20_cifar", {}), ("resnet20_cifar", {"zero_init_last": True})),
                   quick(epochs=1), 1)
    papers, zeroed = prepare(spec, data)
    assert papers.options["zero_init_last"] is False and zeroed.options["zero_init_last"]
    last = [b.bn2.weight for b in papers.model.layer1]
    assert all(bool((w == 1).all()) for w in last)
    assert all(bool((b.bn2.weight == 0).all()) for b in zeroed.model.layer1)
    assert "zero_init_last" not in prepare(RunSpec((("lenet5", {}),), quick(), 1),
                                           tiny("digits", train=16, test=8))[0].options
