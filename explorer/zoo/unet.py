"""U-Net: Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical Image
Segmentation" (2015).

The paper's network: unpadded 3x3 convolutions, 2x2 up-convolutions, and skip connections
that crop each encoder level to the decoder's size before concatenating (572x572 input,
388x388 output). ``padding=True`` gives the common same-size variant; ``base_width``
thins it (the shipped demo model uses a reduced width).
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import Option, register_model
from .segmentation_parts import Crop


class DoubleConv(nn.Sequential):
    def __init__(self, in_ch: int, out_ch: int, padding: bool, batch_norm: bool) -> None:
        layers: list[nn.Module] = []
        for i in range(2):
            layers.append(nn.Conv2d(in_ch if i == 0 else out_ch, out_ch, 3,
                                    padding=1 if padding else 0, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_ch))
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class Down(nn.Module):
    """One encoder level below the first: 2x2 max-pool then two convolutions."""

    def __init__(self, in_ch: int, out_ch: int, padding: bool, batch_norm: bool) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.conv = DoubleConv(in_ch, out_ch, padding, batch_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pool(x))


class Up(nn.Module):
    """One decoder level: up-convolution halving the channels, crop the encoder map to the
    same size, concatenate, two convolutions."""

    def __init__(self, in_ch: int, out_ch: int, padding: bool, batch_norm: bool) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, 2, stride=2)
        self.crop = Crop()
        self.conv = DoubleConv(in_ch, out_ch, padding, batch_norm)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        skip = self.crop(skip, x.shape[-2:])
        return self.conv(torch.cat([skip, x], 1))


class UNet(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 2, base_width: int = 64,
                 padding: bool = False, batch_norm: bool = False) -> None:
        super().__init__()
        w = [base_width * 2**i for i in range(5)]
        self.enc1 = DoubleConv(in_channels, w[0], padding, batch_norm)
        self.enc2 = Down(w[0], w[1], padding, batch_norm)
        self.enc3 = Down(w[1], w[2], padding, batch_norm)
        self.enc4 = Down(w[2], w[3], padding, batch_norm)
        self.enc5 = Down(w[3], w[4], padding, batch_norm)
        self.dec4 = Up(w[4], w[3], padding, batch_norm)
        self.dec3 = Up(w[3], w[2], padding, batch_norm)
        self.dec2 = Up(w[2], w[1], padding, batch_norm)
        self.dec1 = Up(w[1], w[0], padding, batch_norm)
        self.head = nn.Conv2d(w[0], num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        e4 = self.enc4(e3)
        x = self.enc5(e4)
        x = self.dec4(x, e4)
        x = self.dec3(x, e3)
        x = self.dec2(x, e2)
        x = self.dec1(x, e1)
        return self.head(x)


_OPTIONS = (
    Option("in_channels", int, 1, "input channels", min=1, max=16),
    Option("num_classes", int, 2, "number of classes", min=1, max=1000),
    Option("base_width", int, 64, "channels of the first level (doubled per level)",
           min=1, max=256),
    Option("padding", bool, False, "padded 3x3 convs: output as large as the input"),
    Option("batch_norm", bool, False, "batch normalisation after each conv"),
)
_PAPER = "U-Net: Convolutional Networks for Biomedical Image Segmentation"
register_model(
    "unet", UNet, family="U-Net", task="segmentation", year=2015, paper=_PAPER,
    input_shape=(1, 572, 572), mean=(0.5,), std=(0.5,),
    description="Contracting and expanding paths joined by crop-and-concatenate skips; "
                "572x572 in, 388x388 out.",
    options=_OPTIONS,
)
register_model(
    "unet_padded", UNet, family="U-Net", task="segmentation", year=2015, paper=_PAPER,
    input_shape=(1, 256, 256), mean=(0.5,), std=(0.5,),
    description="U-Net with padded convolutions: same-size output for inputs divisible by 16.",
    options=_OPTIONS, preset=dict(padding=True, batch_norm=True),
)
