"""Batch preparation on the training device: uint8 images to the model's input (channels,
size, the registry's mean and std), and augmentation drawn for a whole epoch at once
(pad-and-crop offsets, flips) so that no step waits on the host."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class InputFit:
    """How a data set's images become this model's input."""

    channels: int
    size: tuple[int, int] | None  # resize to this H×W, or None to keep the data's size
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float().div_(255)
        if x.shape[1] != self.channels:
            x = x.mean(1, keepdim=True) if self.channels == 1 else x.expand(
                -1, self.channels, -1, -1) if x.shape[1] == 1 else x[:, :self.channels]
        if self.size is not None and tuple(x.shape[2:]) != self.size:
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
        mean, std = _normaliser(self.mean, self.std, x.device)
        return (x - mean) / std


@lru_cache(maxsize=16)
def _normaliser(mean: tuple[float, ...], std: tuple[float, ...], device: torch.device
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean and std as tensors on the device, made once: a tensor built from a list
    on CUDA is a copy the host waits for, which would be a sync at every step."""
    with torch.inference_mode(False):  # made in an evaluation, kept for training too
        return (torch.tensor(mean, device=device).view(1, -1, 1, 1),
                torch.tensor(std, device=device).view(1, -1, 1, 1))


@dataclass
class EpochPlan:
    """One epoch's order and augmentation, drawn from one seeded generator."""

    order: torch.Tensor  # permutation of the training set
    shift: torch.Tensor | None  # N×2 crop offsets in [0, 2·pad]
    flip: torch.Tensor | None  # N booleans


def plan_epoch(n: int, seed: int, epoch: int, pad: int, flip: bool,
               device: torch.device) -> EpochPlan:
    """The same (seed, epoch) gives the same plan on every device: the data order two
    compared networks share, and what a resumed run repeats."""
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    order = torch.randperm(n, generator=g)
    shift = torch.randint(0, 2 * pad + 1, (n, 2), generator=g) if pad else None
    flips = torch.rand(n, generator=g) < 0.5 if flip else None
    return EpochPlan(order.to(device), None if shift is None else shift.to(device),
                     None if flips is None else flips.to(device))


def pad_crop(x: torch.Tensor, shift: torch.Tensor, pad: int) -> torch.Tensor:
    """Zero-pad by ``pad`` and crop each image back at its own offset (gathered, no loop)."""
    n, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = (shift[:, 0, None] + torch.arange(h, device=x.device)).view(n, 1, h, 1)
    cols = (shift[:, 1, None] + torch.arange(w, device=x.device)).view(n, 1, 1, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    chans = torch.arange(c, device=x.device).view(1, c, 1, 1)
    return padded[batch, chans, rows, cols]


def augment(x: torch.Tensor, y: torch.Tensor, shift: torch.Tensor | None,
            flip: torch.Tensor | None, pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Crop and flip images; a segmentation mask (y with H×W) is flipped with its image
    (and not cropped: the plan gives masks no shift)."""
    if shift is not None and y.dim() == 1:
        x = pad_crop(x, shift, pad)
    if flip is not None:
        x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
        if y.dim() == 3:
            y = torch.where(flip.view(-1, 1, 1), y.flip(2), y)
    return x, y
