"""Per-layer tables: exact counts against the references people trust."""

from __future__ import annotations

import json

import pytest
import torch
from childproc import peak_growth
from torch import nn

from explorer.analysis import compare, summarize
from explorer.analysis.lessons import evaluate, load_lessons
from explorer.cli import main
from explorer.graph import FoldSpec

# torchvision's weights metadata: (num_params, GMACs as published, 3 decimals)
REFERENCE = {
    "alexnet": (61_100_840, 0.714),
    "vgg11": (132_863_336, 7.609), "vgg11_bn": (132_868_840, 7.609),
    "vgg13": (133_047_848, 11.308), "vgg13_bn": (133_053_736, 11.308),
    "vgg16": (138_357_544, 15.470), "vgg16_bn": (138_365_992, 15.470),
    "vgg19": (143_667_240, 19.632), "vgg19_bn": (143_678_248, 19.632),
    "inception_v3": (27_161_264, 5.713),
    "resnet18": (11_689_512, 1.814), "resnet34": (21_797_672, 3.664),
    "resnet50": (25_557_032, 4.089), "resnet101": (44_549_160, 7.801),
    "resnet152": (60_192_808, 11.514),
    "densenet121": (7_978_856, 2.834), "densenet161": (28_681_000, 7.728),
    "densenet169": (14_149_480, 3.360), "densenet201": (20_013_928, 4.291),
    "mobilenet_v2": (3_504_872, 0.301),
    "shufflenet_v2_x0_5": (1_366_792, 0.040), "shufflenet_v2_x1_0": (2_278_604, 0.145),
    "shufflenet_v2_x1_5": (3_503_624, 0.296), "shufflenet_v2_x2_0": (7_393_996, 0.583),
    "fcn_resnet50": (35_322_218, 152.717),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_totals_match_torchvision(name):
    params, gmacs = REFERENCE[name]
    table = summarize(name)
    assert table.total["params"] == params
    assert round(table.total["macs"] / 1e9, 3) == gmacs
    assert table.total["flops"] == 2 * table.total["macs"]


def test_googlenet_with_and_without_aux_heads():
    without = summarize("googlenet", aux_logits=False)
    assert without.total["params"] == 6_624_904
    assert round(without.total["macs"] / 1e9, 3) == 1.498
    with_aux = summarize("googlenet")  # the heads exist but do not run in eval mode
    assert with_aux.total["params"] == 13_004_888
    assert with_aux.total["macs"] == without.total["macs"]
    assert with_aux.rows[-1].name == "(not run in this pass)"


def test_paper_figures():
    assert round(summarize("resnet50_v1").total["macs"] / 1e9, 1) == 3.9  # paper: 3.8
    assert round(summarize("resnet34_plain").total["macs"] / 1e9, 1) == 3.6
    m = summarize("mobilenet_v1").total
    assert round(m["params"] / 1e6, 1) == 4.2 and round(m["macs"] / 1e6) == 569


@pytest.mark.parametrize("name,spec", [("resnet50", None), ("googlenet", FoldSpec(depth=1)),
                                       ("densenet121", FoldSpec(depth=2)), ("unet", None)])
def test_rows_sum_to_totals(name, spec):
    table = summarize(name, spec=spec)
    for key in ("params", "trainable_params", "macs", "flops", "activation_bytes"):
        assert sum(getattr(r, key) for r in table.rows) == table.total[key]
    assert abs(sum(r.share for r in table.rows) - 1.0) < 1e-9


def test_conv_and_transposed_conv_macs():
    conv = summarize(nn.Conv2d(8, 16, 3, padding=1, bias=False), (1, 8, 16, 16))
    assert conv.total["macs"] == 294_912
    up = summarize(nn.ConvTranspose2d(8, 16, 2, stride=2), (1, 8, 8, 8))
    assert up.total["macs"] == 32_768  # not 131,072, the x stride² some tools report
    assert up.rows[0].out_shape == (1, 16, 16, 16)


def test_norm_activation_and_pool_rows_are_zero():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.AdaptiveAvgPool2d(1))
    table = summarize(model, (1, 3, 16, 16))
    assert [r.macs for r in table.rows] == [3 * 8 * 9 * 14 * 14, 0, 0, 0, 0]
    assert [r.family for r in table.rows][:2] == ["conv", "norm"]
    assert table.rows[1].params == 16


def test_trainable_and_frozen_parameters():
    table = summarize("fcn8s")  # the bilinear upsampling kernels are frozen, as in the paper
    frozen = table.total["params"] - table.total["trainable_params"]
    assert frozen == 21 * 21 * (4 * 4 + 4 * 4 + 16 * 16)


def test_vgg16_receptive_fields():
    table = summarize("vgg16")
    conv5_3, pool5 = table.row("features.28"), table.row("features.30")
    assert (conv5_3.receptive_field, conv5_3.stride) == (196, 16)
    assert (pool5.receptive_field, pool5.stride) == (212, 32)


