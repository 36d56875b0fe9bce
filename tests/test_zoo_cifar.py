"""The CIFAR-10 ResNets of He et al. 2015 (Section 4.2) and 2016 against the papers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from explorer import zoo
from explorer.graph import default_spec, fold, trace_zoo
from explorer.graph.style import node_label
from explorer.inference.predictions import load_labels

# Parameters in millions as the papers print them (2015: Table 6; 2016: Table 3 and 4).
PUBLISHED = {"resnet20_cifar": 0.27, "resnet32_cifar": 0.46, "resnet44_cifar": 0.66,
             "resnet56_cifar": 0.85, "resnet110_cifar": 1.7, "resnet1202_cifar": 19.4,
             "preact_resnet110_cifar": 1.7, "preact_resnet164_cifar": 1.7}


def params(name: str, weights_only: bool = False) -> int:
    with torch.device("meta"):
        model = zoo.build(name)
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))] \
        if weights_only else [model]
    return sum(p.numel() for m in layers for p in m.parameters())


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_counts_match_the_papers(name):
    digits = 2 if PUBLISHED[name] < 1 else 1
    assert round(params(name) / 1e6, digits) == PUBLISHED[name]


def test_preact_1001_is_the_papers_10_2m_in_its_convolutions_and_classifier():
    # 10.2M counts the convolution and classifier weights; BN's 0.15M scales and shifts
    # bring the total to 10.33M.
    assert round(params("preact_resnet1001_cifar", weights_only=True) / 1e6, 1) == 10.2
    assert round(params("preact_resnet1001_cifar") / 1e6, 2) == 10.33


@pytest.mark.parametrize("depth", [20, 32, 44, 56, 110])
def test_plain_networks_have_the_same_layers_and_parameters(depth):
    assert params(f"resnet{depth}_cifar_plain") == params(f"resnet{depth}_cifar")
    with torch.device("meta"):
        plain = zoo.build(f"resnet{depth}_cifar_plain")
    convs = [m for m in plain.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) + 1 == depth  # 6n + 1 convolutions and the classifier


def test_metadata_input_labels_and_normalisation():
    info = zoo.get_info("resnet56_cifar")
    assert info.input_shape == (3, 32, 32) and info.labels == "cifar10"
    assert info.mean == pytest.approx((0.4914, 0.4822, 0.4465))
    assert info.std == pytest.approx((0.2470, 0.2435, 0.2616))
    assert load_labels("cifar10", 10)[:3] == ("airplane", "automobile", "bird")
    assert set(zoo.list_models("*cifar*")) >= {
        "resnet20_cifar", "resnet1202_cifar", "resnet110_cifar_plain",
        "preact_resnet110_cifar", "preact_resnet164_cifar", "preact_resnet1001_cifar"}


def test_stable_names_and_shapes_a_training_loop_can_rely_on():
    torch.manual_seed(0)
    model = zoo.build("resnet20_cifar")
    names = {n for n, _ in model.named_children()}
    assert {"conv1", "bn1", "layer1", "layer2", "layer3", "avgpool", "fc"} <= names
    assert [len(getattr(model, f"layer{i}")) for i in (1, 2, 3)] == [3, 3, 3]
    assert model.layer3[0].conv1.stride == (2, 2) and model.fc.out_features == 10
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    preact = zoo.build("preact_resnet164_cifar", num_classes=100)
    assert preact.layer1[0].conv3.out_channels == 64 and preact.fc.in_features == 256
    with torch.no_grad():
        assert preact(torch.randn(1, 3, 32, 32)).shape == (1, 100)


def test_a_depth_that_does_not_fit_the_block_is_a_zoo_error():
    with pytest.raises(zoo.ZooError, match=r"depth=1001 is not 6n \+ 2"):
        zoo.build("resnet20_cifar", depth=1001)
    with pytest.raises(zoo.ZooError, match=r"depth=1202 is not 9n \+ 2"):
        zoo.build("preact_resnet164_cifar", depth=1202)


def captions(name: str) -> list[str]:
    graph = trace_zoo(name)
    view = fold(graph, default_spec(graph))
    order = sorted(view.nx, key=lambda n: view.node(n)["order"])
    return [node_label(n, view.node(n))[0] for n in order]


def test_diagrams_repeat_blocks_with_the_first_one_open():
    shown = captions("resnet56_cifar")
    assert "add" in shown  # the first block, open with its shortcut
    assert {"residual 3×3-3×3, 16 ×8", "residual 3×3-3×3, 32, /2",
            "residual 3×3-3×3, 64 ×8"} <= set(shown)
    assert "3×3-3×3 conv, 32 ×8" in captions("resnet56_cifar_plain")


@pytest.mark.slow
def test_the_deepest_networks_read_as_three_stages_of_runs():
    # 200 blocks a stage are too many to draw one by one, few once the runs are compacted
    shown = captions("resnet1202_cifar")
    assert {"residual 3×3-3×3, 16 ×199", "residual 3×3-3×3, 32 ×199",
            "residual 3×3-3×3, 64 ×199"} <= set(shown)
    assert "bottleneck 1×1-3×3-1×1, 256 ×110" in captions("preact_resnet1001_cifar")
