"""The zoo against the papers and the authors' code, in every option; counts per image."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from explorer import zoo
from explorer.analysis import summarize
from explorer.cli import main
from explorer.zoo.shufflenet import V1_SCALES, V1_WIDTHS, v1_channels

zoo.load_families()  # the sweep groups models by their builder


def macs(name: str, **options) -> float:
    return summarize(name, **options).total["macs"] / 1e6


# ---------------------------------------------------------------- ShuffleNet v1
# The authors' code (megvii-model/ShuffleNet-Series, ShuffleNetV1/network.py):
# stage_out_channels[1:] (stem, stage 2, 3, 4) for g = 3 and g = 8.
AUTHORS_CHANNELS = {
    (3, 0.5): (12, 120, 240, 480), (3, 1.0): (24, 240, 480, 960),
    (3, 1.5): (24, 360, 720, 1440), (3, 2.0): (48, 480, 960, 1920),
    (8, 0.5): (16, 192, 384, 768), (8, 1.0): (24, 384, 768, 1536),
    (8, 1.5): (24, 576, 1152, 2304), (8, 2.0): (48, 768, 1536, 3072),
}
# MFLOPs (multiply-adds) and parameters in millions from the authors' README there.
AUTHORS_FIGURES = {
    (3, 0.5): (38, 0.7), (3, 1.0): (138, 1.9), (3, 1.5): (292, 3.4), (3, 2.0): (524, 5.4),
    (8, 0.5): (40, 1.0), (8, 1.0): (138, 2.4), (8, 1.5): (290, 4.3), (8, 2.0): (522, 6.5),
}
# The paper: Table 1 (1x, per g) and Table 2 (one complexity per scale, every g).
PAPER_MFLOPS = {
    **{(g, 1.0): m for g, m in {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}.items()},
    **{(g, 0.5): 38 for g in (1, 2, 4)},
    **{(g, 0.25): 13 for g in (1, 2, 3, 4, 8)},
}


@pytest.mark.parametrize(("groups", "scale"), sorted(AUTHORS_CHANNELS))
def test_shufflenet_v1_widths_are_the_authors(groups, scale):
    assert v1_channels(groups, scale) == AUTHORS_CHANNELS[groups, scale]


@pytest.mark.parametrize(("groups", "scale"), sorted(AUTHORS_FIGURES))
def test_shufflenet_v1_matches_the_authors_figures(groups, scale):
    mflops, mparams = AUTHORS_FIGURES[groups, scale]
    assert macs("shufflenet_v1_g1", groups=groups, scale=scale) == pytest.approx(mflops, rel=0.02)
    # The README rounds to 0.1 M; our classifier adds a 1,000-entry bias.
    params = zoo.parameter_count("shufflenet_v1_g1", groups=groups, scale=scale) / 1e6
    assert params == pytest.approx(mparams, abs=0.06)


@pytest.mark.parametrize(("groups", "scale"), sorted(PAPER_MFLOPS))
def test_shufflenet_v1_matches_the_paper_tables(groups, scale):
    # Table 2 gives one figure per scale for every g; the authors' own models sit
    # within 5 % of it (g=8 at 0.5x: 40 for 38).
    tolerance = 0.02 if scale == 1.0 else 0.05
    got = macs("shufflenet_v1_g1", groups=groups, scale=scale)
    assert got == pytest.approx(PAPER_MFLOPS[groups, scale], rel=tolerance)


@pytest.mark.parametrize("groups", sorted(V1_WIDTHS))
def test_shufflenet_v1_every_scale_builds_runs_and_grows(groups):
    figures = []
    for scale in V1_SCALES:
        model = zoo.build("shufflenet_v1_g1", groups=groups, scale=scale, num_classes=10)
        with torch.no_grad():
            assert model(torch.randn(1, 3, 64, 64)).shape == (1, 10)
        figures.append(macs("shufflenet_v1_g1", groups=groups, scale=scale))
    # complexity roughly s^2 times 1x's (the paper): never shrinking with the scale
    assert figures == sorted(figures)
    assert figures[-1] / figures[2] == pytest.approx(4, rel=0.1)


# ---------------------------------------------------------------- SegNet
def convs(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in model.named_modules()
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]


def test_segnet_has_the_papers_26_convolutions_the_last_the_classifier():
    with torch.device("meta"):
        model = zoo.build("segnet", num_classes=11)
    layers = convs(model)
    assert len(layers) == 26
    assert sum(n.startswith("enc") for n, _ in layers) == 13
    name, last = layers[-1]
    assert name == "classifier" and (last.in_channels, last.out_channels) == (64, 11)
    # the decoder's first stage keeps one conv-BN-ReLU (conv1_2_D), then the classifier
    assert [type(m).__name__ for m in model.dec1.conv] == ["Conv2d", "BatchNorm2d", "ReLU"]


def test_segnet_parameters_are_the_authors_camvid_model():
    # The authors' segnet_inference.prototxt for CamVid's 11 classes, counted by hand:
    # 13 encoder and 12 decoder conv-BN layers (weight, bias, BN scale and shift) and the
    # 3x3 classifier: 117.8 MB of float32, the paper's 117 MB model size.
    assert zoo.parameter_count("segnet", num_classes=11) == 29_449_355
    with torch.device("meta"):
        model = zoo.build("segnet")
    encoder = sum(m.weight.numel() + m.bias.numel() for n, m in convs(model)
                  if n.startswith("enc"))
    assert encoder == 14_714_688  # VGG-16's 13 convolutions, the paper's "14.7M"


def test_deconvnet_keeps_two_deconvolutions_in_its_last_stage():
    with torch.device("meta"):
        model = zoo.build("deconvnet")
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in model.dec1.modules()) == 2
    assert len(convs(model)) == 13 + 2 + 1 + 13 + 1  # conv, fc6-7, deconv-fc6, deconvs, score


# ---------------------------------------------------------------- every option value
def option_values(option: zoo.Option) -> tuple:
    if option.choices is not None:
        return option.choices
    if option.type is bool:
        return (False, True)
    return tuple(v for v in (option.min, option.default, option.max) if v is not None)


def _variants() -> dict[str, list[dict]]:
    """Each model's option values one at a time, skipping a build another name (a preset of
    the same builder) already covers."""
    seen: set = set()
    by_model: dict[str, list[dict]] = {}
    for name in zoo.list_models():
        info = zoo.get_info(name)
        for option in info.options:
            for value in option_values(option):
                key = (info.builder, tuple(sorted(info.resolve({option.name: value}).items())))
                if key not in seen:
                    seen.add(key)
                    by_model.setdefault(name, []).append({option.name: value})
    return by_model


VARIANTS = _variants()


def test_the_sweep_covers_every_model():
    assert set(VARIANTS) <= set(zoo.list_models())
    builders = {zoo.get_info(n).builder for n in zoo.list_models()}
    assert {zoo.get_info(n).builder for n in VARIANTS} == builders


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_listed_option_value_builds_or_raises_a_zoo_error(name):
    for options in VARIANTS[name]:
        try:
            with torch.device("meta"):
                model = zoo.build(name, **options)
        except zoo.ZooError:
            continue
        assert isinstance(model, nn.Module) and not model.training, options


# ---------------------------------------------------------------- counts per image
def test_json_gives_batch_totals_and_per_image_counts(capsys):
    assert main(["summary", "resnet18", "--input", "2,3,224,224", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["batch"] == 2
    assert data["per_image"]["macs"] == 1_814_073_344  # torchvision's 1.81 GFLOPS
    assert data["per_image"]["flops"] == 2 * 1_814_073_344
    assert data["total"]["macs"] == 2 * data["per_image"]["macs"]
    assert data["total"]["activation_bytes"] == 2 * data["per_image"]["activation_bytes"]


def test_tables_say_what_they_count(capsys):
    assert main(["summary", "resnet18", "--input", "2,3,224,224", "--depth", "1"]) == 0
    md = capsys.readouterr().out
    assert md.splitlines()[0].endswith("MACs and activations for the batch of 2")
    assert "| **per image** | | | 11,689,512 | 1,814,073,344 |" in md
    assert "per image MACs 1.814G" in md and "for the batch of 2 MACs 3.628G" in md
    assert main(["summary", "resnet18", "--format", "csv", "--input", "2,3,224,224"]) == 0
    last = capsys.readouterr().out.splitlines()[-1].split(",")
    assert last[0] == "per image (batch of 2)" and last[6] == "1814073344"
    assert main(["summary", "resnet18"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("for one image")
