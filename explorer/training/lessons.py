"""Training lessons: a claim from the papers, the run that tests it (data set, preset, the
models), and the sentence that says what this run measured. The lessons are data
(resources/training_lessons.json); the window runs them in the Training dock."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..assets import resource
from .metrics import EpochMetrics


@dataclass(frozen=True)
class TrainingLesson:
    id: str
    title: str
    claim: str
    dataset: str
    preset: str
    models: tuple[tuple[str, dict], ...]
    expect: str  # second_worse, second_better, below; compare (no claim: say which)
    measure: str  # train_error or test_error; boundary_f1 or mean_iou (higher is better)
    threshold: float = 0.0
    train_size: int | None = None  # None: the whole set (or the generated default)


def load_training_lessons() -> list[TrainingLesson]:
    raw = json.loads(resource("training_lessons.json").read_text())
    return [TrainingLesson(**{**d, "models": tuple((m, dict(o)) for m, o in d["models"])})
            for d in raw]


HIGHER_IS_BETTER = ("boundary_f1", "mean_iou")
NAMES = {"boundary_f1": "boundary F1", "mean_iou": "test mean IoU"}


def _name(measure: str) -> str:
    return NAMES.get(measure, measure.replace("_", " "))


def segmentation_verdict(lesson: TrainingLesson,
                         histories: dict[str, list[EpochMetrics]]) -> str:
    """Each model's test mean IoU and boundary F1 per epoch, then whether the second ends
    above the first in the lesson's measure."""
    epochs = min(len(h) for h in histories.values())
    lines = [f"After {epochs} epochs (test set, per epoch):"]
    for label, h in histories.items():
        miou = ", ".join(f"{m.mean_iou or 0.0:.3f}" for m in h)
        bf = ", ".join(f"{m.boundary_f1 or 0.0:.3f}" for m in h)
        lines.append(f"{label}: mean IoU {miou}; boundary F1 {bf}.")
    (a, ha), (b, hb) = list(histories.items())[:2]
    va, vb = getattr(ha[-1], lesson.measure) or 0.0, getattr(hb[-1], lesson.measure) or 0.0
    what = _name(lesson.measure)
    relation = "above" if vb > va else "below" if vb < va else "level with"
    ends = f"{b} ends {relation} {a} in {what} ({vb:.3f} against {va:.3f})."
    blind = [label for label, h in histories.items() if (h[-1].boundary_f1 or 0.0) < 5e-4]
    if blind:  # say so: a win over a network that found nothing is not a finer boundary
        ends += (f" {' and '.join(blind)} matched no boundary at all in the end (one class "
                 f"everywhere, most likely the background).")
    if lesson.expect == "compare":
        return " ".join([*lines, ends])
    shown = vb > va if lesson.expect == "second_better" else vb < va
    return " ".join([*lines, ends, "The claim shows in this run." if shown else
                     "The claim does not show in this run (more epochs or scenes)."])


def verdict(lesson: TrainingLesson, histories: dict[str, list[EpochMetrics]]) -> str:
    """What this run measured, and whether the claim showed in it."""
    if any(not h for h in histories.values()) or len(histories) < len(lesson.models):
        return "The run did not finish: nothing measured."
    if lesson.measure in HIGHER_IS_BETTER:
        return segmentation_verdict(lesson, histories)
    finals = [(label, getattr(h[-1], lesson.measure)) for label, h in histories.items()]
    epochs = min(len(h) for h in histories.values())
    what = _name(lesson.measure)
    figures = ", ".join(f"{label} {value:.1%}" for label, value in finals)
    if lesson.expect == "below":
        shown = finals[0][1] < lesson.threshold
        return (f"After {epochs} epochs, {what}: {figures} (the claim: below "
                f"{lesson.threshold:.0%}). " + ("Shown in this run." if shown else
                                                 "Not shown in this run: train longer."))
    (a, va), (b, vb) = finals[:2]
    shown = vb > va if lesson.expect == "second_worse" else vb < va
    relation = "above" if vb > va else "below"
    return (f"After {epochs} epochs, final {what}: {figures}; {b} ends {relation} {a}. "
            + ("The claim shows in this run." if shown else
               "The claim does not show in this run (more epochs, or the paper's recipe)."))
