"""Segmentation's measures and lessons: the boundary F1 (Csurka et al. 2013) on hand-made
masks whose answer is known, metrics.csv's segmentation columns, and each segmentation
lesson run for one tiny epoch."""

from __future__ import annotations

import csv
from dataclasses import replace

import pytest
import torch

from explorer.training import get_recipe, load_dataset, prepare, train_side_by_side
from explorer.training.lessons import load_training_lessons, verdict
from explorer.training.metrics import EpochMetrics, boundary_f1, boundary_tolerance
from explorer.training.run import RunSpec


def halves(cols: int, rows: int = 16) -> torch.Tensor:
    """A 16×16 class map: class 1 in the first ``cols`` columns of the first ``rows``."""
    m = torch.zeros(1, 16, 16, dtype=torch.long)
    m[:, :rows, :cols] = 1
    return m


def test_identical_masks_score_one():
    assert float(boundary_f1(halves(8), halves(8), 2, 1)) == 1.0
    whole = torch.zeros(1, 16, 16, dtype=torch.long)  # one class, no boundary anywhere
    assert float(boundary_f1(whole, whole, 2, 1)) == 1.0


def test_a_shifted_edge_counts_within_the_tolerance_only():
    # the truth's edge between columns 7 and 8, the prediction's 3 columns to the right
    truth, shifted = halves(8), halves(11)
    assert float(boundary_f1(shifted, truth, 2, 2)) == 0.0
    assert float(boundary_f1(shifted, truth, 2, 3)) == 1.0


def test_a_partial_mask_by_hand():
    # Truth: class 1 in the left half. Prediction: only its top-left quadrant.
    # Class 1: predicted boundary = column 7 rows 0-7 and row 7 columns 0-7 (15 px), 8 on
    # the truth's column-7 edge (16 px): precision 8/15, recall 8/16, F1 16/31.
    # Class 0: predicted boundary = column 8 rows 0-8 and row 8 columns 0-8 (17 px), 9 on
    # the truth's column-8 edge: precision 9/17, recall 9/16, F1 6/11.
    score = float(boundary_f1(halves(8, rows=8), halves(8), 2, 0))
    assert score == pytest.approx((16 / 31 + 6 / 11) / 2)


def test_a_missed_class_scores_zero_and_images_average():
    truth = torch.cat([halves(8), halves(8)])
    pred = torch.cat([halves(8), torch.zeros(1, 16, 16, dtype=torch.long)])
    scores = boundary_f1(pred, truth, 3, 1)  # class 2 is in neither: not counted
    assert scores.tolist() == [1.0, 0.0]


def test_tolerance_is_csurkas_share_of_the_diagonal():
    assert boundary_tolerance(64, 64) == 1 and boundary_tolerance(480, 360) == 4


def seg_lessons():
    return [lesson for lesson in load_training_lessons() if lesson.dataset == "shapes-seg"]


def test_two_segmentation_lessons_with_narrowed_models():
    lessons = {lesson.id: lesson for lesson in seg_lessons()}
    assert set(lessons) == {"fcn-skips", "unet-vs-segnet"}
    assert [m for m, _ in lessons["fcn-skips"].models] == ["fcn32s", "fcn8s"]
    assert all(o["base_width"] < 64 for lesson in lessons.values() for _, o in lesson.models)


@pytest.mark.parametrize("lesson", seg_lessons(), ids=lambda lesson: lesson.id)
def test_a_segmentation_lesson_runs_and_measures(lesson, tmp_path):
    data = load_dataset(lesson.dataset, train_size=4, test_size=2, image_size=16)
    recipe = replace(get_recipe(lesson.preset), batch_size=2)
    contenders = prepare(RunSpec(lesson.models, recipe, 1), data)
    train_side_by_side(contenders, out=tmp_path)
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:7] == ["model", "epoch", "train_loss", "train_miou", "test_loss",
                                 "test_miou", "test_boundary_f1"]
    assert [r["model"] for r in rows] == [m for m, _ in lesson.models]
    for r in rows:
        assert 0 <= float(r["train_miou"]) <= 1 and 0 <= float(r["test_miou"]) <= 1
        assert 0 <= float(r["test_boundary_f1"]) <= 1
    text = verdict(lesson, {c.label: c.history for c in contenders})
    assert text.startswith("After 1 epoch (test set, per epoch):")
    assert f"{contenders[1].history[0].boundary_f1:.3f}" in text


def test_the_verdict_quotes_every_epoch_and_says_whether_the_claim_showed():
    fcn = {lesson.id: lesson for lesson in seg_lessons()}["fcn-skips"]

    def run(*pairs):
        return [EpochMetrics(i + 1, 1.0, 0.5, 1.0, 0.5, miou, boundary_f1=bf)
                for i, (miou, bf) in enumerate(pairs)]

    text = verdict(fcn, {"fcn32s": run((0.2, 0.0), (0.21, 0.01)),
                         "fcn8s": run((0.25, 0.08), (0.29, 0.11))})
    assert "fcn8s: mean IoU 0.250, 0.290; boundary F1 0.080, 0.110." in text
    assert "fcn8s ends above fcn32s in boundary F1 (0.110 against 0.010)" in text
    assert text.endswith("The claim shows in this run.")
    text = verdict(fcn, {"fcn32s": run((0.21, 0.0)), "fcn8s": run((0.25, 0.05))})
    assert "fcn32s matched no boundary at all in the end (one class everywhere" in text
    text = verdict(fcn, {"fcn32s": run((0.3, 0.2)), "fcn8s": run((0.2, 0.1))})
    assert text.endswith("does not show in this run (more epochs or scenes).")
    unet = {lesson.id: lesson for lesson in seg_lessons()}["unet-vs-segnet"]
    text = verdict(unet, {"unet_padded": run((0.3, 0.2)), "segnet": run((0.3, 0.2))})
    assert text.endswith("segnet ends level with unet_padded in boundary F1 (0.200 against "
                         "0.200).")
