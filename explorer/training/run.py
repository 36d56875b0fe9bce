"""A training run as a person asks for it: one model (or two, compared on the same data in
the same order), a data set, a preset, a number of epochs, a device; and the folder it
writes: metrics.csv, curves.png, weights.safetensors (the compared model's beside it as
weights-NAME.safetensors), run.json, and a checkpoint per model each epoch from which
``resume`` continues.

The command line (``explorer train``) and the window's Training dock both go through
``prepare`` and ``train_side_by_side``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .. import zoo
from ..export.files import check_folder, write_atomic, write_text_atomic
from .augment import InputFit
from .curves import write_curves
from .datasets import TensorData
from .loop import StepReport, Trainer
from .metrics import EpochMetrics, metrics_csv
from .readers import DataError
from .recipes import Recipe

LABEL_SETS = {"digits": "digits", "mnist": "digits", "shapes": "shapes"}


@dataclass
class Contender:
    """One model of a run: its zoo name, the options it was built with, its trainer."""

    name: str
    options: dict
    trainer: Trainer
    label: str = ""

    def __post_init__(self) -> None:
        self.label = self.label or self.name

    @property
    def model(self) -> nn.Module:
        return self.trainer.model

    @property
    def history(self) -> list[EpochMetrics]:
        return self.trainer.history


@dataclass(frozen=True)
class RunSpec:
    models: tuple[tuple[str, dict], ...]  # (zoo name, options) of each model
    recipe: Recipe
    epochs: int
    device: str = "cpu"
    seed: int = 0
    extra: dict = field(default_factory=dict)


def fit_options(name: str, options: dict, data: TensorData) -> dict:
    """The model's options for this data: as many outputs as the data has classes, and as
    many input channels where the model lets them be chosen; and the papers' init
    (``zero_init_last`` off unless asked for: with each residual branch's last BN at zero,
    ResNet-20 ended the quick preset at 76 % training error against 22 % without, as its
    branches get no gradient until that BN's scale has moved)."""
    info = zoo.get_info(name)
    known = {o.name for o in info.options}
    fitted = zoo.papers_init(name, options)
    if "num_classes" in known:  # the data decides the head
        fitted["num_classes"] = len(data.classes)
    if "in_channels" in known:
        fitted["in_channels"] = data.channels
    return info.resolve(fitted)


def input_fit(name: str, options: dict, data: TensorData) -> InputFit:
    """Classification data is resized to the model's input size (digits' 8×8 to LeNet's
    32×32); segmentation keeps the data's size (the networks are fully convolutional)."""
    info = zoo.get_info(name)
    _, channels, h, w = zoo.input_shape(name, **options)
    size = (h, w) if data.task == "classification" else None
    mean, std = info.mean, info.std
    if len(mean) != channels:
        mean, std = (sum(mean) / len(mean),) * channels, (sum(std) / len(std),) * channels
    return InputFit(channels, size, mean, std)


def check_task(name: str, data: TensorData) -> None:
    task = zoo.get_info(name).task
    if task != data.task:
        raise DataError(f"{name} is a {task} network and {data.name} a {data.task} data set; "
                         f"pick a {task} data set")


def prepare(spec: RunSpec, data: TensorData) -> list[Contender]:
    """Build each model for the data, seeded alike: each starts from the same seed and
    sees the same order of the same data."""
    contenders = []
    for i, (name, options) in enumerate(spec.models):
        check_task(name, data)
        fitted = fit_options(name, options, data)
        torch.manual_seed(spec.seed)
        model = zoo.build(name, **fitted)
        trainer = Trainer(model, data, spec.recipe, input_fit(name, fitted, data),
                          epochs=spec.epochs, device=spec.device, seed=spec.seed)
        label = name if all(name != n for n, _ in spec.models[:i]) else \
            f"{name} ({', '.join(f'{k}={v}' for k, v in options.items()) or i + 1})"
        contenders.append(Contender(name, fitted, trainer, label))
    return contenders


def train_side_by_side(contenders: list[Contender], cancel: threading.Event | None = None,
                       on_epoch: Callable[[Contender, EpochMetrics], None] | None = None,
                       on_step: Callable[[Contender, StepReport], None] | None = None,
                       out: Path | None = None) -> None:
    """Epoch by epoch, each model in turn (so that both curves grow together); after each
    epoch its checkpoint and the run's files are written when ``out`` is given."""
    while not all(c.trainer.done for c in contenders):
        for c in contenders:
            if c.trainer.done:
                continue
            step = (lambda r, c=c: on_step(c, r)) if on_step else None
            metrics = c.trainer.run_epoch(cancel, step)
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                c.trainer.save_checkpoint(checkpoint_path(out, c))
                write_outputs(out, contenders)
            if on_epoch is not None:
                on_epoch(c, metrics)


def _slug(label: str) -> str:
    """'lenet5 (activation=relu)' -> 'lenet5_activation_relu', for file names."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", label).strip("_")


def checkpoint_path(out: Path, c: Contender) -> Path:
    return out / f"checkpoint-{_slug(c.label)}.safetensors"


def weights_name(index: int, c: Contender) -> str:
    return "weights.safetensors" if index == 0 else f"weights-{_slug(c.label)}.safetensors"


def run_files(out: Path, contenders: list[Contender]) -> list[Path]:
    """Every file a run writes into ``out``: checked before the first step, so a
    destination that cannot be written is refused before any training is lost."""
    files = [out / "metrics.csv", out / "curves.png", out / "run.json"]
    for i, c in enumerate(contenders):
        files += [out / weights_name(i, c), checkpoint_path(out, c)]
    return files


def resume(out: Path, contenders: list[Contender]) -> int:
    """Load each model's checkpoint from ``out`` where there is one; epochs already done."""
    done = 0
    for c in contenders:
        path = checkpoint_path(out, c)
        if path.is_file():
            c.trainer.resume(path)
            done += c.trainer.epoch
    return done


def title(c: Contender, data: TensorData) -> str:
    """What the window's title says of trained weights."""
    if not c.history:
        return f"{c.label}: not trained"
    m = c.history[-1]
    figure = (f"mean IoU {m.mean_iou:.3f}" if m.mean_iou is not None
              else f"test error {m.test_error:.1%}")
    return f"trained {m.epoch} epoch{'s' * (m.epoch != 1)} on {data.name}, {figure}"


def write_outputs(out: Path, contenders: list[Contender]) -> None:
    """metrics.csv, curves.png, the weights and run.json, as they stand now."""
    from safetensors.torch import save_file

    out = check_folder(out)
    first = contenders[0].trainer
    histories = {c.label: c.history for c in contenders}
    write_text_atomic(out / "metrics.csv", metrics_csv(histories))
    write_curves(out / "curves.png", histories, first.epochs)
    models = []
    for i, c in enumerate(contenders):
        state = {k: v.detach().to("cpu").contiguous() for k, v in c.model.state_dict().items()}
        path = write_atomic(out / weights_name(i, c),
                            lambda tmp, state=state: save_file(state, str(tmp)))
        models.append({"model": c.name, "label": c.label, "options": c.options,
                       "weights": path.name, "epochs_done": c.trainer.epoch,
                       "final": c.history[-1].as_dict() if c.history else None})
    data = first.data
    meta = {"dataset": data.name, "task": data.task, "classes": list(data.classes),
            "labels": LABEL_SETS.get(data.name), "recipe": first.recipe.as_dict(),
            "epochs": first.epochs, "seed": first.seed, "device": str(first.device),
            "models": models}
    write_text_atomic(out / "run.json", json.dumps(meta, indent=1))


def run_options(weights: Path) -> tuple[dict, str | None] | None:
    """The options (and label set) a run folder's weights file was trained with, from its
    run.json; None when the file is not a run's."""
    meta_path = weights.with_name("run.json")
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        for m in meta["models"]:
            if m["weights"] == weights.name:
                return dict(m["options"]), meta.get("labels")
    except (ValueError, KeyError, TypeError):
        return None
    return None
