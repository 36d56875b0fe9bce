"""MobileNet v1 and v2.

- Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
  Applications" (2017): depthwise separable convolutions, width multiplier α and
  resolution multiplier (here the input resolution itself).
- Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks" (2018):
  parameter names and shapes match torchvision; ``expansion`` overrides t of every
  expanding block.
"""

from __future__ import annotations

import torch
from torch import nn

from .common import dropout, make_divisible, num_classes
from .registry import Option, register_model


class ConvBNReLU(nn.Sequential):
    """conv → BN → ReLU (or ReLU6), torchvision's Conv2dNormActivation layout."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3, stride: int = 1,
                 groups: int = 1, relu6: bool = True) -> None:
        super().__init__(
            nn.Conv2d(in_ch, out_ch, kernel_size, stride, (kernel_size - 1) // 2,
                      groups=groups, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU6(inplace=True) if relu6 else nn.ReLU(inplace=True),
        )


class DepthwiseSeparable(nn.Sequential):
    """MobileNet v1 block: 3x3 depthwise conv, then 1x1 pointwise conv, each with BN-ReLU."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.depthwise = ConvBNReLU(in_ch, in_ch, 3, stride, groups=in_ch, relu6=False)
        self.pointwise = ConvBNReLU(in_ch, out_ch, 1, relu6=False)


V1_LAYERS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
             (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


class MobileNetV1(nn.Module):
    def __init__(self, alpha: float = 1.0, resolution: int = 224, num_classes: int = 1000,
                 dropout: float = 0.001) -> None:
        super().__init__()
        width = lambda c: max(8, int(c * alpha))  # noqa: E731
        layers: list[nn.Module] = [ConvBNReLU(3, width(32), 3, 2, relu6=False)]
        in_ch = width(32)
        for out, stride in V1_LAYERS:
            layers.append(DepthwiseSeparable(in_ch, width(out), stride))
            in_ch = width(out)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_ch, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class InvertedResidual(nn.Module):
    """Expand (1x1), depthwise 3x3, project (1x1, linear: no activation); add when shapes match."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: float) -> None:
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU(inp, hidden, kernel_size=1))
        layers += [
            ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


V2_SETTING = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
              (6, 160, 3, 2), (6, 320, 1, 1)]  # t, c, n, s


class MobileNetV2(nn.Module):
    def __init__(self, width_mult: float = 1.0, expansion: int = 6, num_classes: int = 1000,
                 dropout: float = 0.2, resolution: int = 224) -> None:
        super().__init__()
        input_channel = make_divisible(32 * width_mult)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult))
        features: list[nn.Module] = [ConvBNReLU(3, input_channel, stride=2)]
        for t, c, n, s in V2_SETTING:
            out = make_divisible(c * width_mult)
            for i in range(n):
                features.append(InvertedResidual(input_channel, out, s if i == 0 else 1,
                                                 expansion if t != 1 else 1))
                input_channel = out
        features.append(ConvBNReLU(input_channel, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout),
                                        nn.Linear(self.last_channel, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


RESOLUTIONS = (128, 160, 192, 224)
register_model(
    "mobilenet_v1", MobileNetV1, family="MobileNet", task="classification", year=2017,
    paper="MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
    input_shape=(3, 224, 224), labels="imagenet1k",
    description="A stem conv and 13 depthwise separable blocks; α thins every layer.",
    options=(
        Option("alpha", float, 1.0, "width multiplier α", choices=(0.25, 0.5, 0.75, 1.0)),
        Option("resolution", int, 224, "input resolution (resolution multiplier ρ)",
               choices=RESOLUTIONS),
        num_classes(), dropout(0.001),
    ),
)
register_model(
    "mobilenet_v2", MobileNetV2, family="MobileNet", task="classification", year=2018,
    paper="MobileNetV2: Inverted Residuals and Linear Bottlenecks",
    input_shape=(3, 224, 224), labels="imagenet1k", torchvision=True,
    description="Inverted residual blocks: expand, depthwise, linear projection; "
                "residual only where stride is 1 and channels match.",
    options=(
        Option("width_mult", float, 1.0, "width multiplier α", min=0.1, max=2.0),
        Option("expansion", int, 6, "expansion factor t of the expanding blocks", min=1,
               max=12),
        num_classes(), dropout(0.2),
        Option("resolution", int, 224, "input resolution", choices=(96, 128, 160, 192, 224)),
    ),
)
