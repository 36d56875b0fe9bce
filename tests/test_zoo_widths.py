"""The segmentation networks' base_width option: the default is the paper's network
(parameter counts unchanged), a narrow one shrinks every VGG-16 width in proportion."""

import pytest
import torch

from explorer import zoo

# VGG-16's 13 convolutions as (in, out) at a first-stage width of w.
WIDTHS = (1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 8, 8, 8)


def vgg16(w: int) -> list[tuple[int, int]]:
    outs = [k * w for k in WIDTHS]
    return list(zip([3, *outs[:-1]], outs))


def params(name: str, **options) -> int:
    with torch.device("meta"):  # counted, never filled
        return sum(p.numel() for p in zoo.build(name, **options).parameters())


def fcn32s_count(w: int, n: int, bn: bool = False) -> int:
    """conv weights and biases (and BN's two vectors), fc6 7×7 and fc7 1×1 of 64w
    channels, the 1×1 score layer and the frozen 64×64 bilinear upsampling."""
    norm = 2 if bn else 0
    convs = sum(i * o * 9 + o + norm * o for i, o in vgg16(w))
    fc = 64 * w
    return (convs + 8 * w * fc * 49 + fc + norm * fc + fc * fc + fc + norm * fc
            + fc * n + n + n * n * 64 * 64)


def segnet_count(w: int, n: int) -> int:
    """13 encoder conv-BN layers, the mirrored decoder's 13 (stage 1 keeps one) and the
    3×3 classifier."""
    encoder = sum(i * o * 9 + 3 * o for i, o in vgg16(w))
    decoder_stages = ((8, 8, 3), (8, 4, 3), (4, 2, 3), (2, 1, 2), (1, 1, 1))
    decoder = 0
    for cin, cout, convs in decoder_stages:
        for k in range(convs):
            i, o = cin * w, (cout if k == convs - 1 else cin) * w
            decoder += i * o * 9 + 3 * o
    return encoder + decoder + w * n * 9 + n


def test_defaults_are_the_papers_networks():
    assert params("fcn32s") == fcn32s_count(64, 21) == 136_152_917
    assert params("fcn16s") == 134_815_994 and params("fcn8s") == 134_489_759
    assert params("segnet") == segnet_count(64, 21) == 29_455_125


@pytest.mark.parametrize("w", [16, 4])
def test_a_narrow_network_shrinks_every_width(w):
    assert params("fcn32s", base_width=w, num_classes=4) == fcn32s_count(w, 4)
    assert params("fcn32s", base_width=w, num_classes=4, batch_norm=True) == \
        fcn32s_count(w, 4, bn=True)
    assert params("segnet", base_width=w, num_classes=4) == segnet_count(w, 4)
    # the skips add a 1×1 score layer on pool4 (8w channels) and pool3 (4w), and two
    # frozen 4×4 upsamplings; the last upsampling is 32×32 (16s) or 16×16 (8s), not 64×64
    n = 4
    fcn16 = fcn32s_count(w, n) + 8 * w * n + n + n * n * (16 + 32 * 32 - 64 * 64)
    assert params("fcn16s", base_width=w, num_classes=n) == fcn16
    assert params("fcn8s", base_width=w, num_classes=n) == \
        fcn16 + 4 * w * n + n + n * n * (16 + 16 * 16 - 32 * 32)


def test_narrow_networks_keep_the_output_size():
    for name in ("fcn32s", "fcn8s", "segnet"):
        model = zoo.build(name, base_width=4, num_classes=4, batch_norm=True) \
            if name.startswith("fcn") else zoo.build(name, base_width=4, num_classes=4)
        with torch.no_grad():
            assert model.eval()(torch.randn(1, 3, 64, 64)).shape == (1, 4, 64, 64)


def test_base_width_is_checked_like_any_option():
    with pytest.raises(zoo.ZooError, match="base_width=0 is out of range"):
        zoo.build("segnet", base_width=0)
