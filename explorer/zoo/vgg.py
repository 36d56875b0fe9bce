"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (2014). Configurations A, B, D, E are VGG-11/13/16/19; parameter names match
torchvision (with and without batch normalisation)."""

from __future__ import annotations

import torch
from torch import nn

from .common import dropout, num_classes
from .registry import Option, register_model

CFGS: dict[int, list[int | str]] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"],
}


def make_layers(cfg: list[int | str], batch_norm: bool, in_channels: int = 3) -> nn.Sequential:
    layers: list[nn.Module] = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(v)))
        layers.append(nn.ReLU(inplace=True))
        in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, depth: int = 16, batch_norm: bool = False, num_classes: int = 1000,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = make_layers(CFGS[depth], batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


for _depth in CFGS:
    for _bn in (False, True):
        register_model(
            f"vgg{_depth}{'_bn' if _bn else ''}", VGG, family="VGG", task="classification",
            year=2014, paper="Very Deep Convolutional Networks for Large-Scale Image Recognition",
            input_shape=(3, 224, 224), labels="imagenet1k", torchvision=True,
            description=f"VGG-{_depth}: stacks of 3x3 convolutions between 2x2 max-pools.",
            options=(
                Option("depth", int, _depth, "weight layers", choices=tuple(CFGS)),
                Option("batch_norm", bool, _bn, "batch normalisation after every conv"),
                num_classes(), dropout(0.5),
            ),
        )
