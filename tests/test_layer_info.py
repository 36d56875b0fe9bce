"""Layer inspection without Qt: attributes, weight statistics, descriptions, the query
language, the model overview and ``explorer info --layer``."""

from __future__ import annotations

import json

import pytest
import torch

from explorer import zoo
from explorer.analysis.filter_grid import filter_grid
from explorer.analysis.layer_info import inspect_layer, layer_info
from explorer.analysis.lessons import load_lessons
from explorer.analysis.model_overview import overview
from explorer.analysis.operators import operators
from explorer.analysis.query import QueryError, find
from explorer.analysis.summary import summarize
from explorer.analysis.tensor_stats import tensor_stats
from explorer.cli import main
from explorer.graph.trace import trace, trace_zoo


@pytest.fixture(scope="module")
def resnet18():
    torch.manual_seed(0)
    model = zoo.build("resnet18")
    graph = trace(model, (1, 3, 224, 224), name="resnet18")
    return model, graph, summarize(graph)


def test_conv1_of_resnet18_attributes_and_weight_statistics(resnet18):
    model, graph, table = resnet18
    info = layer_info(graph, "conv1", model, row=table.row("conv1"))
    a = info.attributes
    assert (a["kernel_size"], a["stride"], a["padding"], a["groups"], a["bias"]) == (
        (7, 7), (2, 2), (3, 3), 1, False)
    assert info.in_shapes == [(1, 3, 224, 224)] and info.out_shape == (1, 64, 112, 112)
    assert (info.receptive_field, info.stride) == (7, 2.0)
    assert info.macs == 118_013_952 and 0 < info.share < 1
    (weight,) = info.tensors
    w = model.conv1.weight.detach().double()
    assert weight.shape == (64, 3, 7, 7) and weight.count == 9408 and weight.dtype == "float32"
    s = weight.stats
    assert s.min == pytest.approx(float(w.min())) and s.max == pytest.approx(float(w.max()))
    assert s.mean == pytest.approx(float(w.mean()), abs=1e-12)
    assert s.std == pytest.approx(float(w.std(correction=0)))
    assert sum(s.histogram.counts) == 9408 and len(s.histogram.edges) == 65
    assert info.operator.key == "conv" and info.operator.lesson == "stacked-3x3"
    assert info.source.file.endswith("conv.py") and not info.source.user


