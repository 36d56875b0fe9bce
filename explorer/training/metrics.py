"""What an epoch measured, and the files that keep it (metrics.csv)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields

import torch


@dataclass(frozen=True)
class EpochMetrics:
    epoch: int  # 1-based: the epochs done
    train_loss: float
    train_error: float  # fraction of training images (pixels for segmentation) wrong
    test_loss: float
    test_error: float
    mean_iou: float | None = None  # segmentation only
    lr: float = 0.0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        text = f"train error {self.train_error:.1%}, test error {self.test_error:.1%}"
        return text + (f", mean IoU {self.mean_iou:.3f}" if self.mean_iou is not None else "")


COLUMNS = ("model", "epoch", "train_loss", "train_error", "test_loss", "test_error",
           "mean_iou", "lr", "seconds")


def metrics_csv(rows: dict[str, list[EpochMetrics]]) -> str:
    """One row per model and epoch; ``mean_iou`` is left empty for classification."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for model, history in rows.items():
        for m in history:
            d = m.as_dict()
            writer.writerow([model, *("" if d[c] is None else
                                      (f"{d[c]:.6g}" if isinstance(d[c], float) else d[c])
                                      for c in COLUMNS[1:])])
    return out.getvalue()


def from_dict(d: dict) -> EpochMetrics:
    names = {f.name for f in fields(EpochMetrics)}
    return EpochMetrics(**{k: v for k, v in d.items() if k in names})


def confusion(pred: torch.Tensor, target: torch.Tensor, classes: int) -> torch.Tensor:
    """classes×classes counts (row: true class, column: predicted), on pred's device."""
    index = target.reshape(-1) * classes + pred.reshape(-1)
    return torch.bincount(index, minlength=classes * classes).view(classes, classes)


def mean_iou(conf: torch.Tensor) -> float:
    """Mean over the classes present (in truth or prediction) of intersection / union,
    over the whole test set."""
    inter = conf.diag().float()
    union = conf.sum(0).float() + conf.sum(1).float() - inter
    present = union > 0
    return float((inter[present] / union[present]).mean()) if present.any() else 0.0
