"""Hostile and broken ONNX files: each is one line naming the file, nothing allocated past
the budget, nothing built."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from explorer import zoo
from explorer.cli import main
from explorer.zoo.onnx_import import Budget, OnnxModelError, load_onnx
from explorer.zoo.onnx_import.reading import read_model


def small_model(nodes=None, inits=None, inputs=None, opset=13, **kw) -> onnx.ModelProto:
    weight = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    nodes = nodes or [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1] * 4),
                      helper.make_node("Relu", ["y"], ["z"], name="relu")]
    graph = helper.make_graph(
        nodes, "g", inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                             [1, 3, 8, 8])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, [None] * 4)],
        [weight] if inits is None else inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], **kw)


def save(model: onnx.ModelProto, path) -> str:
    path.write_bytes(model.SerializeToString())
    return str(path)


def refused(path: str, *words: str) -> str:
    with pytest.raises(OnnxModelError) as err:
        zoo.get_info(path)
    text = str(err.value)
    assert "\n" not in text and text.startswith(path)
    for word in words:
        assert word in text, text
    return text


def test_a_well_formed_file_opens(tmp_path):
    path = save(small_model(), tmp_path / "ok.onnx")
    assert zoo.get_info(path).input_shape == (3, 8, 8)
    assert list(dict(zoo.build(path).named_modules())) == ["", "conv", "relu"]


def test_node_names_that_are_attribute_names_still_open(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="/forward/Conv", pads=[1] * 4),
             helper.make_node("Relu", ["y"], ["a"], name="/training/Relu"),
             helper.make_node("Relu", ["a"], ["z"], name="/onnx_nodes/Relu")]
    model = zoo.build(save(small_model(nodes), tmp_path / "names.onnx"))
    assert list(dict(model.named_children())) == ["forward_", "training_", "onnx_nodes_"]
    assert model(torch.ones(1, 3, 8, 8)).shape == (1, 4, 8, 8)


def test_a_truncated_file_is_one_line(tmp_path):
    data = small_model().SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    refused(str(path), "not an ONNX model")


def test_bytes_that_are_not_protobuf_are_one_line(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\xff\xfe\x00garbage" * 50)
    refused(str(path), "not an ONNX model")


def test_a_cycle_is_one_line(tmp_path):
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="first"),
             helper.make_node("Relu", ["a"], ["b"], name="second")]
    refused(save(small_model(nodes, inits=[]), tmp_path / "cycle.onnx"), "cycle", "first")


def test_an_unknown_domain_is_one_line(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv"),
             helper.make_node("FancyOp", ["y"], ["z"], domain="com.example")]
    model = small_model(nodes)
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    refused(save(model, tmp_path / "domain.onnx"), "com.example: FancyOp")


def test_a_declared_huge_input_is_refused_before_anything_is_allocated(tmp_path):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 1_000_000,
                                                                     1_000_000])]
    refused(save(small_model(inputs=inputs), tmp_path / "huge.onnx"), "3e+12", "refused")


def test_a_declared_huge_initializer_is_refused_before_it_is_read(tmp_path):
    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1_000_000, 1_000_000])
    refused(save(small_model(inits=[huge]), tmp_path / "init.onnx"), "initializer 'w'",
            "1e+12")


def test_a_generated_huge_weight_is_refused_before_it_is_made(tmp_path):
    shape = numpy_helper.from_array(np.array([1_000_000, 1_000_000], np.int64), "s")
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["w"]),
             helper.make_node("Add", ["x", "w"], ["y"])]
    refused(save(small_model(nodes, inits=[shape]), tmp_path / "gen.onnx"),
            "ConstantOfShape", "refused")


def test_the_total_budget_counts_external_tensors_before_reading_them(tmp_path):
    _external(tmp_path, "weights.bin", length=4_000_000)
    (tmp_path / "model" / "weights.bin").write_bytes(b"\0" * 4_000_000)
    with pytest.raises(OnnxModelError, match="tensors need 3.8 MiB, more than the 1.0 MiB"):
        read_model(tmp_path / "model" / "ext.onnx", Budget(max_bytes=1 << 20))


def _external(tmp_path, location: str, length: int = 432) -> str:
    model = small_model()
    tensor = model.graph.initializer[0]
    if length != 432:
        tensor.dims[:] = [length // 4]
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    (tmp_path / "model").mkdir(exist_ok=True)
    return save(model, tmp_path / "model" / "ext.onnx")


def test_external_data_is_read_from_the_models_own_folder(tmp_path):
    path = _external(tmp_path, "weights.bin")
    (tmp_path / "model" / "weights.bin").write_bytes(np.full(108, 2, np.float32).tobytes())
    built = zoo.build(path)
    assert float(built.conv.weight.detach().sum()) == 2 * 108


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd", "sub/../../secret.bin"])
def test_external_data_outside_the_folder_is_refused(tmp_path, location):
    (tmp_path / "secret.bin").write_bytes(b"\0" * 432)
    refused(_external(tmp_path, location), "outside the model's folder")


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "secret.bin").write_bytes(b"\0" * 432)
    path = _external(tmp_path, "link.bin")
    (tmp_path / "model" / "link.bin").symlink_to(tmp_path / "secret.bin")
    refused(path, "outside the model's folder")


def test_missing_external_data_is_one_line(tmp_path):
    refused(_external(tmp_path, "gone.bin"), "missing")


def test_unsupported_ops_are_named_with_their_counts(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], name="conv"),
             helper.make_node("Erf", ["a"], ["b"]), helper.make_node("Erf", ["b"], ["c"]),
             helper.make_node("Sin", ["c"], ["d"])]
    path = save(small_model(nodes), tmp_path / "ops.onnx")
    with pytest.raises(OnnxModelError) as err:
        load_onnx(path)
    assert "Erf ×2" in str(err.value) and "Sin ×1" in str(err.value)
    assert "cannot convert 3 of 4 nodes" in str(err.value)


def test_the_cli_reports_a_bad_file_in_one_line(tmp_path, capsys):
    path = tmp_path / "cut.onnx"
    path.write_bytes(small_model().SerializeToString()[:40])
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("explorer: ") and "not an ONNX model" in err and "\n" not in err
