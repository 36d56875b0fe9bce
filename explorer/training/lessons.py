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


def _epochs(n: int) -> str:
    return f"{n} epoch{'s' * (n != 1)}"


def segmentation_verdict(lesson: TrainingLesson,
                         histories: dict[str, list[EpochMetrics]]) -> str:
    """Each model's test mean IoU and boundary F1 per epoch, then whether the second ends
    above the first in the lesson's measure."""
    epochs = min(len(h) for h in histories.values())
    lines = [f"After {_epochs(epochs)} (test set, per epoch):"]
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
    """What this run measured (the final figures, each network's curve, since which epoch
    the claimed order held, the run's time), and whether the claim showed in it."""
    if any(not h for h in histories.values()) or len(histories) < len(lesson.models):
        return "The run did not finish: nothing measured."
    if lesson.measure in HIGHER_IS_BETTER:
        return segmentation_verdict(lesson, histories)
    finals = [(label, getattr(h[-1], lesson.measure)) for label, h in histories.items()]
    epochs = min(len(h) for h in histories.values())
    what = _name(lesson.measure)
    figures = ", ".join(f"{label} {value:.1%}" for label, value in finals)
    spent = sum(m.seconds for h in histories.values() for m in h)
    head = f"After {_epochs(epochs)} ({_duration(spent)}), "
    if lesson.expect == "below":
        shown = finals[0][1] < lesson.threshold
        return (head + f"{what}: {figures} (the claim: below "
                f"{lesson.threshold:.0%}). " + ("Shown in this run." if shown else
                                                 "Not shown in this run: train longer."))
    (a, va), (b, vb) = finals[:2]
    shown = vb > va if lesson.expect == "second_worse" else vb < va
    relation = "above" if vb > va else "below"
    curves = "; ".join(f"{label} " + ", ".join(f"{100 * getattr(m, lesson.measure):.1f}"
                                                 for m in h) + " %"
                       for label, h in histories.items())
    since = _held_since(lesson, *(list(histories.values())[:2])) if shown else ""
    return (head + f"final {what}: {figures}; {b} ends {relation} {a} by "
            f"{abs(vb - va) * 100:.1f} points{since}. Per epoch: {curves}. "
            + ("The claim shows in this run." if shown else
               "The claim does not show in this run (more epochs, or the paper's recipe)."))


def _held_since(lesson: TrainingLesson, first: list[EpochMetrics],
                second: list[EpochMetrics]) -> str:
    """', at every epoch' or ', from epoch N on': where the claimed order held to the end."""
    sign = 1 if lesson.expect == "second_worse" else -1
    held = [sign * (getattr(b, lesson.measure) - getattr(a, lesson.measure)) > 0
            for a, b in zip(first, second)]
    start = len(held)
    while start > 0 and held[start - 1]:
        start -= 1
    return ", at every epoch" if start == 0 else f", from epoch {start + 1} on"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
