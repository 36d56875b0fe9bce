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
    trained: dict | None = None  # weights shipped in resources/trained (LeNet-5 on digits)
    train: bool = False  # nothing published answers its classes: training it is the way

    def trained_text(self) -> str:
        """"trained on digits, 97.2 % on 359 held-out images"."""
        t = self.trained or {}
        return (f"trained on {t.get('dataset', '?')}, {100 * t.get('test_accuracy', 0):.1f} % "
                f"on {t.get('test_images', '?')} held-out images")


def demo_meta() -> dict | None:
    """resources/demo/demo.json: the demo U-Net's model, options, classes and file."""
    path = RESOURCES / "demo" / "demo.json"
    return json.loads(path.read_text()) if path.exists() else None


def shipped_trained(model: str) -> dict | None:
    """The metadata of weights shipped for ``model`` in resources/trained (written by
    ``python -m explorer.training.shipped``), with ``path`` added; None when there are none.
    Was: LeNet-5's banner sent a person to AlexNet and DenseNet (ImageNet models) although
    a trained LeNet-5 ships with the app."""
    folder = RESOURCES / "trained"
    for meta_path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        meta = json.loads(meta_path.read_text())
        if meta.get("model") == model and (folder / meta.get("weights", "")).is_file():
            return {**meta, "path": str(folder / meta["weights"])}
    return None


def next_steps(model: str, limit: int = 3) -> NextSteps:
    info = zoo.get_info(model)
    own = tuple(ws.name for ws in catalogue.weight_sets(model))
    with_weights = sorted({ws.model for ws in catalogue.load_catalogue().sets} - {model})
    family = [m for m in with_weights if zoo.get_info(m).family == info.family]
    # another family's weights only where they answer the same classes (was: AlexNet and
    # DenseNet, ImageNet's, offered for the CIFAR ResNets)
    task = [m for m in with_weights if zoo.get_info(m).task == info.task
            and info.labels in (None, zoo.get_info(m).labels)]
    trained = shipped_trained(model)
    related = () if own or trained else tuple((family or task)[:limit])
    meta = demo_meta()
    demo = meta is not None and info.task == "segmentation" and not (
        model == meta["model"] and own)
    train = not (own or trained or related or demo)
    return NextSteps(model, own, related, demo, trained, train)


def cli_note(steps: NextSteps) -> str:
    """One line for ``explorer run``: the result is noise, and what would change that."""
    ways = []
    if steps.trained:
        import os

        path = steps.trained["path"]
        shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
        ways.append(f"the shipped weights ({steps.trained_text()}): --weights {shown}")
    if steps.published:
        ways.append(f"--weights pretrained ({steps.published[0]})")
    if steps.demo:
        ways.append("the demo: explorer run unet_padded IMAGE --weights demo")
    if steps.related:
        ways.append(f"a model with published weights: {', '.join(steps.related)}")
    if steps.train:
        ways.append(f"training it: explorer train {steps.model} --dataset shapes (or cifar10)")
    ways.append("your own state dict: --weights FILE")
    return (f"{steps.model} has untrained weights (random init): the prediction means "
            f"nothing; try {'; or '.join(ways)}")
