"""Xception: Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions" (2016).

Entry flow (three downsampling residual blocks), middle flow (eight identity residual
blocks of three separable convs), exit flow; layer widths as in the paper and Keras.
"""

from __future__ import annotations

import torch
from torch import nn

from .common import num_classes
from .registry import Option, register_model


class SeparableConv2d(nn.Module):
    """Depthwise 3x3 followed by pointwise 1x1, no activation in between (as in the paper)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_ch, in_ch, 3, padding=1, groups=in_ch, bias=False)
        self.pointwise = nn.Conv2d(in_ch, out_ch, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class XceptionBlock(nn.Module):
    """``reps`` x (ReLU → SeparableConv → BN), then max-pool when ``stride`` 2, plus a
    shortcut: identity, or a strided 1x1 conv + BN when the shape changes."""

    def __init__(self, in_ch: int, out_ch: int, reps: int, stride: int,
                 start_with_relu: bool = True, grow_first: bool = True) -> None:
        super().__init__()
        if stride != 1 or in_ch != out_ch:
            self.skip = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False),
                                      nn.BatchNorm2d(out_ch))
        else:
            self.skip = None
        layers: list[nn.Module] = []
        widths = [out_ch if grow_first or i == reps - 1 else in_ch for i in range(reps)]
        ch = in_ch
        for i, w in enumerate(widths):
            if i > 0 or start_with_relu:
                layers.append(nn.ReLU(inplace=False))
            layers += [SeparableConv2d(ch, w), nn.BatchNorm2d(w)]
            ch = w
        if stride != 1:
            layers.append(nn.MaxPool2d(3, stride, 1))
        self.rep = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rep(x) + (x if self.skip is None else self.skip(x))


class Xception(nn.Module):
    def __init__(self, num_classes: int = 1000, middle_blocks: int = 8) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 2, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(32, 64, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu2 = nn.ReLU(inplace=True)
        self.entry = nn.Sequential(
            XceptionBlock(64, 128, 2, 2, start_with_relu=False),
            XceptionBlock(128, 256, 2, 2),
            XceptionBlock(256, 728, 2, 2),
        )
        self.middle = nn.Sequential(*[XceptionBlock(728, 728, 3, 1)
                                      for _ in range(middle_blocks)])
        self.exit = XceptionBlock(728, 1024, 2, 2, grow_first=False)
        self.conv3 = SeparableConv2d(1024, 1536)
        self.bn3 = nn.BatchNorm2d(1536)
        self.relu3 = nn.ReLU(inplace=True)
        self.conv4 = SeparableConv2d(1536, 2048)
        self.bn4 = nn.BatchNorm2d(2048)
        self.relu4 = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.exit(self.middle(self.entry(x)))
        x = self.relu3(self.bn3(self.conv3(x)))
        x = self.relu4(self.bn4(self.conv4(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


register_model(
    "xception", Xception, family="Xception", task="classification", year=2016,
    paper="Xception: Deep Learning with Depthwise Separable Convolutions",
    input_shape=(3, 299, 299), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), labels="imagenet1k",
    description="Depthwise separable convolutions with residual connections: entry, "
                "middle (repeated) and exit flows.",
    options=(num_classes(),
             Option("middle_blocks", int, 8, "blocks in the middle flow", min=1, max=32)),
)
