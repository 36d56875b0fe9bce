"""What an epoch measured, and the files that keep it (metrics.csv).

For segmentation: mean IoU from the confusion matrix, and a boundary score, the BF score
of Csurka, Larlus & Perronnin, "What is a good evaluation measure for semantic
segmentation?" (BMVC 2013): per class, the F1 of boundary pixels matched within a
tolerance (precision: predicted boundary pixels near a true boundary; recall: true
boundary pixels near a predicted one), averaged over the classes in the image (in the
truth or the prediction), then over the images. Their tolerance is 0.75 % of the image
diagonal; here never below one pixel.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class EpochMetrics:
    epoch: int  # 1-based: the epochs done
    train_loss: float
    train_error: float  # fraction of training images (pixels for segmentation) wrong
    test_loss: float
    test_error: float
    mean_iou: float | None = None  # segmentation only: the test set's
    lr: float = 0.0
    seconds: float = 0.0
    train_miou: float | None = None  # segmentation only: over the epoch's training steps
    boundary_f1: float | None = None  # segmentation only: the test set's BF score

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        if self.mean_iou is not None:
            text = f"train mean IoU {self.train_miou or 0.0:.3f}, test mean IoU " \
                   f"{self.mean_iou:.3f}"
            return text + (f", boundary F1 {self.boundary_f1:.3f}"
                           if self.boundary_f1 is not None else "")
        return f"train error {self.train_error:.1%}, test error {self.test_error:.1%}"


COLUMNS = ("model", "epoch", "train_loss", "train_error", "test_loss", "test_error",
           "mean_iou", "lr", "seconds")
# Segmentation's columns: (header, EpochMetrics field); mean IoU first, errors after.
SEG_COLUMNS = (("model", "model"), ("epoch", "epoch"), ("train_loss", "train_loss"),
               ("train_miou", "train_miou"), ("test_loss", "test_loss"),
               ("test_miou", "mean_iou"), ("test_boundary_f1", "boundary_f1"),
               ("train_error", "train_error"), ("test_error", "test_error"), ("lr", "lr"),
               ("seconds", "seconds"))


def metrics_csv(rows: dict[str, list[EpochMetrics]]) -> str:
    """One row per model and epoch. Classification: ``mean_iou`` left empty; segmentation
    (any row with a mean IoU): SEG_COLUMNS, train and test mean IoU and the boundary F1."""
    seg = any(m.mean_iou is not None for h in rows.values() for m in h)
    columns = SEG_COLUMNS if seg else tuple((c, c) for c in COLUMNS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header for header, _ in columns)
    for model, history in rows.items():
        for m in history:
            d = {**m.as_dict(), "model": model}
            writer.writerow(["" if d[f] is None else
                             (f"{d[f]:.6g}" if isinstance(d[f], float) else d[f])
                             for _, f in columns])
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


def boundary_tolerance(height: int, width: int) -> int:
    """Csurka et al.'s tolerance, 0.75 % of the image diagonal, in whole pixels (≥ 1)."""
    return max(1, round(0.0075 * math.hypot(height, width)))


def _boundaries(onehot: torch.Tensor) -> torch.Tensor:
    """Each class's boundary pixels (N×C×H×W, 0/1): in the class, with one of its 8
    neighbours not; the image's edge is no boundary."""
    eroded = -F.max_pool2d(-onehot, 3, stride=1, padding=1)
    return onehot - eroded


def _near(boundary: torch.Tensor, tolerance: int) -> torch.Tensor:
    """Pixels within ``tolerance`` (Euclidean) of a boundary pixel of the same class."""
    r = tolerance
    yy, xx = torch.meshgrid(torch.arange(-r, r + 1), torch.arange(-r, r + 1), indexing="ij")
    disc = (yy**2 + xx**2 <= r * r).to(boundary)
    classes = boundary.shape[1]
    kernel = disc.expand(classes, 1, 2 * r + 1, 2 * r + 1)
    return F.conv2d(boundary, kernel, padding=r, groups=classes) > 0.5


def boundary_f1(pred: torch.Tensor, target: torch.Tensor, classes: int,
                tolerance: int) -> torch.Tensor:
    """The BF score of each image (N), from predicted and true class maps (N×H×W): the
    mean over the classes present (in truth or prediction) of the boundary F1 within
    ``tolerance`` pixels. A class present in both with no boundary in either (it fills
    the image) scores 1; a boundary missing on one side scores 0."""
    p = F.one_hot(pred, classes).permute(0, 3, 1, 2).float()
    t = F.one_hot(target, classes).permute(0, 3, 1, 2).float()
    bp, bt = _boundaries(p), _boundaries(t)
    n_p, n_t = bp.sum((2, 3)), bt.sum((2, 3))
    hit_p = (bp * _near(bt, tolerance)).sum((2, 3))  # predicted boundary near the truth's
    hit_t = (bt * _near(bp, tolerance)).sum((2, 3))  # true boundary near the prediction's
    neither = (n_p == 0) & (n_t == 0)
    precision = torch.where(n_p > 0, hit_p / n_p.clamp(min=1), neither.float())
    recall = torch.where(n_t > 0, hit_t / n_t.clamp(min=1), neither.float())
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    present = (p.sum((2, 3)) > 0) | (t.sum((2, 3)) > 0)
    return (f1 * present).sum(1) / present.sum(1).clamp(min=1)
