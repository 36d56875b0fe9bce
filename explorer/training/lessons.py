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
    expect: str  # second_worse, second_better, below
    measure: str  # train_error or test_error
    threshold: float = 0.0
    train_size: int | None = None  # None: the whole set (or the generated default)


def load_training_lessons() -> list[TrainingLesson]:
    raw = json.loads(resource("training_lessons.json").read_text())
    return [TrainingLesson(**{**d, "models": tuple((m, dict(o)) for m, o in d["models"])})
            for d in raw]


def _name(measure: str) -> str:
    return measure.replace("_", " ")


def verdict(lesson: TrainingLesson, histories: dict[str, list[EpochMetrics]]) -> str:
    """What this run measured, and whether the claim showed in it."""
    finals = [(label, getattr(h[-1], lesson.measure)) for label, h in histories.items() if h]
    if len(finals) < len(lesson.models):
        return "The run did not finish: nothing measured."
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
