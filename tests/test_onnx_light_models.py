"""The onnx wheel's light model zoo (Caffe2 exports at opset 9, weights from constant
generators, each with the output onnx's runner computed): every file opens, draws,
counts the weights it defines and reproduces that output; the motifs a person knows
these networks by are found in the diagram."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from explorer import zoo
from explorer.graph.trace import trace_zoo
from explorer.session import prepare

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
FAST = ["inception_v1", "inception_v2", "resnet50", "shufflenet", "squeezenet", "densenet121"]
LARGE = ["bvlc_alexnet", "zfnet512", "vgg19"]  # 61M to 144M weights each
WEIGHTED = {"Conv": (1, 2), "Gemm": (1, 2), "BatchNormalization": (1, 2), "Mul": (0, 1),
            "Add": (0, 1), "PRelu": (1,), "MatMul": (1,)}


def light(name: str) -> str:
    return str(LIGHT / f"light_{name}.onnx")


def dummy_input(model: onnx.ModelProto) -> np.ndarray:
    """onnx's runner: generate_dummy_data(..., seed=0, random=False) of the one input."""
    from onnx.backend.test.runner import Runner

    inits = {t.name for t in model.graph.initializer}
    (value,) = [v for v in model.graph.input if v.name not in inits]
    return Runner.generate_dummy_data(value, seed=0, random=False)


def defined_weights(model: onnx.ModelProto) -> int:
    """Elements of the weights the file defines, counted from the file alone: inputs of
    weighted ops that do not depend on the image (batch-norm statistics are buffers)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in [*inferred.graph.value_info, *inferred.graph.input]}
    shapes.update({t.name: list(t.dims) for t in model.graph.initializer})
    inits = {t.name for t in model.graph.initializer}
    dependent = {v.name for v in model.graph.input if v.name not in inits}
    total = 0
    for node in model.graph.node:
        for i in WEIGHTED.get(node.op_type, ()):
            if i < len(node.input) and node.input[i] and node.input[i] not in dependent:
                size = math.prod(shapes[node.input[i]])
                total += size if size > 1 else 0
        if any(n in dependent for n in node.input):
            dependent.update(node.output)
    return total


def check(name: str) -> None:
    path = light(name)
    model = onnx.load(path)
    prepared = prepare(path)
    assert prepared.layout.boxes and prepared.layout.edges, "drawn"
    built = zoo.build(path)
    assert sum(p.numel() for p in built.parameters()) == defined_weights(model)
    assert prepared.table.total["params"] == defined_weights(model)
    x = dummy_input(model)
    with torch.inference_mode():
        y = built(torch.from_numpy(x)).numpy()
    expected = numpy_helper.to_array(onnx.load_tensor(str(LIGHT / f"light_{name}_output_0.pb")))
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", FAST)
def test_light_model_opens_draws_counts_and_matches_its_output(name):
    check(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", LARGE)
def test_large_light_model_opens_draws_counts_and_matches_its_output(name):
    check(name)


def _joins(graph, op: str, kind: str) -> int:
    return sum(1 for n in graph.nodes(op) if any(
        graph.nx.edges[u, n]["kind"] == kind for u in graph.nx.predecessors(n)))


def test_resnet50_shows_its_16_residual_joins():
    graph = trace_zoo(light("resnet50"))
    assert _joins(graph, "add", "residual") == 16
    assert graph.edge_counts()["residual"] == 16
    assert graph.node("add")["file_node"].op_type == "Sum"  # the file's node, for the dock


def test_densenet121_concatenates_once_per_dense_layer():
    graph = trace_zoo(light("densenet121"))
    assert _joins(graph, "cat", "concat") == 6 + 12 + 24 + 16


def test_googlenet_shows_9_inception_modules_as_branches():
    graph = trace_zoo(light("inception_v1"))
    assert _joins(graph, "cat", "branch") == 9


def test_nameless_caffe2_nodes_are_named_from_their_weights():
    graph = trace_zoo(light("densenet121"))
    assert "conv2_1.x1.bn" in graph.modules and graph.modules["conv2_1.x1"] == "Block"
    assert "conv2_1.x1.bn_mul" in graph.modules  # Caffe2's batch norm split into Mul, Add
    names = trace_zoo(light("resnet50")).nodes("Conv2d")
    assert "res2_0_branch2a" in names and "res5_2_branch2c" in names


def test_shufflenet_channel_shuffles_are_recognised():
    graph = trace_zoo(light("shufflenet"))
    assert len(graph.nodes("channel_shuffle")) == 16


def test_description_names_file_opset_and_producer():
    info = zoo.get_info(light("resnet50"))
    assert info.input_shape == (3, 224, 224) and info.task == "classification"
    assert zoo.get_info(light("densenet121")).task == "classification"  # 1000×1×1 out
    assert "light_resnet50.onnx" in info.description and "opset 9" in info.description
    assert "onnx-caffe2" in info.description
