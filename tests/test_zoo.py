"""Every registered model builds, runs and matches the published parameter counts."""

from __future__ import annotations

import pytest
import torch

from explorer import zoo

ALL = zoo.list_models()

# Smallest sizes each family accepts, so the forward pass of every model stays cheap.
SMALL = {"inception_v3": 96, "xception": 96, "unet": 188, "deconvnet": 224, "segnet": 64,
         "lenet5": 32, **{name: 32 for name in zoo.list_models("*cifar*")}}


def small_input(name: str, **options) -> torch.Tensor:
    n, c, h, w = zoo.input_shape(name, **options)
    size = SMALL.get(name, 64)
    if options.get("padding"):
        size = 64  # the padded U-Net wants a multiple of 16
    return torch.randn(1, c, size, size)


# A random-init network has no reason to prefer a class: on N(0, 1) noise every zoo model's
# logits stay within ±RANDOM_LOGITS (the largest today: ShuffleNet v1 g1, about 0.4). At
# e^10 ≈ 22,000 to one a random network is not unsure but numerically chaotic. In eval mode
# an untrained BN (mean 0, variance 1) is the identity, so a residual stream roughly
# doubled its variance each block: ResNet-152 reached 1e8, SE-ResNet-152 1e4 (float32 and
# float64 52 % apart), the 1202- and 1001-layer CIFAR ResNets overflowed float32, until
# each branch's last layer started at zero (zoo/resnet.py, option zero_init_last).
RANDOM_LOGITS = 10.0


def output_tensor(y):
    return y["out"] if isinstance(y, dict) else y


def expected_shape(name: str, model_options: dict, x: torch.Tensor) -> tuple[int, ...]:
    info = zoo.get_info(name)
    classes = info.resolve(model_options)["num_classes"]
    if info.task == "classification":
        return (1, classes)
    h, w = x.shape[-2:]
    if name == "unet" and not info.resolve(model_options)["padding"]:
        return (1, classes, 4, 4)  # 188 -> 4 with unpadded convolutions
    return (1, classes, h, w)


def test_registry_lists_the_catalogue():
    for name in ["lenet5", "alexnet", "vgg16_bn", "googlenet", "inception_v3", "resnet50",
                 "resnet34_plain", "preact_resnet50", "se_resnet50", "densenet121",
                 "mobilenet_v1", "mobilenet_v2", "shufflenet_v1_g3", "shufflenet_v2_x1_0",
                 "xception", "fcn8s", "fcn_resnet50", "unet", "segnet", "deconvnet"]:
        assert name in ALL
    assert zoo.list_models("resnet*") == [n for n in ALL if n.startswith("resnet")]
    assert set(zoo.list_models(task="segmentation")) == {
        "fcn32s", "fcn16s", "fcn8s", "fcn_resnet50", "unet", "unet_padded", "segnet",
        "deconvnet"}


@pytest.mark.parametrize("name", ALL)
def test_every_model_builds_and_runs(name):
    info = zoo.get_info(name)
    assert info.paper and info.year > 1990 and info.task in ("classification", "segmentation")
    assert len(info.mean) == len(info.std) == info.input_shape[0]
    model = zoo.build(name)
    assert not model.training
    x = small_input(name)
    with torch.no_grad():
        y = output_tensor(model(x))
    assert tuple(y.shape) == expected_shape(name, {}, x)
    assert torch.isfinite(y).all()
    assert float(y.abs().max()) <= RANDOM_LOGITS


OPTION_SAMPLES = [
    ("lenet5", dict(activation="relu", sparse_c3=True, num_classes=3)),
    ("vgg11", dict(batch_norm=True, num_classes=7)),
    ("googlenet", dict(aux_logits=False, branch3_kernel=5)),
    ("inception_v3", dict(aux_logits=False)),
    ("resnet18", dict(shortcut="A")),
    ("resnet34", dict(shortcut="C", se=True, se_reduction=8)),
    ("resnet50", dict(stride_on="1x1", preact=True)),
    ("resnet50", dict(shortcut="A", plain=False)),
    ("resnet18", dict(plain=True, preact=True)),
    ("densenet121", dict(growth_rate=12, bottleneck=False, compression=1.0)),
    ("mobilenet_v1", dict(alpha=0.5, resolution=128)),
    ("mobilenet_v2", dict(width_mult=0.5, expansion=4)),
    ("shufflenet_v1_g1", dict(groups=8, scale=0.5)),
    ("shufflenet_v2_x1_0", dict(width="0.5")),
    ("xception", dict(middle_blocks=2)),
    ("fcn8s", dict(variant="16s", num_classes=5)),
    ("fcn_resnet50", dict(aux_loss=False, num_classes=3)),
    ("unet", dict(padding=True, base_width=8, in_channels=3, num_classes=4)),
    ("segnet", dict(num_classes=12)),
]


@pytest.mark.parametrize(("name", "options"), OPTION_SAMPLES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}"
                              for n, o in OPTION_SAMPLES])
def test_option_variants_build_and_run(name, options):
    model = zoo.build(name, **options)
    x = small_input(name, **options)
    with torch.no_grad():
        y = output_tensor(model(x))
    assert tuple(y.shape) == expected_shape(name, options, x)


