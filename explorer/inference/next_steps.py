"""What would make an untrained model's output mean something: the next steps that the
Image dock's banner and ``explorer run`` name when a result came from random weights.

Was: the window's banner offered a button only where a model has published weights
(FCN-8s, SegNet, LeNet-5 and U-Net got a dead end), and ``explorer run`` printed
``caldron (1.8%) on cpu`` for random weights with no word that they were untrained."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .. import zoo
from ..assets import RESOURCES
from . import catalogue

DEMO_LABELS = "demo_shapes"  # resources/labels/demo_shapes.txt: the demo U-Net's classes


@dataclass(frozen=True)
class NextSteps:
    model: str
    published: tuple[str, ...]  # the model's own published sets, default first
    related: tuple[str, ...]  # models of its family (else of its task) that have some
    demo: bool  # the demo U-Net (trained on shapes) is a segmentation model's next step


def demo_meta() -> dict | None:
    """resources/demo/demo.json: the demo U-Net's model, options, classes and file."""
    path = RESOURCES / "demo" / "demo.json"
    return json.loads(path.read_text()) if path.exists() else None


def next_steps(model: str, limit: int = 3) -> NextSteps:
    info = zoo.get_info(model)
    own = tuple(ws.name for ws in catalogue.weight_sets(model))
    with_weights = sorted({ws.model for ws in catalogue.load_catalogue().sets} - {model})
    family = [m for m in with_weights if zoo.get_info(m).family == info.family]
    task = [m for m in with_weights if zoo.get_info(m).task == info.task]
    related = () if own else tuple((family or task)[:limit])
    meta = demo_meta()
    demo = meta is not None and info.task == "segmentation" and not (
        model == meta["model"] and own)
    return NextSteps(model, own, related, demo)


def cli_note(steps: NextSteps) -> str:
    """One line for ``explorer run``: the result is noise, and what would change that."""
    ways = []
    if steps.published:
        ways.append(f"--weights pretrained ({steps.published[0]})")
    if steps.demo:
        ways.append("the demo: explorer run unet_padded IMAGE --weights demo")
    if steps.related:
        ways.append(f"a model with published weights: {', '.join(steps.related)}")
    ways.append("your own state dict: --weights FILE")
    return (f"{steps.model} has untrained weights (random init): the prediction means "
            f"nothing; try {'; or '.join(ways)}")
