"""Pieces the segmentation families share."""

from __future__ import annotations

import torch
from torch import nn

from .registry import Option


class Crop(nn.Module):
    """Crop a feature map to ``size`` (H, W): centred, or from a fixed ``offset`` as in the
    Caffe FCNs. A no-op when the sizes already agree."""

    def __init__(self, offset: int | None = None) -> None:
        super().__init__()
        self.offset = offset

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        h, w = int(size[0]), int(size[1])
        if tuple(x.shape[-2:]) == (h, w):
            return x
        top = (x.shape[-2] - h) // 2 if self.offset is None else self.offset
        left = (x.shape[-1] - w) // 2 if self.offset is None else self.offset
        return x[:, :, top:top + h, left:left + w]


def bilinear_kernel(channels: int, size: int) -> torch.Tensor:
    """Weights of a transposed conv that upsamples each channel bilinearly (FCN init)."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = torch.arange(size, dtype=torch.float32)
    filt1d = 1 - (og - center).abs() / factor
    filt = filt1d[:, None] * filt1d[None, :]
    weight = torch.zeros(channels, channels, size, size)
    weight[range(channels), range(channels)] = filt
    return weight


class VGGStage(nn.Module):
    """``n`` 3x3 conv-BN-ReLU layers then a 2x2 max-pool that returns its indices."""

    def __init__(self, in_ch: int, out_ch: int, n: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(n):
            layers += [nn.Conv2d(in_ch if i == 0 else out_ch, out_ch, 3, padding=1),
                       nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True)]
        self.conv = nn.Sequential(*layers)
        self.pool = nn.MaxPool2d(2, 2, return_indices=True)

    def forward(self, x: torch.Tensor):
        x = self.conv(x)
        size = x.shape
        x, indices = self.pool(x)
        return x, indices, size


VGG16_STAGES = ((3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3))
# The mirrored decoder, deepest stage first: (in, out, convs) after each unpooling.
VGG16_DECODER = ((512, 512, 3), (512, 256, 3), (256, 128, 3), (128, 64, 2), (64, 64, 2))
VGG_BASE_WIDTH = 64  # VGG-16's first stage; the others have 2, 4, 8 and 8 times as many


def widen(channels: int, base_width: int) -> int:
    """A VGG-16 channel count for a network whose first stage has ``base_width`` channels
    instead of 64 (exact for the paper's 64; never below 1)."""
    return max(1, channels * base_width // VGG_BASE_WIDTH)


def widen_stages(stages, base_width: int, in_channels: int | None = None):
    """(in, out, convs) stages with every width scaled; the first input kept (or set)."""
    out = [(widen(cin, base_width), widen(cout, base_width), n) for cin, cout, n in stages]
    if in_channels is not None:
        out[0] = (in_channels, *out[0][1:])
    return tuple(out)


def base_width_option(what: str) -> Option:
    return Option("base_width", int, VGG_BASE_WIDTH,
                  f"channels of the first VGG-16 stage (64: the paper's); {what} scale with "
                  f"it (a narrow network trains on a CPU)", min=1, max=128)