def params(name: str, **options) -> int:
    return sum(p.numel() for p in zoo.build(name, **options).parameters())


# torchvision's weights metadata (num_params), written here so the tests stand alone.
TORCHVISION_PARAMS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336, "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848, "vgg13_bn": 133_053_736,
    "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
    "inception_v3": 27_161_264,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808,
    "densenet121": 7_978_856, "densenet161": 28_681_000, "densenet169": 14_149_480,
    "densenet201": 20_013_928,
    "mobilenet_v2": 3_504_872,
    "shufflenet_v2_x0_5": 1_366_792, "shufflenet_v2_x1_0": 2_278_604,
    "shufflenet_v2_x1_5": 3_503_624, "shufflenet_v2_x2_0": 7_393_996,
    "fcn_resnet50": 35_322_218,
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_parameter_counts_match_torchvision(name):
    assert params(name) == TORCHVISION_PARAMS[name]


def test_googlenet_counts_with_and_without_aux_heads():
    assert params("googlenet", aux_logits=False) == 6_624_904
    assert params("googlenet", aux_logits=True) == 13_004_888


def test_paper_counts():
    assert params("resnet50_v1") == params("resnet50")  # the stride moves, weights do not
    assert 55_000 < params("lenet5") < 65_000  # "about 60k"
    assert round(params("mobilenet_v1") / 1e6, 1) == 4.2
    assert round(params("se_resnet50") / 1e6, 2) == 28.09  # SENet paper, Table 2
    assert params("xception") == 22_855_952  # Keras' trainable parameters
    assert params("unet") == 31_030_658  # 2 classes, unpadded, no BN


def test_shortcut_options_change_only_the_shortcut_parameters():
    a, b, c = (params("resnet34", shortcut=s) for s in "ABC")
    plain = params("resnet34_plain")
    assert a == plain < b < c  # option A adds no parameters to the plain net


def test_googlenet_aux_heads_run_only_in_training():
    model = zoo.build("googlenet").train()
    out = model(torch.randn(2, 3, 224, 224))
    assert isinstance(out, tuple) and len(out) == 3
    assert all(o.shape == (2, 1000) for o in out)
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


@pytest.mark.slow
def test_unet_paper_sizes():
    with torch.no_grad():
        y = zoo.build("unet")(torch.randn(1, 1, 572, 572))
    assert y.shape == (1, 2, 388, 388)


def test_unknown_model_name_lists_what_is_allowed():
    with pytest.raises(zoo.ZooError, match=r"unknown model 'resnet35'.*resnet34.*Known models"):
        zoo.build("resnet35")


def test_unknown_option_lists_the_options():
    with pytest.raises(zoo.ZooError, match=r"unknown option 'widht'.*shortcut.*stride_on"):
        zoo.build("resnet18", widht=2)


def test_out_of_range_values_name_the_allowed_range():
    with pytest.raises(zoo.ZooError, match=r"compression=2.0 is out of range.*\[0.1, 1.0\]"):
        zoo.build("densenet121", compression=2.0)
    with pytest.raises(zoo.ZooError, match=r"shortcut='D' is not allowed.*'A', 'B', 'C'"):
        zoo.build("resnet18", shortcut="D")
    with pytest.raises(zoo.ZooError, match=r"groups=5 is not allowed.*1, 2, 3, 4, 8"):
        zoo.build("shufflenet_v1_g3", groups=5)
    with pytest.raises(zoo.ZooError, match=r"depth='deep' is not one of 11, 13, 16, 19"):
        zoo.build("vgg16", depth="deep")


def test_text_option_values_are_coerced():
    info = zoo.get_info("resnet18")
    assert info.resolve({"plain": "true", "se_reduction": "8"}) == {
        **info.defaults(), "plain": True, "se_reduction": 8}


def test_duplicate_registration_is_refused():
    info = zoo.get_info("alexnet")
    with pytest.raises(zoo.ZooError, match="already registered"):
        zoo.registry.register_model("alexnet", info.builder, family="x", task="classification",
                                    paper="x", year=2000, input_shape=(3, 8, 8))


def test_residual_branches_start_at_zero_so_deep_networks_stay_bounded():
    from explorer.zoo.resnet import ResNet

    x = torch.randn(1, 3, 64, 64)
    tamed, wild = ResNet(152, se=True).eval(), ResNet(152, se=True, zero_init_last=False).eval()
    with torch.no_grad():
        y, y_wild = tamed(x), wild(x)
        y64 = tamed.double()(x.double())
    assert float(y_wild.abs().max()) > 100 * RANDOM_LOGITS  # what the bound catches
    assert float(y.abs().max()) <= RANDOM_LOGITS
    assert float((y.double() - y64).norm() / y64.norm()) < 1e-5  # float32 means something
    assert not tamed.layer4[2].bn3.weight.any() and tamed.layer4[2].bn2.weight.all()
    plain = zoo.build("resnet18_plain")
    assert plain.layer1[0].bn2.weight.all()  # no shortcut: nothing to start from
    assert "zero_init_last" in zoo.get_info("se_resnet152").initialisation
    assert zoo.get_info("vgg16").initialisation.startswith("PyTorch's layer defaults")
