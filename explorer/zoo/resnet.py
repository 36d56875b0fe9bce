"""ResNet and its variants.

- He et al., "Deep Residual Learning for Image Recognition" (2015): ResNet-18/34/50/101/152,
  shortcut options A (zero-padding identity), B (projection only where the shape changes)
  and C (projection everywhere), and the plain networks used for the degradation study.
- ``stride_on="3x3"`` is torchvision's "V1.5" (stride on the bottleneck's 3x3, the default
  here as there); ``"1x1"`` is the paper's original stride on the first 1x1.
- He et al., "Identity Mappings in Deep Residual Networks" (2016): ``preact=True`` gives
  pre-activation blocks (BN-ReLU-conv) with a final BN-ReLU before pooling. The stem keeps
  its BN-ReLU and each block pre-activates its own input.
- Hu et al., "Squeeze-and-Excitation Networks" (2017): ``se=True`` adds an SE block (reduction
  ``se_reduction``) on each residual branch before the addition.

With the defaults (shortcut B, stride on 3x3, post-activation, no SE) parameter names and
shapes are torchvision's.

Initialisation: convolutions Kaiming-normal (fan out), as torchvision; and the last layer of
every residual branch starts at zero (its BN's scale, or a pre-activation block's last
convolution), as timm's ``zero_init_last`` (its default) and torchvision's
``zero_init_residual=True`` do, after Goyal et al. 2017: each block starts as its shortcut.
Without it a random-init network in eval mode (BN with its initial statistics is the
identity) adds up its branches' variance block after block: ResNet-152's logits reached
1e8 and SE-ResNet-152's 1e4, where float32 vs float64 differed by 52 %. Plain networks
(no shortcut) keep every branch as it is; ``zero_init_last=False`` gives the paper's init.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import num_classes
from .registry import Option, register_model

DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=dilation,
                     dilation=dilation, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class ZeroPadShortcut(nn.Module):
    """Option A: subsample spatially and pad the extra channels with zeros (no parameters)."""

    def __init__(self, out_planes: int, stride: int) -> None:
        super().__init__()
        self.out_planes = out_planes
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.out_planes - x.shape[1]))


class SqueezeExcitation(nn.Module):
    """Channel attention: global pool, bottleneck MLP (1x1 convs), sigmoid, rescale."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        squeezed = max(1, channels // reduction)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(squeezed, channels, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.sigmoid(self.fc2(self.relu(self.fc1(self.avgpool(x)))))
        return x * scale


def make_shortcut(kind: str, in_planes: int, out_planes: int, stride: int,
                  preact: bool) -> nn.Module | None:
    """The shortcut module for one block; None means identity."""
    changes = stride != 1 or in_planes != out_planes
    if kind == "A":
        return ZeroPadShortcut(out_planes, stride) if changes else None
    if kind == "B" and not changes:
        return None
    if preact:  # the pre-activated input already went through BN
        return nn.Sequential(conv1x1(in_planes, out_planes, stride))
    return nn.Sequential(conv1x1(in_planes, out_planes, stride), nn.BatchNorm2d(out_planes))