class TwoBranches(nn.Module):
    def __init__(self):
        super().__init__()
        self.small = nn.Conv2d(3, 4, 3, padding=1)
        self.large = nn.Sequential(nn.Conv2d(3, 4, 5, padding=2), nn.Conv2d(4, 4, 3, padding=1))

    def forward(self, x):
        return torch.cat([self.small(x), self.large(x)], 1)


def test_receptive_field_takes_the_largest_path():
    table = summarize(TwoBranches(), (1, 3, 32, 32))
    assert table.row("small").receptive_field == 3
    assert table.row("large.1").receptive_field == 7
    assert table.row("cat").receptive_field == 7
    inception = summarize("googlenet", spec=FoldSpec(depth=1))
    assert inception.row("inception3a").receptive_field > inception.row("maxpool2").receptive_field


def test_large_inputs_run_on_meta_without_allocating():
    grown_mb, result = peak_growth(
        setup="""
            from explorer.analysis import summarize
            summarize("resnet18")  # imports and first-trace caches are not what we measure
        """,
        measured="""
            unet = summarize("unet")  # real activations at 572x572 would be over 1 GB
            fcn = summarize("fcn_resnet50")
            result = [list(unet.rows[-1].out_shape), unet.total["activation_bytes"],
                      fcn.total["activation_bytes"]]
        """)
    out_shape, unet_bytes, fcn_bytes = result
    assert out_shape == [1, 2, 388, 388]
    assert unet_bytes > 1e9 and fcn_bytes > 1e9
    assert grown_mb < 300, f"the child's peak rose {grown_mb:.0f} MB"


def test_compare_plain_and_residual():
    c = compare(summarize("resnet34_plain"), summarize("resnet34"))
    params, macs = c.totals["params"], c.totals["macs"]
    assert params[1] - params[0] == 173_824
    assert 1.0 < macs[2] < 1.01
    strides = [s for s, _, _ in c.stages]
    assert "stride 4" in strides and "stride 32" in strides
    total_b = sum(fb["macs"] for _, _, fb in c.stages)
    assert total_b == c.b.total["macs"]


@pytest.mark.parametrize("lesson", load_lessons(), ids=lambda lesson: lesson.id)
def test_every_lesson_holds(lesson):
    result = evaluate(lesson)
    assert result.checks
    assert result.holds, [text for _, ok, text in result.checks if not ok]


def test_cli_summary_json_interface(capsys):
    assert main(["summary", "resnet18", "--format", "json", "--input", "1,3,64,64",
                 "--option", "num_classes=10"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "resnet18" and data["input_shape"] == [1, 3, 64, 64]
    assert set(data["total"]) >= {"params", "trainable_params", "macs", "flops",
                                  "activation_bytes"}
    layer = data["layers"][0]
    assert set(layer) >= {"name", "type", "in_shape", "out_shape", "params", "macs", "flops",
                          "activation_bytes", "receptive_field", "stride"}
    assert data["layers"][-1]["out_shape"] == [1, 10]


def test_cli_summary_formats_and_compare(capsys, tmp_path):
    assert main(["summary", "lenet5", "--format", "csv"]) == 0
    csv_text = capsys.readouterr().out
    assert csv_text.splitlines()[0].startswith("name,type,in_shape")
    assert csv_text.splitlines()[-1].startswith("total,")
    assert main(["summary", "lenet5", "-o", str(tmp_path / "t.md")]) == 0
    assert "| **total** |" in (tmp_path / "t.md").read_text()
    assert main(["compare", "vgg16", "resnet152", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["macs"]["a"] == 15_470_264_320
    assert main(["lessons"]) == 0
    assert "stacked-3x3" in capsys.readouterr().out
    assert main(["lessons", "bottleneck"]) == 0
    assert "holds" in capsys.readouterr().out


def test_cli_summary_bad_input(capsys):
    assert main(["summary", "resnet18", "--input", "1,3,a,b"]) == 2
    assert "--input takes numbers" in capsys.readouterr().err
    assert main(["summary", "resnet18", "--option", "shortcut=Z"]) == 2
    assert "one of 'A', 'B', 'C'" in capsys.readouterr().err
    assert main(["lessons", "nope"]) == 2
    assert "no lesson 'nope'" in capsys.readouterr().err


def test_the_compare_head_row_is_called_the_head():
    """Was: "stride 224" for the layers after the global pool."""
    from explorer.analysis import compare, summarize

    stages = [s for s, _, _ in compare(summarize("resnet18"), summarize("resnet34")).stages]
    assert stages[-1] == "head (after global pooling)" and "stride 224" not in stages
    assert stages[:2] == ["stride 2", "stride 4"]
