"""DenseNet: Huang et al., "Densely Connected Convolutional Networks" (2016).

Every layer of a dense block receives the concatenation of all earlier feature maps in
the block. ``bottleneck`` adds the 1x1 conv to 4k channels (DenseNet-B), ``compression``
θ shrinks the channels at each transition (DenseNet-C); the defaults give DenseNet-BC as
in torchvision, whose parameter names and shapes these are.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from .common import num_classes
from .registry import Option, register_model

CONFIGS = {  # growth rate, layers per block, stem width
    121: (32, (6, 12, 24, 16), 64),
    161: (48, (6, 12, 36, 24), 96),
    169: (32, (6, 12, 32, 32), 64),
    201: (32, (6, 12, 48, 32), 64),
}


class _DenseLayer(nn.Module):
    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int,
                 drop_rate: float) -> None:
        super().__init__()
        width = bn_size * growth_rate
        if bn_size:
            self.norm1 = nn.BatchNorm2d(num_input_features)
            self.relu1 = nn.ReLU(inplace=True)
            self.conv1 = nn.Conv2d(num_input_features, width, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(width or num_input_features)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width or num_input_features, growth_rate, 3, padding=1,
                               bias=False)
        self.drop_rate = drop_rate

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat(features, 1)
        if hasattr(self, "conv1"):
            x = self.conv1(self.relu1(self.norm1(x)))
        x = self.conv2(self.relu2(self.norm2(x)))
        if self.drop_rate > 0:
            x = F.dropout(x, p=self.drop_rate, training=self.training)
        return x


class _DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers: int, num_input_features: int, bn_size: int,
                 growth_rate: int, drop_rate: float) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size,
                                drop_rate)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, init_features: torch.Tensor) -> torch.Tensor:
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, 1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    def __init__(self, depth: int = 121, growth_rate: int = 0, bottleneck: bool = True,
                 compression: float = 0.5, num_classes: int = 1000,
                 drop_rate: float = 0.0) -> None:
        super().__init__()
        k, block_config, num_init_features = CONFIGS[depth]
        growth_rate = growth_rate or k
        bn_size = 4 if bottleneck else 0
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, 7, stride=2, padding=3, bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                out = int(num_features * compression)
                self.features.add_module(f"transition{i + 1}", _Transition(num_features, out))
                num_features = out
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.features(x), inplace=True)
        out = torch.flatten(F.adaptive_avg_pool2d(out, (1, 1)), 1)
        return self.classifier(out)


for _depth, (_k, _, _) in CONFIGS.items():
    register_model(
        f"densenet{_depth}", DenseNet, family="DenseNet", task="classification", year=2016,
        paper="Densely Connected Convolutional Networks", input_shape=(3, 224, 224),
        labels="imagenet1k", torchvision=True,
        description=f"DenseNet-BC-{_depth}: dense blocks where each layer sees all earlier "
                    "feature maps, joined by compressing transitions.",
        options=(
            Option("depth", int, _depth, "number of layers", choices=tuple(CONFIGS)),
            Option("growth_rate", int, _k, "k: channels each layer adds", min=1, max=256),
            Option("bottleneck", bool, True, "1x1 conv to 4k channels before each 3x3 (B)"),
            Option("compression", float, 0.5, "θ: channel factor at transitions (C)",
                   min=0.1, max=1.0),
            num_classes(),
            Option("drop_rate", float, 0.0, "dropout after each layer", min=0.0, max=1.0),
        ),
    )
