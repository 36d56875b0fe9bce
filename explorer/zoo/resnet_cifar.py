"""The CIFAR-10 ResNets: the networks the depth and degradation claims are about.

- He et al., "Deep Residual Learning for Image Recognition" (2015), Section 4.2: a 3×3
  convolution to 16 channels, then three stages of n basic blocks (2n layers each) at
  16, 32 and 64 channels on 32×32, 16×16 and 8×8 maps, global average pooling and a
  10-way classifier: 6n + 2 weight layers (ResNet-20/32/44/56/110/1202). Shortcuts are
  option A (identity, zero-padded channels where the width doubles: no parameters), so a
  plain network (``plain=True``) has exactly the same layers and parameters.
- He et al., "Identity Mappings in Deep Residual Networks" (2016): pre-activation blocks
  (BN-ReLU-conv) and a final BN-ReLU before pooling. ResNet-110 keeps basic blocks;
  ResNet-164 and -1001 use bottlenecks (1×1 to 16/32/64, 3×3, 1×1 back to 4× that:
  9n + 2 layers) with a 1×1 projection where the shape changes, as the authors' code does.

The blocks are the ImageNet family's own (``resnet.py``); the stem has no max pooling.
Stable names for tools that pick layers: ``conv1``, ``layer1``..``layer3``, ``fc``.
"""

from __future__ import annotations

import torch
from torch import nn

from .common import num_classes
from .registry import Option, ZooError, register_model
from .resnet import INIT as RESNET_INIT
from .resnet import (
    PLAIN_INIT,
    BasicBlock,
    Bottleneck,
    PreActBasicBlock,
    PreActBottleneck,
    conv3x3,
    init_weights,
    make_shortcut,
    zero_init_option,
)

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)  # per-pixel std of the training set
DEPTHS = (20, 32, 44, 56, 110, 164, 1001, 1202)
WIDTHS = (16, 32, 64)


def blocks_per_stage(depth: int, bottleneck: bool) -> int:
    """n in 6n + 2 (basic blocks) or 9n + 2 (bottlenecks); a ZooError where none fits."""
    per_block = 9 if bottleneck else 6
    n, rest = divmod(depth - 2, per_block)
    if rest or n < 1:
        kind = "bottleneck" if bottleneck else "basic"
        raise ZooError(f"CIFAR ResNet: depth={depth} is not {per_block}n + 2 as {kind} blocks "
                       f"need; with bottleneck={not bottleneck} it may be")
    return n


class CifarResNet(nn.Module):
    def __init__(self, depth: int = 20, num_classes: int = 10, shortcut: str = "A",
                 preact: bool = False, plain: bool = False, bottleneck: bool = False,
                 zero_init_last: bool = True) -> None:
        super().__init__()
        n = blocks_per_stage(depth, bottleneck)
        if bottleneck:
            block = PreActBottleneck if preact else Bottleneck
        else:
            block = PreActBasicBlock if preact else BasicBlock
        self._block, self._shortcut = block, shortcut
        self._preact, self._plain = preact, plain
        self.inplanes = WIDTHS[0]
        self.conv1 = conv3x3(3, WIDTHS[0])
        if not preact:  # pre-activation blocks normalise their own input
            self.bn1 = nn.BatchNorm2d(WIDTHS[0])
            self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(WIDTHS[0], n)
        self.layer2 = self._make_layer(WIDTHS[1], n, stride=2)
        self.layer3 = self._make_layer(WIDTHS[2], n, stride=2)
        width = WIDTHS[2] * block.expansion
        if preact:
            self.bn_final = nn.BatchNorm2d(width)
            self.relu_final = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width, num_classes)
        init_weights(self, zero_init_last)  # bounded random-init outputs (see resnet.py)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        out = planes * self._block.expansion
        layers = []
        for i in range(blocks):
            s = stride if i == 0 else 1
            shortcut = None if self._plain else make_shortcut(
                self._shortcut, self.inplanes, out, s, self._preact)
            layers.append(self._block(self.inplanes, planes, s, shortcut, not self._plain))
            self.inplanes = out
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        if not self._preact:
            x = self.relu(self.bn1(x))
        x = self.layer3(self.layer2(self.layer1(x)))
        if self._preact:
            x = self.relu_final(self.bn_final(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _options(depth: int, shortcut: str = "A", preact: bool = False, plain: bool = False,
             bottleneck: bool = False) -> tuple[Option, ...]:
    return (
        Option("depth", int, depth, "number of weight layers: 6n + 2 with basic blocks, "
               "9n + 2 with bottlenecks", choices=DEPTHS),
        num_classes(10),
        Option("shortcut", str, shortcut, "A: zero-padding identity (no parameters), "
               "B: projection where the shape changes", choices=("A", "B")),
        Option("preact", bool, preact, "pre-activation blocks (He et al. 2016)"),
        Option("plain", bool, plain, "no shortcuts: the plain network"),
        Option("bottleneck", bool, bottleneck, "1×1-3×3-1×1 bottleneck blocks"),
        zero_init_option(),
    )


_PAPERS = {
    "resnet": ("Deep Residual Learning for Image Recognition", 2015),
    "plain": ("Deep Residual Learning for Image Recognition", 2015),
    "preact": ("Identity Mappings in Deep Residual Networks", 2016),
}


def _register(name: str, depth: int, flavour: str, **preset) -> None:
    paper, year = _PAPERS[flavour]
    register_model(
        name, CifarResNet, family="ResNet (CIFAR)", task="classification", paper=paper,
        year=year, input_shape=(3, 32, 32), mean=CIFAR10_MEAN, std=CIFAR10_STD,
        labels="cifar10", options=_options(depth, **preset), fit="resize",
        description=f"{flavour} network for CIFAR-10, {depth} layers",
        init=PLAIN_INIT if flavour == "plain" else RESNET_INIT,
    )


for _depth in (20, 32, 44, 56, 110, 1202):
    _register(f"resnet{_depth}_cifar", _depth, "resnet")
for _depth in (20, 32, 44, 56, 110):
    _register(f"resnet{_depth}_cifar_plain", _depth, "plain", plain=True)
_register("preact_resnet110_cifar", 110, "preact", preact=True)
for _depth in (164, 1001):
    _register(f"preact_resnet{_depth}_cifar", _depth, "preact", preact=True, bottleneck=True,
              shortcut="B")
