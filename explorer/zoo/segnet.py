"""SegNet: Badrinarayanan, Kendall & Cipolla, "SegNet: A Deep Convolutional Encoder-Decoder
Architecture for Image Segmentation" (2015).

A VGG-16 encoder (13 conv-BN-ReLU layers, five 2x2 max-pools that keep their indices) and a
mirrored decoder whose unpooling layers place values back at those indices: the decoder
keeps only the pooling indices of the encoder, not whole feature maps. 26 convolutions in
all: the decoder's last, ``classifier``, maps 64 channels to the classes.
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import Option, register_model
from .segmentation_parts import (
    VGG16_DECODER,
    VGG16_STAGES,
    VGG_BASE_WIDTH,
    VGGStage,
    base_width_option,
    widen,
    widen_stages,
)

# The paper's decoder mirrors the encoder's 13 convolutions, and its last one (conv1_1_D
# in the authors' Caffe model) is the classifier: stage 1 keeps one conv-BN-ReLU.
DECODER = (*VGG16_DECODER[:-1], (64, 64, 1))


class DecoderStage(nn.Module):
    """Max-unpool with the encoder's indices, then conv-BN-ReLU layers (the last one maps to
    ``out_ch``)."""

    def __init__(self, in_ch: int, out_ch: int, n: int, transposed: bool = False) -> None:
        super().__init__()
        self.unpool = nn.MaxUnpool2d(2, 2)
        conv = nn.ConvTranspose2d if transposed else nn.Conv2d
        layers: list[nn.Module] = []
        for i in range(n):
            out = out_ch if i == n - 1 else in_ch
            layers += [conv(in_ch, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, indices: torch.Tensor, size) -> torch.Tensor:
        return self.conv(self.unpool(x, indices, output_size=size))


class SwitchedEncoderDecoder(nn.Module):
    """Stages enc1..enc5 whose max-pool indices drive the unpooling of dec5..dec1."""

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, list]:
        switches = []
        for i in range(1, 6):
            x, indices, size = getattr(self, f"enc{i}")(x)
            switches.append((indices, size))
        return x, switches

    def decode(self, x: torch.Tensor, switches: list) -> torch.Tensor:
        for i in range(5, 0, -1):
            indices, size = switches[i - 1]
            x = getattr(self, f"dec{i}")(x, indices, size)
        return x


class SegNet(SwitchedEncoderDecoder):
    def __init__(self, num_classes: int = 21, in_channels: int = 3,
                 base_width: int = VGG_BASE_WIDTH) -> None:
        super().__init__()
        for i, (cin, cout, n) in enumerate(widen_stages(VGG16_STAGES, base_width,
                                                        in_channels), 1):
            self.add_module(f"enc{i}", VGGStage(cin, cout, n))
        for i, (cin, cout, n) in zip(range(5, 0, -1), widen_stages(DECODER, base_width)):
            self.add_module(f"dec{i}", DecoderStage(cin, cout, n))
        self.classifier = nn.Conv2d(widen(64, base_width), num_classes, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, switches = self.encode(x)
        return self.classifier(self.decode(x, switches))


register_model(
    "segnet", SegNet, family="SegNet", task="segmentation", year=2015,
    paper="SegNet: A Deep Convolutional Encoder-Decoder Architecture for Image Segmentation",
    input_shape=(3, 360, 480), labels="voc21",
    description="VGG-16 encoder, mirrored decoder upsampling with the encoder's max-pool "
                "indices.",
    options=(Option("num_classes", int, 21, "number of classes", min=1, max=1000),
             Option("in_channels", int, 3, "input channels", min=1, max=16),
             base_width_option("the other stages and the mirrored decoder")),
)
