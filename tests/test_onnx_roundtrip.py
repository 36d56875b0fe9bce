"""Zoo models exported with ``torch.onnx.export`` (the TorchScript exporter: torch 2.13's
dynamo exporter needs onnxscript, which is not installed) come back as the same network:
the same parameters, the same output, the same structural edges in the diagram."""

from __future__ import annotations

import warnings

import pytest
import torch

from explorer import zoo
from explorer.graph import FoldSpec, fold
from explorer.graph.trace import trace, trace_zoo

STRUCTURE = ("residual", "branch", "concat", "gate", "skip", "index")
MODELS = {  # small inputs keep the export quick
    "resnet18": (1, 3, 64, 64),
    "googlenet": (1, 3, 64, 64),
    "densenet121": (1, 3, 64, 64),
    "unet": (1, 1, 188, 188),
    "mobilenet_v2": (1, 3, 64, 64),
    "shufflenet_v2_x1_0": (1, 3, 64, 64),
}


def export(model: torch.nn.Module, x: torch.Tensor, path) -> None:
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice
        warnings.simplefilter("ignore")
        # PRESERVE keeps batch norm as its own node (EVAL folds it into the convolution)
        torch.onnx.export(model, (x,), str(path), dynamo=False,
                          training=torch.onnx.TrainingMode.PRESERVE)


SLOW = {"densenet121"}  # 20 s to export


@pytest.mark.parametrize("name, shape", [
    pytest.param(n, s, marks=[pytest.mark.slow] if n in SLOW else []) for n, s in MODELS.items()])
def test_an_exported_zoo_model_comes_back_the_same(tmp_path, name, shape):
    model = zoo.build(name).eval()
    x = torch.randn(shape)
    path = tmp_path / f"{name}.onnx"
    export(model, x, path)
    back = zoo.build(str(path))
    original = trace(model, shape)
    graph = trace_zoo(str(path))
    used = sum(p.numel() for p in model.parameters()) - sum(
        n for n, _ in original.unused.values())  # GoogLeNet's aux heads are not exported
    assert sum(p.numel() for p in back.parameters()) == used
    with torch.inference_mode():
        expected, got = model(x), back(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    counts, zoo_counts = graph.edge_counts(), original.edge_counts()
    assert {k: counts[k] for k in STRUCTURE} == {k: zoo_counts[k] for k in STRUCTURE}


def test_torch_names_give_the_zoo_hierarchy(tmp_path):
    model = zoo.build("resnet18").eval()
    path = tmp_path / "r.onnx"
    export(model, torch.randn(1, 3, 64, 64), path)
    graph = trace_zoo(str(path))
    assert {"layer1.0.conv1", "layer4.1.bn2", "fc"} <= set(graph.nodes())
    assert graph.node("layer1.0.add")["op"] == "add"  # inside its block, so it folds with it
    assert graph.modules["layer1.0"] == "Block"
    view = fold(graph, FoldSpec(collapse=frozenset({"layer1.0"})))  # folds like the zoo's
    assert "layer1.0" in view.nx and "layer1.0.conv1" not in view.nx
    assert "layer1.0.add" not in view.nx  # the residual add folds with its block
    back = zoo.build(str(path))
    assert back.onnx_nodes["layer1.0.conv1"].op_type == "Conv"
    assert back.onnx_file["producer"].startswith("pytorch")
