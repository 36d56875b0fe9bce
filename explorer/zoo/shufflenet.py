"""ShuffleNet v1 and v2.

- Zhang et al., "ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile
  Devices" (2017): pointwise group convolutions with a channel shuffle between them;
  ``groups`` g and the scale factor s set the widths of Table 1. Scaled widths follow the
  authors' code (megvii-model/ShuffleNet-Series, ShuffleNetV1/network.py): stage widths
  are s times Table 1's; the stem stays at 24 channels at 1.5x (12 at 0.5x, 48 at 2x,
  16 for g=8 at 0.5x). The classifier keeps a bias (the authors' has none).
- Ma et al., "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design"
  (2018): channel split, concat and shuffle; parameter names match torchvision.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import num_classes
from .registry import Option, register_model


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    b, c, h, w = x.size()
    x = x.view(b, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(b, -1, h, w)


# ---------------------------------------------------------------- ShuffleNet v1
V1_WIDTHS = {1: (144, 288, 576), 2: (200, 400, 800), 3: (240, 480, 960),
             4: (272, 544, 1088), 8: (384, 768, 1536)}
V1_SCALES = (0.25, 0.5, 1.0, 1.5, 2.0)
# The authors' stem for each scale. 0.25x is not in their code: 12 channels as at 0.5x
# give Table 2's 13 MFLOPs within 5 % for every g (6 would give 11-12).
V1_STEM = {0.25: 12, 0.5: 12, 1.0: 24, 1.5: 24, 2.0: 48}
# 12 does not divide into 8 groups: the authors widen it to 16 at 0.5x; at 0.25x 8 keeps
# Table 2's 13 MFLOPs (16 would give 15.7).
V1_STEM_G8 = {0.25: 8, 0.5: 16}


def v1_channels(groups: int, scale: float) -> tuple[int, int, int, int]:
    """Stem and stage widths at scale s: stage widths s times Table 1's, each a multiple
    of 4g so that the bottleneck (a quarter of the width) divides into g groups; the stem
    a multiple of g, so that stage 2's first unit (width minus stem) does too."""
    unit = 4 * groups
    stages = [max(unit, int(w * scale / unit + 0.5) * unit) for w in V1_WIDTHS[groups]]
    stem = V1_STEM_G8.get(scale, V1_STEM[scale]) if groups == 8 else V1_STEM[scale]
    return (stem, *stages)


class ShuffleUnit(nn.Module):
    """1x1 group conv → shuffle → 3x3 depthwise → 1x1 group conv; add (stride 1) or
    concat with an average-pooled shortcut (stride 2)."""

    def __init__(self, inp: int, oup: int, stride: int, groups: int, first: bool) -> None:
        super().__init__()
        self.stride, self.groups = stride, groups
        branch_out = oup - inp if stride == 2 else oup
        mid = oup // 4
        g1 = 1 if first else groups  # stage 2's first unit sees only 24 channels
        self.conv1 = nn.Conv2d(inp, mid, 1, groups=g1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, branch_out, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(branch_out)
        self.shortcut = nn.AvgPool2d(3, stride=2, padding=1) if stride == 2 else None
        self._g1 = g1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        if self._g1 > 1:
            out = channel_shuffle(out, self._g1)
        out = self.bn2(self.conv2(out))
        out = self.bn3(self.conv3(out))
        if self.shortcut is None:
            return F.relu(x + out)
        return F.relu(torch.cat([self.shortcut(x), out], 1))


class ShuffleNetV1(nn.Module):
    def __init__(self, groups: int = 3, scale: float = 1.0, num_classes: int = 1000) -> None:
        super().__init__()
        stem, *widths = v1_channels(groups, scale)
        self.conv1 = nn.Sequential(nn.Conv2d(3, stem, 3, 2, 1, bias=False),
                                   nn.BatchNorm2d(stem), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inp = stem
        for name, repeats, out in zip(("stage2", "stage3", "stage4"), (4, 8, 4), widths):
            units = [ShuffleUnit(inp, out, 2, groups, first=name == "stage2")]
            units += [ShuffleUnit(out, out, 1, groups, first=False) for _ in range(repeats - 1)]
            setattr(self, name, nn.Sequential(*units))
            inp = out
        self.fc = nn.Linear(inp, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        return self.fc(x.mean([2, 3]))


# ---------------------------------------------------------------- ShuffleNet v2
V2_WIDTHS = {"0.5": (24, 48, 96, 192, 1024), "1.0": (24, 116, 232, 464, 1024),
             "1.5": (24, 176, 352, 704, 1024), "2.0": (24, 244, 488, 976, 2048)}


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        bf = oup // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, bf, 1, 1, 0, bias=False),
                nn.BatchNorm2d(bf),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else bf, bf, 1, 1, 0, bias=False),
            nn.BatchNorm2d(bf),
            nn.ReLU(inplace=True),
            nn.Conv2d(bf, bf, 3, stride, 1, groups=bf, bias=False),
            nn.BatchNorm2d(bf),
            nn.Conv2d(bf, bf, 1, 1, 0, bias=False),
            nn.BatchNorm2d(bf),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), 1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), 1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, width: str = "1.0", num_classes: int = 1000) -> None:
        super().__init__()
        channels = V2_WIDTHS[width]
        self.conv1 = nn.Sequential(nn.Conv2d(3, channels[0], 3, 2, 1, bias=False),
                                   nn.BatchNorm2d(channels[0]), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inp = channels[0]
        for name, repeats, out in zip(("stage2", "stage3", "stage4"), (4, 8, 4), channels[1:]):
            seq = [InvertedResidual(inp, out, 2)]
            seq += [InvertedResidual(out, out, 1) for _ in range(repeats - 1)]
            setattr(self, name, nn.Sequential(*seq))
            inp = out
        self.conv5 = nn.Sequential(nn.Conv2d(inp, channels[-1], 1, 1, 0, bias=False),
                                   nn.BatchNorm2d(channels[-1]), nn.ReLU(inplace=True))
        self.fc = nn.Linear(channels[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.stage4(self.stage3(self.stage2(x))))
        return self.fc(x.mean([2, 3]))


for _g in V1_WIDTHS:
    register_model(
        f"shufflenet_v1_g{_g}", ShuffleNetV1, family="ShuffleNet", task="classification",
        year=2017, input_shape=(3, 224, 224), labels="imagenet1k",
        paper="ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile "
              "Devices",
        description=f"ShuffleNet 1x (g={_g}): pointwise group convs with channel shuffle.",
        options=(
            Option("groups", int, _g, "groups g of the pointwise convolutions",
                   choices=tuple(V1_WIDTHS)),
            Option("scale", float, 1.0, "scale factor s on the number of channels",
                   choices=V1_SCALES),
            num_classes(),
        ),
    )
for _w in V2_WIDTHS:
    register_model(
        f"shufflenet_v2_x{_w.replace('.', '_')}", ShuffleNetV2, family="ShuffleNet",
        task="classification", year=2018, input_shape=(3, 224, 224), labels="imagenet1k",
        torchvision=True,
        paper="ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design",
        description=f"ShuffleNet v2 {_w}x: channel split, branch, concat, shuffle.",
        options=(
            Option("width", str, _w, "output channels multiplier", choices=tuple(V2_WIDTHS)),
            num_classes(),
        ),
    )