class _Block(nn.Module):
    """What every block does after its convolutions: SE, then the shortcut."""

    se: nn.Module | None
    downsample: nn.Module | None
    residual: bool

    def _post(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Post-activation (He 2015): in-place add, as torchvision does, then ReLU."""
        if self.se is not None:
            out = self.se(out)
        if self.residual:
            out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)

    def last_layer(self) -> nn.Module:
        """The branch's last layer with a scale: zeroed at init, the block starts as its
        shortcut."""
        raise NotImplementedError

    def _pre(self, out: torch.Tensor, x: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
        """Pre-activation (He 2016): a projection sees the pre-activated input."""
        if self.se is not None:
            out = self.se(out)
        if not self.residual:
            return out
        return out + (x if self.downsample is None else self.downsample(pre))


class BasicBlock(_Block):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, residual: bool = True,
                 se_reduction: int = 0, stride_on: str = "3x3", dilation: int = 1) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.se = SqueezeExcitation(planes, se_reduction) if se_reduction else None
        self.downsample = downsample
        self.residual = residual

    def last_layer(self) -> nn.Module:
        return self.bn2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self._post(self.bn2(self.conv2(out)), x)


class Bottleneck(_Block):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, residual: bool = True,
                 se_reduction: int = 0, stride_on: str = "3x3", dilation: int = 1) -> None:
        super().__init__()
        s1, s3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.conv1 = conv1x1(inplanes, planes, s1)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, s3, dilation)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.se = SqueezeExcitation(planes * 4, se_reduction) if se_reduction else None
        self.downsample = downsample
        self.residual = residual

    def last_layer(self) -> nn.Module:
        return self.bn3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self._post(self.bn3(self.conv3(out)), x)


class PreActBasicBlock(_Block):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, residual: bool = True,
                 se_reduction: int = 0, stride_on: str = "3x3", dilation: int = 1) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.relu = nn.ReLU(inplace=False)
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.se = SqueezeExcitation(planes, se_reduction) if se_reduction else None
        self.downsample = downsample
        self.residual = residual

    def last_layer(self) -> nn.Module:
        return self.conv2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu(self.bn1(x))
        out = self.conv1(pre)
        return self._pre(self.conv2(self.relu(self.bn2(out))), x, pre)


class PreActBottleneck(_Block):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, residual: bool = True,
                 se_reduction: int = 0, stride_on: str = "3x3", dilation: int = 1) -> None:
        super().__init__()
        s1, s3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.relu = nn.ReLU(inplace=False)
        self.conv1 = conv1x1(inplanes, planes, s1)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, s3)
        self.bn3 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.se = SqueezeExcitation(planes * 4, se_reduction) if se_reduction else None
        self.downsample = downsample
        self.residual = residual

    def last_layer(self) -> nn.Module:
        return self.conv3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu(self.bn1(x))
        out = self.conv1(pre)
        out = self.conv2(self.relu(self.bn2(out)))
        return self._pre(self.conv3(self.relu(self.bn3(out))), x, pre)


def init_weights(model: nn.Module, zero_init_last: bool = True) -> None:
    """Kaiming-normal convolutions (fan out), as torchvision; with ``zero_init_last`` the
    last layer of every residual branch zero, so each block starts as its shortcut
    (timm's ``zero_init_last``; see the module's docstring for why)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    for m in model.modules():
        if zero_init_last and isinstance(m, _Block) and m.residual:
            nn.init.zeros_(m.last_layer().weight)


class ResNet(nn.Module):
    def __init__(self, depth: int = 50, num_classes: int = 1000, shortcut: str = "B",
                 stride_on: str = "3x3", preact: bool = False, plain: bool = False,
                 se: bool = False, se_reduction: int = 16,
                 replace_stride_with_dilation: tuple[bool, bool, bool] = (False, False, False),
                 zero_init_last: bool = True) -> None:
        super().__init__()
        kind, layers = DEPTHS[depth]
        if kind == "basic":
            block = PreActBasicBlock if preact else BasicBlock
        else:
            block = PreActBottleneck if preact else Bottleneck
        self._block = block
        self._shortcut, self._preact, self._plain = shortcut, preact, plain
        self._se_reduction = se_reduction if se else 0
        self._stride_on = stride_on
        self.inplanes = 64
        self.dilation = 1
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0])
        dilate = replace_stride_with_dilation
        self.layer2 = self._make_layer(128, layers[1], stride=2, dilate=dilate[0])
        self.layer3 = self._make_layer(256, layers[2], stride=2, dilate=dilate[1])
        self.layer4 = self._make_layer(512, layers[3], stride=2, dilate=dilate[2])
        width = 512 * block.expansion
        if preact:
            self.bn_final = nn.BatchNorm2d(width)
            self.relu_final = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width, num_classes)
        init_weights(self, zero_init_last)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1,
                    dilate: bool = False) -> nn.Sequential:
        out = planes * self._block.expansion
        previous_dilation = self.dilation
        if dilate:  # keep the resolution, grow the receptive field instead (FCN backbone)
            self.dilation *= stride
            stride = 1
        layers = []
        for i in range(blocks):
            s = stride if i == 0 else 1
            shortcut = None if self._plain else make_shortcut(
                self._shortcut, self.inplanes, out, s, self._preact)
            dilation = previous_dilation if i == 0 else self.dilation
            layers.append(self._block(self.inplanes, planes, s, shortcut, not self._plain,
                                      self._se_reduction, self._stride_on, dilation))
            self.inplanes = out
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        if self._preact:
            x = self.relu_final(self.bn_final(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def _options(depth: int, **preset) -> tuple[Option, ...]:
    defaults = dict(shortcut="B", stride_on="3x3", preact=False, plain=False, se=False)
    defaults.update(preset)
    return (
        Option("depth", int, depth, "number of weight layers", choices=tuple(DEPTHS)),
        num_classes(),
        Option("shortcut", str, defaults["shortcut"],
               "A: zero-padding identity, B: projection where the shape changes, "
               "C: projection everywhere", choices=("A", "B", "C")),
        Option("stride_on", str, defaults["stride_on"],
               "where a bottleneck downsamples: 1x1 (paper v1) or 3x3 (v1.5)",
               choices=("1x1", "3x3")),
        Option("preact", bool, defaults["preact"], "pre-activation blocks (He et al. 2016)"),
        Option("plain", bool, defaults["plain"], "no shortcuts: the plain network"),
        Option("se", bool, defaults["se"], "squeeze-and-excitation on each residual branch"),
        Option("se_reduction", int, 16, "SE reduction ratio r", min=1, max=1024),
        zero_init_option(),
    )


def zero_init_option() -> Option:
    return Option("zero_init_last", bool, True, "start each residual branch's last layer at "
                  "zero (timm's default; bounded random-init outputs); off: the paper's init")


_PAPERS = {
    "resnet": ("Deep Residual Learning for Image Recognition", 2015),
    "plain": ("Deep Residual Learning for Image Recognition", 2015),
    "preact": ("Identity Mappings in Deep Residual Networks", 2016),
    "se": ("Squeeze-and-Excitation Networks", 2017),
}


INIT = ("Kaiming-normal convolutions (fan out), BN scale 1 and shift 0, and the last layer "
        "of every residual branch zero (timm's zero_init_last, torchvision's "
        "zero_init_residual=True): each block starts as its shortcut (zero_init_last=False: "
        "the paper's Kaiming init alone)")
PLAIN_INIT = "Kaiming-normal convolutions (fan out), BN scale 1 and shift 0"


def _register(name: str, depth: int, flavour: str, **preset) -> None:
    paper, year = _PAPERS[flavour]
    family = {"se": "SENet", "preact": "ResNet"}.get(flavour, "ResNet")
    register_model(
        name, ResNet, family=family, task="classification", paper=paper, year=year,
        input_shape=(3, 224, 224), labels="imagenet1k", options=_options(depth, **preset),
        torchvision=flavour == "resnet" and not preset,
        init=PLAIN_INIT if flavour == "plain" else INIT,
        description=f"{flavour} network, {depth} layers"
        + (f" ({', '.join(f'{k}={v}' for k, v in preset.items())})" if preset else ""),
    )


for _depth in DEPTHS:
    _register(f"resnet{_depth}", _depth, "resnet")
    _register(f"preact_resnet{_depth}", _depth, "preact", preact=True)
    _register(f"resnet{_depth}_plain", _depth, "plain", plain=True)
    if DEPTHS[_depth][0] == "bottleneck":
        _register(f"resnet{_depth}_v1", _depth, "resnet", stride_on="1x1")
        _register(f"se_resnet{_depth}", _depth, "se", se=True)
