"""AlexNet: Krizhevsky et al., "ImageNet Classification with Deep Convolutional Neural
Networks" (2012).

Torchvision's single-GPU form (from "One weird trick", 2014): 64/192/384/256/256 filters
instead of the paper's two-GPU 96/256/384/384/256, no local response normalisation.
Parameter names match torchvision.
"""

from __future__ import annotations

import torch
from torch import nn

from .common import dropout, num_classes
from .registry import register_model


class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


register_model(
    "alexnet", AlexNet, family="AlexNet", task="classification", year=2012,
    paper="ImageNet Classification with Deep Convolutional Neural Networks",
    input_shape=(3, 224, 224), labels="imagenet1k", torchvision=True,
    description="Five convolutions and three fully connected layers; ReLU and dropout.",
    options=(num_classes(), dropout(0.5)),
)
