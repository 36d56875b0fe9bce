"""Zoo models use torchvision's parameter names and shapes, so its weights load as-is."""

from __future__ import annotations

import io

import pytest
import torch

from explorer import zoo

TORCHVISION_FAMILY = [n for n in zoo.list_models() if zoo.get_info(n).torchvision]

# A sample of torchvision's state_dict keys and shapes, written down from torchvision 0.2x.
TORCHVISION_KEYS = {
    "alexnet": {"features.10.weight": (256, 256, 3, 3), "classifier.6.weight": (1000, 4096)},
    "vgg16_bn": {"features.1.running_var": (64,), "features.41.weight": (512,),
                 "classifier.0.weight": (4096, 25088)},
    "googlenet": {"conv1.conv.weight": (64, 3, 7, 7), "inception3a.branch3.1.conv.weight":
                  (32, 16, 3, 3), "aux1.fc1.weight": (1024, 2048), "aux2.conv.bn.weight": (128,)},
    "inception_v3": {"Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
                     "AuxLogits.conv1.conv.weight": (768, 128, 5, 5), "fc.weight": (1000, 2048)},
    "resnet50": {"layer1.0.downsample.0.weight": (256, 64, 1, 1),
                 "layer2.0.conv2.weight": (128, 128, 3, 3), "layer4.2.bn3.num_batches_tracked": ()},
    "densenet121": {"features.denseblock1.denselayer1.norm1.weight": (64,),
                    "features.denseblock4.denselayer16.conv2.weight": (32, 128, 3, 3),
                    "features.transition1.conv.weight": (128, 256, 1, 1),
                    "features.norm5.weight": (1024,), "classifier.weight": (1000, 1024)},
    "mobilenet_v2": {"features.0.0.weight": (32, 3, 3, 3), "features.1.conv.0.0.weight":
                     (32, 1, 3, 3), "features.1.conv.1.weight": (16, 32, 1, 1),
                     "features.18.0.weight": (1280, 320, 1, 1),
                     "classifier.1.weight": (1000, 1280)},
    "shufflenet_v2_x1_0": {"conv1.0.weight": (24, 3, 3, 3), "stage2.0.branch1.0.weight":
                           (24, 1, 3, 3), "stage2.1.branch2.0.weight": (58, 58, 1, 1),
                           "conv5.0.weight": (1024, 464, 1, 1)},
    "fcn_resnet50": {"backbone.layer4.0.conv2.weight": (512, 512, 3, 3),
                     "classifier.0.weight": (512, 2048, 3, 3), "classifier.4.weight":
                     (21, 512, 1, 1), "aux_classifier.4.weight": (21, 256, 1, 1)},
}


def test_known_torchvision_keys_and_shapes():
    for name, keys in TORCHVISION_KEYS.items():
        state = zoo.build(name).state_dict()
        for key, shape in keys.items():
            assert key in state, f"{name}: {key} missing"
            assert tuple(state[key].shape) == shape, f"{name}: {key}"
    assert zoo.build("fcn_resnet50").backbone.layer4[0].conv2.dilation == (2, 2)


def _smallest_of_each_family() -> list[str]:
    sizes: dict[str, tuple[int, str]] = {}
    for name in TORCHVISION_FAMILY:
        with torch.device("meta"):
            count = sum(p.numel() for p in zoo.build(name).parameters())
        family = zoo.get_info(name).family
        sizes[family] = min(sizes.get(family, (count, name)), (count, name))
    return sorted(name for _, name in sizes.values())


REAL_SIZE = _smallest_of_each_family()  # one real round-trip per family


@pytest.mark.parametrize("name", TORCHVISION_FAMILY)
def test_state_dict_keys_shapes_and_dtypes_load_strictly(name):
    """Every torchvision-family model, on the meta device: no memory, no init."""
    with torch.device("meta"):
        source, target = zoo.build(name), zoo.build(name)
    state = source.state_dict()
    result = target.load_state_dict(state, strict=True, assign=True)
    assert not result.missing_keys and not result.unexpected_keys
    loaded = target.state_dict()
    assert list(loaded) == list(state)
    for key, value in state.items():
        assert (loaded[key].shape, loaded[key].dtype) == (value.shape, value.dtype), key


def test_one_real_model_per_family():
    assert len(REAL_SIZE) >= 8 and {"alexnet", "resnet18", "densenet121"} <= set(REAL_SIZE)


@pytest.mark.parametrize("name", REAL_SIZE)
def test_state_dict_round_trip_strict(name):
    source = zoo.build(name)
    with torch.no_grad():  # non-trivial running statistics, so BN is really exercised
        for m in source.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    buffer = io.BytesIO()
    torch.save(source.state_dict(), buffer)
    buffer.seek(0)
    target = zoo.build(name)
    result = target.load_state_dict(torch.load(buffer, weights_only=True), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    size = {"inception_v3": 96, "fcn_resnet50": 64}.get(name, 64)
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        a, b = source(x), target(x)
    if isinstance(a, dict):
        a, b = a["out"], b["out"]
    assert torch.equal(a, b)