def test_batch_norm_buffers_and_a_meta_model_without_values(resnet18):
    model, graph, _ = resnet18
    info = layer_info(graph, "bn1", model)
    names = {t.name: t for t in info.tensors}
    assert {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"} == set(names)
    assert names["running_var"].kind == "buffer" and names["running_var"].stats.mean == 1.0
    assert info.attributes["eps"] == 1e-5 and "bias" not in info.attributes
    with torch.device("meta"):
        meta = zoo.build("resnet18")
    assert all(t.stats is None for t in layer_info(graph, "conv1", meta).tensors)


def test_depthwise_and_pointwise_convs_of_mobilenet_v2():
    graph = trace_zoo("mobilenet_v2")
    with torch.device("meta"):
        model = zoo.build("mobilenet_v2")
    depthwise = [n for n in graph.nodes("Conv2d") if graph.node(n)["attrs"]["groups"] > 1]
    assert depthwise
    for n in depthwise:
        info = layer_info(graph, n, model)
        assert info.attributes["groups"] == info.attributes["in_channels"] \
            == info.attributes["out_channels"]
        assert "depthwise" in info.operator.title.lower()
        assert info.operator.lesson == "depthwise-separable"
    pointwise = layer_info(graph, "features.1.conv.1", model)
    assert pointwise.operator.key == "pointwise_conv"


def test_a_folded_block_counts_its_members(resnet18):
    from explorer.graph import FoldSpec, fold

    model, graph, _ = resnet18
    view = fold(graph, FoldSpec(collapse=frozenset({"layer1.0"})))
    info = layer_info(graph, "layer1.0", model, view.nx.nodes["layer1.0"])
    assert info.folded and info.members == {"Conv2d": 2, "BatchNorm2d": 2, "ReLU": 2, "add": 1}
    assert info.params == 73_984 and info.source.file.endswith("resnet.py")


def test_activation_statistics_and_sparsity():
    x = torch.tensor([[-1.0, 0.0, 2.0, 0.0]]).relu()
    stats = tensor_stats(x)
    assert stats.zeros == 0.75 and stats.max == 2.0 and stats.min == 0.0
    assert tensor_stats(torch.empty(3, device="meta")) is None


def test_user_model_source_is_the_persons_file(tmp_path):
    from explorer.usermodel import load_user_model

    path = tmp_path / "mine.py"
    path.write_text("import torch.nn as nn\n\n\nclass Mine(nn.Module):\n"
                    "    def __init__(self):\n        super().__init__()\n"
                    "        self.conv = nn.Conv2d(3, 4, 5, groups=1)\n"
                    "        self.width = 4\n\n"
                    "    def forward(self, x):\n        return self.conv(x)\n")
    model = load_user_model(f"{path}:Mine")
    graph = trace(model, (1, 3, 16, 16))
    root = layer_info(graph, "conv", model)
    assert root.attributes["kernel_size"] == (5, 5)
    from explorer.analysis.layer_info import module_attributes
    from explorer.analysis.layer_source import source_of

    assert module_attributes(model) == {"width": 4}  # a plain value it keeps
    assert source_of(model).user and source_of(model).line == 4
    assert source_of(model).file == str(path.resolve())


def test_filter_grid_tiles_rgb_first_layer_filters(resnet18):
    grid = filter_grid(resnet18[0].conv1.weight)
    assert grid.rgb and grid.shown == 64 and grid.image.shape == (63, 63, 3)
    assert grid.image.min() >= 0 and grid.image.max() <= 1
    grey = filter_grid(resnet18[0].layer1[0].conv1.weight)
    assert not grey.rgb and grey.image.ndim == 2


def test_every_operator_links_an_existing_lesson_and_the_zoo_ops_are_described():
    lessons = {item.id for item in load_lessons()}
    keys = [op.key for op in operators()]
    assert len(keys) == len(set(keys))
    assert {op.lesson for op in operators()} - {None} <= lessons
    from explorer.analysis.operators import operator_for

    for op in ("Conv2d", "BatchNorm2d", "ReLU", "ReLU6", "MaxPool2d", "AvgPool2d",
               "AdaptiveAvgPool2d", "MaxUnpool2d", "ConvTranspose2d", "Upsample", "cat", "add",
               "channel_shuffle", "SqueezeExcitation", "Dropout", "Linear", "flatten",
               "Softmax"):
        assert operator_for(op, {}) is not None, op
    assert operator_for("ConvTranspose2d", {"groups": 1}).key == "transposed_conv"


def test_query_language_over_names_types_and_attributes():
    mobilenet = trace_zoo("mobilenet_v2").nx
    grouped = find(mobilenet, "groups>1")
    assert len(grouped) == 17 and all(mobilenet.nodes[n]["op"] == "Conv2d" for n in grouped)
    resnet = trace_zoo("resnet18").nx
    assert find(resnet, "kernel=7") == ["conv1"]
    assert find(resnet, "type=Conv2d stride=2 kernel=1x1") == [
        "layer2.0.downsample.0", "layer3.0.downsample.0", "layer4.0.downsample.0"]
    assert find(resnet, "layer1.0 CONV") == ["layer1.0.conv1", "layer1.0.conv2"]
    assert find(resnet, "params>1000000") == find(resnet, "params>1e6") != []
    assert find(resnet, "bias=true") == ["fc"]
    with pytest.raises(QueryError, match="groups>"):
        find(resnet, "groups>")


def test_model_overview_of_resnet18(resnet18):
    _, graph, table = resnet18
    o = overview(graph, table, "random init")
    assert o.weight_depth == 18 and o.op_counts["Conv2d"] == 20 and o.op_counts["add"] == 8
    assert o.input_shapes == [(1, 3, 224, 224)] and o.output_shapes == [(1, 1000)]
    assert o.total["params"] == 11_689_512


def test_cli_info_layer_text_json_and_errors(capsys):
    assert main(["info", "resnet18", "--layer", "conv1"]) == 0
    out = capsys.readouterr().out
    assert "kernel_size     7×7" in out and "64×3×7×7" in out and "Convolution" in out
    assert main(["info", "resnet18", "--layer", "layer1.0.conv1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["attributes"]["kernel_size"] == [3, 3] and data["tensors"][0]["count"] == 36864
    assert main(["info", "resnet18", "--layer", "convv1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean conv1" in err
    assert inspect_layer("lenet5", "features").folded

