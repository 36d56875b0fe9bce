"""Gradient and activation flow: one backward pass measured per layer (no Qt)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
import torch
from PIL import Image
from torch import nn

from explorer import zoo
from explorer.analysis.flow import FlowError, flow, flow_zoo, image_batch, random_batch
from explorer.cli import main
from explorer.export.flow_export import flow_csv, flow_json, flow_svg, write_flow
from explorer.graph import trace_zoo

SMALL = (4, 3, 32, 32)


@pytest.fixture(scope="module")
def pair():
    return [flow_zoo("resnet20_cifar", SMALL), flow_zoo("resnet20_cifar_plain", SMALL)]


def test_seeded_and_deterministic_on_the_cpu(pair):
    again = flow_zoo("resnet20_cifar", SMALL)
    assert again.as_dict() == pair[0].as_dict()
    other = flow_zoo("resnet20_cifar", SMALL, seed=1)
    assert other.layers[0].grad_rms != pair[0].layers[0].grad_rms


def test_weight_layers_in_depth_order_with_the_graphs_names(pair):
    residual, plain = pair
    weighted = residual.weight_layers
    assert [r.depth for r in weighted] == list(range(1, 21))
    assert weighted[0].name == "conv1" and weighted[-1].name == "fc"
    assert [r.name for r in residual.body_layers][-1] == "layer3.2.conv2"
    graph = trace_zoo("resnet20_cifar")
    assert {r.name for r in residual.layers if r.op != "flatten"} <= set(graph.nx)
    assert all(r.grad_rms > 0 and r.weight_rms > 0 and r.ratio == r.grad_rms / r.weight_rms
               for r in weighted)
    relu = residual.layer("layer1.0.relu:1")  # the block's second ReLU: after the add
    assert 0.3 < relu.zero_fraction < 0.7 and relu.act_mean > 0
    conv = residual.layer("layer1.0.conv1")
    assert conv.zero_fraction == 0 and conv.grad_rms is not None
    assert residual.layer("layer1.0.bn1").grad_rms is None  # BN's weight is a vector


def test_residual_blocks_report_branch_over_shortcut(pair):
    residual, plain = pair
    assert [b.name for b in residual.blocks] == [f"layer{s}.{i}" for s in (1, 2, 3)
                                                 for i in range(3)]
    first = residual.blocks[0]
    assert first.join == "layer1.0.add" and first.branch_rms == pytest.approx(1, abs=0.05)
    assert first.ratio == first.branch_rms / first.shortcut_rms
    assert plain.blocks == []


def test_the_model_is_left_as_it_was():
    torch.manual_seed(0)
    model = zoo.build("resnet20_cifar")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = torch.get_rng_state()
    result = flow(model, random_batch(SMALL), mode="train")
    assert not model.training and all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(state, torch.get_rng_state())
    assert result.mode == "train"


def test_eval_mode_and_top_labels_change_the_figures():
    train = flow_zoo("resnet20_cifar", SMALL)
    evaluated = flow_zoo("resnet20_cifar", SMALL, mode="eval")
    top = flow_zoo("resnet20_cifar", SMALL, labels="top")
    assert evaluated.mode == "eval" and evaluated.loss != train.loss
    assert top.labels == "top" and top.loss != train.loss
    with pytest.raises(FlowError, match="mode 'test'"):
        flow_zoo("resnet20_cifar", SMALL, mode="test")


def test_a_batch_from_one_image_its_mirror_and_crops():
    image = torch.arange(3 * 16 * 16, dtype=torch.float32).reshape(1, 3, 16, 16)
    batch = image_batch(image, 6, seed=3)
    assert batch.shape == (6, 3, 16, 16)
    assert torch.equal(batch[0], image[0]) and torch.equal(batch[1], image[0].flip(-1))
    assert torch.equal(batch, image_batch(image, 6, seed=3))
    assert not torch.equal(batch[2], batch[3])


def test_any_model_even_without_a_class_axis():
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 1))
    result = flow(model, torch.randn(3, 6), name="mlp")
    assert [r.name for r in result.weight_layers] == ["0", "2"]
    assert result.loss > 0 and result.blocks == []


def test_over_the_memory_budget_is_refused_before_anything_runs():
    with pytest.raises(FlowError, match=r"needs about .* GiB, over the .* budget; a batch of"):
        flow_zoo("resnet152", (64, 3, 224, 224))
    with pytest.raises(FlowError, match="over the 1.0 MiB budget"):
        flow(zoo.build("resnet20_cifar"), random_batch(SMALL), budget=1 << 20)


def test_json_has_the_documented_shape(pair):
    data = json.loads(flow_json(pair))
    assert [m["model"] for m in data["models"]] == ["resnet20_cifar", "resnet20_cifar_plain"]
    first = data["models"][0]
    assert first["mode"] == "train"
    keys = {"name", "depth", "grad_rms", "weight_rms", "act_mean", "act_std", "zero_fraction"}
    assert all(keys <= set(layer) for layer in first["layers"])
    depths = [layer["depth"] for layer in first["layers"]]
    assert depths == sorted(depths)
    assert first["layers"][0]["name"] == "conv1" and first["layers"][0]["grad_rms"] > 0


def test_csv_svg_and_png(pair, tmp_path):
    rows = list(csv.DictReader(io.StringIO(flow_csv(pair))))
    assert rows[0]["model"] == "resnet20_cifar" and rows[0]["name"] == "conv1"
    assert rows[1]["grad_rms"] == ""  # BN: no weight layer
    svg = ET.fromstring(flow_svg(pair))
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 2 and len(lines[0].get("points").split()) == 19  # the convolutions
    png = write_flow(pair, tmp_path / "flow.png")
    with Image.open(png) as image:
        assert image.size == (1520, 880)
    with pytest.raises(ValueError, match="use .json, .csv, .svg, .png"):
        write_flow(pair, tmp_path / "flow.txt")


def test_the_command_line(tmp_path, capsys):
    out = tmp_path / "flow.json"
    assert main(["flow", "resnet20_cifar", "resnet20_cifar_plain", "--batch", "2",
                 "--seed", "3", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert [m["input"] for m in data["models"]] == [[2, 3, 32, 32]] * 2
    assert "first/last conv gradient RMS" in capsys.readouterr().out
    assert main(["flow", "resnet20_cifar", "--input", "1,3,40,40", "--mode", "eval",
                 "-o", str(tmp_path / "f.svg")]) == 0
    assert main(["flow", "resnet20_cifar", "-o", str(tmp_path / "f.txt")]) == 2
    assert "use .json, .csv, .svg, .png" in capsys.readouterr().err
    assert main(["flow", "resnet152", "--batch", "64", "-o", str(tmp_path / "f.csv")]) == 2
    assert "a batch of" in capsys.readouterr().err
    assert not (tmp_path / "f.csv").exists()


def test_the_papers_init_unless_zero_init_last_is_asked_for():
    paper = flow_zoo("resnet20_cifar", SMALL)
    assert paper.body_layers[-1].grad_rms > 0
    zeroed = flow_zoo("resnet20_cifar", SMALL, zero_init_last=True)
    assert zeroed.layer("layer1.0.conv2").grad_rms == 0  # its branch ends in a BN at zero
    with pytest.raises(FlowError, match="layer3.2.conv2 has no gradient"):
        zeroed.first_over_last()


def test_an_overflowing_pass_is_one_clear_message():
    model = nn.Sequential(nn.Linear(4, 3))
    with torch.no_grad():
        model[0].weight.fill_(1e38)
    with pytest.raises(FlowError, match="the loss is nan in train mode.*overflowed"):
        flow(model, torch.full((2, 4), 1e38), name="huge")
