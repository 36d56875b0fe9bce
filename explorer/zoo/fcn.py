"""Fully convolutional networks: Long, Shelhamer & Darrell, "Fully Convolutional Networks
for Semantic Segmentation" (2015).

- FCN-32s/16s/8s on VGG-16 as in the reference Caffe models: conv1_1 pads by 100, fc6/fc7
  become 7x7 and 1x1 convolutions, scores are upsampled by transposed convolutions fixed
  to bilinear kernels (frozen, as there) and fused with pool4/pool3 scores after cropping.
- ``fcn_resnet50``: torchvision's FCN head on a dilated ResNet-50 with its auxiliary head;
  parameter names match torchvision and the output is a dict with "out" and "aux".
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from .registry import Option, register_model
from .resnet import ResNet
from .segmentation_parts import VGG_BASE_WIDTH, Crop, base_width_option, bilinear_kernel, widen
from .vgg import CFGS

VOC_CLASSES = 21


def _upscore(n: int, kernel: int, stride: int) -> nn.ConvTranspose2d:
    up = nn.ConvTranspose2d(n, n, kernel, stride=stride, bias=False)
    with torch.no_grad():
        up.weight.copy_(bilinear_kernel(n, kernel))
    up.weight.requires_grad_(False)
    return up


class FCNVGG(nn.Module):
    def __init__(self, variant: str = "8s", num_classes: int = VOC_CLASSES,
                 base_width: int = VGG_BASE_WIDTH, batch_norm: bool = False) -> None:
        super().__init__()
        self.variant = variant
        # The five pooling stages of VGG-16 as blocks, named as the paper's figure names
        # what comes out of them (pool1 ... pool5): pool3 and pool4 feed the skips.
        stages: list[list[nn.Module]] = [[]]
        in_ch = 3
        first = True
        for v in CFGS[16]:
            if v == "M":
                stages[-1].append(nn.MaxPool2d(2, 2, ceil_mode=True))
                stages.append([])
            else:
                out_ch = widen(int(v), base_width)
                stages[-1] += [nn.Conv2d(in_ch, out_ch, 3, padding=100 if first else 1),
                               *([nn.BatchNorm2d(out_ch)] if batch_norm else []),
                               nn.ReLU(inplace=True)]
                in_ch, first = out_ch, False
        for i, layers in enumerate(stages[:-1], 1):
            self.add_module(f"pool{i}", nn.Sequential(*layers))
        fc = widen(4096, base_width)
        norm = (lambda: [nn.BatchNorm2d(fc)]) if batch_norm else list
        self.fc6 = nn.Sequential(nn.Conv2d(in_ch, fc, 7), *norm(), nn.ReLU(inplace=True),
                                 nn.Dropout2d())
        self.fc7 = nn.Sequential(nn.Conv2d(fc, fc, 1), *norm(), nn.ReLU(inplace=True),
                                 nn.Dropout2d())
        self.score_fr = nn.Conv2d(fc, num_classes, 1)
        n = num_classes
        if variant == "32s":
            self.upscore = _upscore(n, 64, 32)
            self.crop = Crop(19)
            return
        self.score_pool4 = nn.Conv2d(widen(512, base_width), n, 1)
        self.crop_pool4 = Crop(5)
        self.upscore2 = _upscore(n, 4, 2)
        if variant == "16s":
            self.upscore = _upscore(n, 32, 16)
            self.crop = Crop(27)
            return
        self.score_pool3 = nn.Conv2d(widen(256, base_width), n, 1)
        self.crop_pool3 = Crop(9)
        self.upscore_pool4 = _upscore(n, 4, 2)
        self.upscore = _upscore(n, 16, 8)
        self.crop = Crop(31)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        pool3 = self.pool3(self.pool2(self.pool1(x)))
        pool4 = self.pool4(pool3)
        score = self.score_fr(self.fc7(self.fc6(self.pool5(pool4))))
        if self.variant != "32s":
            score = self.upscore2(score)
            score = score + self.crop_pool4(self.score_pool4(pool4), score.shape[-2:])
        if self.variant == "8s":
            score = self.upscore_pool4(score)
            score = score + self.crop_pool3(self.score_pool3(pool3), score.shape[-2:])
        return self.crop(self.upscore(score), size)


class FCNHead(nn.Sequential):
    def __init__(self, in_channels: int, channels: int) -> None:
        inter = in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, inter, 3, padding=1, bias=False),
            nn.BatchNorm2d(inter),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(inter, channels, 1),
        )


class FCNResNet(nn.Module):
    def __init__(self, num_classes: int = VOC_CLASSES, aux_loss: bool = True) -> None:
        super().__init__()
        backbone = ResNet(50, replace_stride_with_dilation=(False, True, True))
        del backbone.avgpool, backbone.fc
        self.backbone = backbone
        self.classifier = FCNHead(2048, num_classes)
        self.aux_classifier = FCNHead(1024, num_classes) if aux_loss else None

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        size = x.shape[-2:]
        b = self.backbone
        x = b.layer2(b.layer1(b.maxpool(b.relu(b.bn1(b.conv1(x))))))
        aux = b.layer3(x)
        out = self.classifier(b.layer4(aux))
        result = OrderedDict(out=F.interpolate(out, size=size, mode="bilinear",
                                               align_corners=False))
        if self.aux_classifier is not None:
            result["aux"] = F.interpolate(self.aux_classifier(aux), size=size,
                                          mode="bilinear", align_corners=False)
        return result


def _classes() -> Option:
    return Option("num_classes", int, VOC_CLASSES, "number of classes (21: Pascal VOC)",
                  min=1, max=1000)


_PAPER = "Fully Convolutional Networks for Semantic Segmentation"
for _v in ("32s", "16s", "8s"):
    register_model(
        f"fcn{_v}", FCNVGG, family="FCN", task="segmentation", year=2015, paper=_PAPER,
        input_shape=(3, 500, 500), labels="voc21",
        init="PyTorch's layer defaults; the upsampling transposed convolutions start as "
             "bilinear interpolation and stay fixed (the paper's)",
        description=f"FCN-{_v}: VGG-16 made fully convolutional, scores upsampled "
                    + ("in one step." if _v == "32s" else "and fused with pool skip scores."),
        options=(Option("variant", str, _v, "output stride of the final upsampling",
                        choices=("32s", "16s", "8s")), _classes(),
                 base_width_option("the other stages and fc6/fc7 (4096 = 64 × 64)"),
                 Option("batch_norm", bool, False,
                        "batch normalisation after each conv and fc6/fc7 (VGG-16-BN; not the "
                        "paper's, which fine-tuned ImageNet VGG-16: lets FCN train from "
                        "random weights)")),
    )
register_model(
    "fcn_resnet50", FCNResNet, family="FCN", task="segmentation", year=2015, paper=_PAPER,
    input_shape=(3, 520, 520), labels="voc21", torchvision=True,
    init="the backbone's as ResNet-50's (Kaiming-normal convolutions, each bottleneck's "
         "last BN zero); the heads PyTorch's layer defaults",
    description="FCN head on a dilated ResNet-50 (output stride 8) with an auxiliary head.",
    options=(_classes(), Option("aux_loss", bool, True, "build the auxiliary head on layer3")),
)
