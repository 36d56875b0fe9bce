"""DeconvNet: Noh, Hong & Han, "Learning Deconvolution Network for Semantic Segmentation"
(2015).

VGG-16 convolutions with batch normalisation, fc6/fc7 as 7x7 and 1x1 convolutions, then a
mirrored deconvolution network: unpooling with the encoder's switches (max-pool indices)
followed by transposed convolutions.
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import Option, register_model
from .segmentation_parts import VGG16_DECODER, VGG16_STAGES, VGGStage
from .segnet import DecoderStage, SwitchedEncoderDecoder


class DeconvNet(SwitchedEncoderDecoder):
    def __init__(self, num_classes: int = 21) -> None:
        super().__init__()
        for i, (cin, cout, n) in enumerate(VGG16_STAGES, 1):
            self.add_module(f"enc{i}", VGGStage(cin, cout, n))
        self.fc6 = nn.Sequential(nn.Conv2d(512, 4096, 7), nn.BatchNorm2d(4096), nn.ReLU(True))
        self.fc7 = nn.Sequential(nn.Conv2d(4096, 4096, 1), nn.BatchNorm2d(4096), nn.ReLU(True))
        self.deconv_fc6 = nn.Sequential(nn.ConvTranspose2d(4096, 512, 7), nn.BatchNorm2d(512),
                                        nn.ReLU(True))
        for i, (cin, cout, n) in zip(range(5, 0, -1), VGG16_DECODER):
            self.add_module(f"dec{i}", DecoderStage(cin, cout, n, transposed=True))
        self.classifier = nn.Conv2d(64, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, switches = self.encode(x)
        x = self.deconv_fc6(self.fc7(self.fc6(x)))
        return self.classifier(self.decode(x, switches))


register_model(
    "deconvnet", DeconvNet, family="DeconvNet", task="segmentation", year=2015,
    paper="Learning Deconvolution Network for Semantic Segmentation",
    input_shape=(3, 224, 224), labels="voc21",
    description="VGG-16 conv network and a mirrored deconvolution network of unpooling "
                "(with max-pool switches) and transposed convolutions.",
    options=(Option("num_classes", int, 21, "number of classes", min=1, max=1000),),
)
