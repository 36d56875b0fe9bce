"""One door to every data set the lab trains on, by name or path, into ``TensorData``:
uint8 images and labels as tensors, ready to move to the training device whole.

    digits       the shipped UCI handwritten digits (1,797 of 8×8; 20 % held out)
    shapes       built-in 32×32 classification set (explorer.training.synthetic)
    shapes-seg   built-in segmentation scenes (the demo's shapes)
    mnist        fetched from the publisher when asked (explorer.training.catalogue)
    cifar10      fetched likewise
    PATH         a folder with one sub-folder of images per class
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..assets import resource
from ..inference.download import Progress
from . import readers, synthetic
from .catalogue import CATALOGUE, fetch_dataset

BUILT_IN = ("digits", "shapes", "shapes-seg")
NAMES = (*BUILT_IN, *CATALOGUE)
TITLES = {
    "digits": "UCI handwritten digits (shipped, 1,797 of 8×8)",
    "shapes": "Built-in shapes (32×32, 10 classes, generated)",
    "shapes-seg": "Built-in shapes scenes, segmentation (generated)",
    **{name: remote.title for name, remote in CATALOGUE.items()},
}
DIGIT_CLASSES = tuple(str(d) for d in range(10))
DEFAULT_SIZES = {"shapes": (3200, 1000), "shapes-seg": (400, 100)}  # generated: train, test


@dataclass(frozen=True)
class TensorData:
    """A data set held as tensors. Images: uint8 N×C×H×W; labels: int64 N (classification)
    or N×H×W (segmentation, a class index per pixel)."""

    name: str
    title: str
    task: str  # "classification" or "segmentation"
    classes: tuple[str, ...]
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    flippable: bool = True  # a mirror image is still of its class (not so for digits)

    @property
    def channels(self) -> int:
        return self.train_x.shape[1]

    @property
    def size(self) -> tuple[int, int]:
        return tuple(self.train_x.shape[2:])

    def subset(self, train: int, test: int) -> TensorData:
        """The first ``train`` and ``test`` items (tests and quick looks)."""
        return replace(self, train_x=self.train_x[:train], train_y=self.train_y[:train],
                       test_x=self.test_x[:test], test_y=self.test_y[:test])

    def to(self, device: torch.device) -> TensorData:
        return replace(self, **{k: getattr(self, k).to(device) for k in
                                ("train_x", "train_y", "test_x", "test_y")})

    def describe(self) -> str:
        return (f"{self.title}: {len(self.train_x):,} training and {len(self.test_x):,} test "
                f"images of {self.channels}×{self.size[0]}×{self.size[1]}, "
                f"{len(self.classes)} classes")


def _tensors(name: str, task: str, classes, tx, ty, vx, vy, title: str | None = None
             ) -> TensorData:
    def t(a: np.ndarray) -> torch.Tensor:  # a copy where the array is read-only (IDX)
        return torch.from_numpy(np.require(a, requirements=("C", "W")))

    return TensorData(name, title or TITLES.get(name, name), task, tuple(classes),
                      t(tx), t(ty), t(vx), t(vy))


def held_out(x: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """A seeded split: (train x, train y, test x, test y)."""
    order = np.random.default_rng(seed).permutation(len(x))
    cut = len(x) - max(1, int(round(len(x) * fraction)))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def load_dataset(name: str, *, train_size: int | None = None, test_size: int | None = None,
                 seed: int = 0, image_size: int = 32, progress: Progress | None = None,
                 cancel: threading.Event | None = None) -> TensorData:
    """The data set ``name`` (see the module's list) or an image folder at that path.
    ``train_size``/``test_size`` set the generated sets' sizes (default 3,200 and 1,000 for
    shapes, 400 and 100 scenes for shapes-seg) and cut the others. Raises DataError, or
    DownloadError while fetching."""
    if name == "digits":
        x, y = readers.read_digits(resource("datasets", "digits.csv.gz"))
        data = replace(_tensors(name, "classification", DIGIT_CLASSES,
                                *held_out(x, y, 0.2, 1797)), flippable=False)
    elif name == "shapes":
        train, test = DEFAULT_SIZES[name]
        tx, ty = synthetic.shapes(train_size or train, seed)
        vx, vy = synthetic.shapes(test_size or test, seed + 10_000)
        return _tensors(name, "classification", synthetic.CLASSES, tx, ty, vx, vy)
    elif name == "shapes-seg":
        train, test = DEFAULT_SIZES[name]
        tx, ty = synthetic.scenes(train_size or train, seed, image_size * 2)
        vx, vy = synthetic.scenes(test_size or test, seed + 10_000, image_size * 2)
        return _tensors(name, "segmentation", synthetic.SEG_CLASSES, tx, ty, vx, vy)
    elif name == "mnist":
        data = replace(_tensors(name, "classification", DIGIT_CLASSES,
                                *readers.read_mnist(fetch_dataset(name, progress, cancel))),
                       flippable=False)
    elif name == "cifar10":
        tx, ty, vx, vy, classes = readers.read_cifar10(fetch_dataset(name, progress,
                                                                      cancel)[0])
        data = _tensors(name, "classification", classes, tx, ty, vx, vy)
    else:
        root = Path(name).expanduser()
        if not root.exists():
            raise readers.DataError(f"{name}: no such data set or folder; data sets are "
                                    + ", ".join(NAMES) + ", or a folder of class folders")
        x, y, classes = readers.read_folder(root, image_size)
        data = _tensors(root.name, "classification", classes, *held_out(x, y, 0.2, seed),
                        title=f"Image folder {root}")
    if train_size or test_size:
        data = data.subset(train_size or len(data.train_x), test_size or len(data.test_x))
    return data
