"""Every operator the converter knows, held against onnx's own reference evaluator
(``onnx.reference.ReferenceEvaluator``) on random weights and inputs: small graphs, one
motif each, built here with onnx.helper."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from explorer import zoo
from explorer.graph.trace import trace_zoo

RNG = np.random.default_rng(0)
X = (1, 4, 8, 8)


def w(*shape) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def i64(*values) -> np.ndarray:
    return np.array(values, np.int64)


def node(op: str, inputs, outputs, **attrs) -> onnx.NodeProto:
    return helper.make_node(op, list(inputs), list(outputs), **attrs)


def build(nodes, consts: dict[str, np.ndarray], opset: int = 14, shape=X,
          out: str | None = None) -> tuple[onnx.ModelProto, np.ndarray, np.ndarray]:
    """The model (its output's shape taken from the reference run), an input and the
    reference output."""
    out = out or nodes[-1].output[0]
    inits = [numpy_helper.from_array(v, k) for k, v in consts.items()]
    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))
    draft = helper.make_model(helper.make_graph(nodes, "t", [x_info], [
        helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits),
        opset_imports=[helper.make_opsetid("", opset)])
    x = RNG.standard_normal(shape).astype(np.float32)
    (expected,) = ReferenceEvaluator(draft).run(None, {"x": x})
    model = helper.make_model(helper.make_graph(nodes, "t", [x_info], [
        helper.make_tensor_value_info(out, TensorProto.FLOAT, list(expected.shape))], inits),
        opset_imports=[helper.make_opsetid("", opset)])
    return model, x, expected


def converted(tmp_path, model) -> tuple[str, torch.nn.Module]:
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    return str(path), zoo.build(str(path))


def check(tmp_path, nodes, consts=None, opset=14, shape=X, atol=1e-5, expect=None):
    """``expect``: the spec's formula where onnx 1.23's reference departs from the spec
    (LRN sums channels only for the first one; Softmax before opset 13 does not flatten;
    BatchNormalization 9 to 13 uses the batch's statistics whenever momentum is set)."""
    model, x, expected = build(nodes, consts or {}, opset, shape)
    if expect is not None:
        expected = expect(x)
    path, module = converted(tmp_path, model)
    with torch.inference_mode():
        y = module(torch.from_numpy(x))
    assert tuple(y.shape) == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=atol)
    trace_zoo(path)  # and it traces on the meta device
    return module


CASES = {
    "conv groups dilations uneven pads": (
        [node("Conv", "xw", ["y"], group=2, dilations=[2, 2], strides=[2, 1],
              pads=[0, 1, 1, 0])], {"w": w(6, 2, 3, 3)}),
    "conv auto_pad same_upper with bias": (
        [node("Conv", ["x", "w", "b"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2])],
        {"w": w(5, 4, 4, 4), "b": w(5)}),
    "conv auto_pad same_lower": (
        [node("Conv", "xw", ["y"], auto_pad="SAME_LOWER", kernel_shape=[2, 2])],
        {"w": w(3, 4, 2, 2)}),
    "conv transpose": (
        [node("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1],
              output_padding=[1, 1])], {"w": w(4, 3, 3, 3), "b": w(3)}),
    "batch norm": (
        [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)],
        {"s": w(4), "b": w(4), "m": w(4), "v": np.abs(w(4)) + 0.5}),
    "activations": (
        [node("LeakyRelu", ["x"], ["a"], alpha=0.2), node("Sigmoid", ["a"], ["b"]),
         node("Tanh", ["b"], ["c"]), node("HardSigmoid", ["c"], ["d"]),
         node("HardSwish", ["d"], ["e"]), node("PRelu", ["x", "slope"], ["f"]),
         node("Add", ["e", "f"], ["g"]), node("Clip", ["g", "lo", "hi"], ["h"]),
         node("Clip", ["h", "lo"], ["i"]), node("Relu", ["i"], ["y"])],
        {"slope": w(4, 1, 1), "lo": np.array(-0.5, np.float32),
         "hi": np.array(0.7, np.float32)}),
    "relu6 from clip": ([node("Clip", ["x", "zero", "six"], ["y"])],
                        {"zero": np.array(0, np.float32), "six": np.array(6, np.float32)}),
    "elementwise with constants and broadcasting": (
        [node("Mul", ["x", "s"], ["a"]), node("Add", ["b", "a"], ["c"]),
         node("Sub", ["k", "c"], ["d"]), node("Div", ["d", "s"], ["e"]),
         node("Relu", ["x"], ["r"]), node("Mul", ["e", "r"], ["f"]),
         node("Sum", ["f", "x", "r"], ["y"])],
        {"s": w(4, 1, 1), "b": w(1, 4, 1, 1), "k": np.array(2, np.float32)}),
    "concat split slice": (
        [node("Relu", ["x"], ["r"]), node("Concat", ["x", "r"], ["c"], axis=1),
         node("Split", ["c", "parts"], ["a", "b"], axis=1),
         node("Slice", ["b", "st", "en", "ax", "sp"], ["s"]),
         node("Concat", ["a", "s"], ["y"], axis=1)],
        {"parts": i64(3, 5), "st": i64(-4, 0), "en": i64(4, 1000), "ax": i64(1, 3),
         "sp": i64(2, 1)}),
    "max pool ceil mode and uneven pads": (
        [node("MaxPool", ["x"], ["a"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
         node("MaxPool", ["x"], ["b"], kernel_shape=[2, 2], strides=[2, 2],
              pads=[0, 0, 1, 1]),
         node("Concat", ["a", "b"], ["y"], axis=1)], {}),
    "average pools": (
        [node("AveragePool", ["x"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
              strides=[2, 2]),
         node("AveragePool", ["x"], ["b"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
              strides=[2, 2], count_include_pad=1),
         node("AveragePool", ["x"], ["c"], kernel_shape=[2, 2], pads=[0, 0, 1, 1],
              strides=[2, 2]),
         node("Concat", ["a", "b", "c"], ["y"], axis=1)], {}),
    "global pools": (
        [node("GlobalAveragePool", ["x"], ["a"]), node("GlobalMaxPool", ["x"], ["b"]),
         node("Add", ["a", "b"], ["y"])], {}),
    "gemm and matmul": (
        [node("Flatten", ["x"], ["f"]),
         node("Gemm", ["f", "B", "C"], ["g"], transB=1, alpha=0.5, beta=2.0),
         node("MatMul", ["g", "M"], ["m"]), node("Transpose", ["m"], ["t"]),
         node("Gemm", ["t", "m2"], ["y"], transA=1)],
        {"B": w(10, 256), "C": w(10), "M": w(10, 6), "m2": w(6, 3)}),
    "gemm of computed operands": (
        [node("Flatten", ["x"], ["f"]), node("Transpose", ["f"], ["t"]),
         node("Gemm", ["t", "f", "C"], ["y"], transA=1, transB=1, alpha=0.5)],
        {"C": w(1)}),
    "reshape transpose squeeze unsqueeze flatten": (
        [node("Reshape", ["x", "shape"], ["r"]), node("Transpose", ["r"], ["t"],
                                                      perm=[0, 2, 1, 3]),
         node("Unsqueeze", ["t", "axes"], ["u"]), node("Squeeze", ["u", "axes"], ["s"]),
         node("Flatten", ["s"], ["y"], axis=2)],
        {"shape": i64(0, 2, -1, 8), "axes": i64(0, -1)}),
    "softmax opset 13": ([node("Softmax", ["x"], ["a"], axis=1),
                          node("LogSoftmax", ["a"], ["y"])], {}),
    "constants computed by other ops (onnx's reference folds them)": (
        [node("Sqrt", ["v"], ["s"]), node("Expand", ["s", "shape"], ["e"]),
         node("Mul", ["x", "e"], ["y"])],
        {"v": np.abs(w(4, 1, 1)), "shape": i64(1, 4, 1, 1)}),
    "reductions": ([node("ReduceMean", ["x"], ["a"], axes=[2, 3]),
                    node("ReduceMax", ["x"], ["b"], axes=[2, 3]),
                    node("Add", ["a", "b"], ["y"])], {}),
    "dropout and identity": ([node("Dropout", ["x"], ["d"]), node("Identity", ["d"], ["y"])],
                             {}),
    "pads": (
        [node("Pad", ["x", "p", "v"], ["a"], mode="constant"),
         node("Pad", ["x", "p"], ["b"], mode="reflect"),
         node("Pad", ["x", "p"], ["c"], mode="edge"),
         node("Concat", ["a", "b", "c"], ["y"], axis=1)],
        {"p": i64(0, 0, 1, 2, 0, 0, 2, 1), "v": np.array(0.5, np.float32)}),
    "resize nearest and linear": (
        [node("Resize", ["x", "", "sc"], ["a"], mode="nearest",
              coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
         node("Resize", ["x", "", "", "sz"], ["b"], mode="linear"),
         node("Resize", ["x", "", "", "sz"], ["c"], mode="linear",
              coordinate_transformation_mode="align_corners"),
         node("Concat", ["a", "b", "c"], ["y"], axis=1)],
        {"sc": np.array([1, 1, 2, 2], np.float32), "sz": i64(1, 4, 16, 16)}),
    "shapes folded to constants": (
        [node("Shape", ["x"], ["s"]), node("Gather", ["s", "zero"], ["n"]),
         node("Unsqueeze", ["n", "axes"], ["n1"]), node("Constant", [], ["minus"],
                                                        value=numpy_helper.from_array(
                                                            i64(-1))),
         node("Concat", ["n1", "minus"], ["shape"], axis=0),
         node("Cast", ["shape"], ["shape2"], to=TensorProto.INT64),
         node("ConstantOfShape", ["wshape"], ["bias"],
              value=numpy_helper.from_array(np.array([0.25], np.float32))),
         node("Reshape", ["x", "shape2"], ["r"]), node("Add", ["r", "bias"], ["y"])],
        {"zero": np.array(0, np.int64), "axes": i64(0), "wshape": i64(256)}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_operator_matches_the_reference_evaluator(tmp_path, case):
    nodes, consts, *opset = CASES[case]
    check(tmp_path, nodes, consts, *opset)


def _softmax(x: np.ndarray, axis: int, log: bool = False) -> np.ndarray:
    """ONNX before opset 13: the input flattened to 2-D at ``axis``."""
    flat = x.reshape(int(np.prod(x.shape[:axis])), -1)
    e = np.exp(flat - flat.max(axis=1, keepdims=True))
    out = e / e.sum(axis=1, keepdims=True)
    return (np.log(out) if log else out).reshape(x.shape)


def test_softmax_before_opset_13_flattens_at_its_axis(tmp_path):
    nodes = [node("Softmax", ["x"], ["a"], axis=1), node("LogSoftmax", ["x"], ["b"], axis=2),
             node("Add", ["a", "b"], ["y"])]
    check(tmp_path, nodes, opset=11,
          expect=lambda x: _softmax(x, 1) + _softmax(x, 2, log=True))


def test_lrn_follows_the_spec(tmp_path):
    def lrn(x, size=3, alpha=0.01, beta=0.5, bias=2.0):
        sq = np.zeros_like(x)
        for c in range(x.shape[1]):
            lo, hi = max(0, c - (size - 1) // 2), min(x.shape[1], c + (size - 1 + 1) // 2 + 1)
            sq[:, c] = (x[:, lo:hi] ** 2).sum(axis=1)
        return x / (bias + alpha / size * sq) ** beta

    check(tmp_path, [node("LRN", ["x"], ["y"], size=3, alpha=0.01, beta=0.5, bias=2.0)],
          expect=lrn)


def test_upsample_of_opset_9(tmp_path):
    check(tmp_path, [node("Upsample", ["x", "sc"], ["y"], mode="nearest")],
          {"sc": np.array([1, 1, 2, 3], np.float32)}, opset=9)


def test_max_pool_indices_feed_max_unpool_as_an_index_edge(tmp_path):
    nodes = [node("MaxPool", ["x"], ["p", "i"], kernel_shape=[2, 2], strides=[2, 2]),
             node("Relu", ["p"], ["r"]),
             node("MaxUnpool", ["r", "i"], ["y"], kernel_shape=[2, 2], strides=[2, 2])]
    check(tmp_path, nodes, shape=(2, 3, 8, 8))
    model, _, _ = build(nodes, {}, shape=(2, 3, 8, 8))
    path, _ = converted(tmp_path, model)
    assert trace_zoo(path).edge_counts()["index"] == 1


def test_weights_become_parameters_the_inspector_sees(tmp_path):
    nodes, consts = CASES["conv auto_pad same_upper with bias"]
    module = check(tmp_path, nodes, consts)
    params = dict(module.named_parameters())
    assert sorted(p.numel() for p in params.values()) == [5, 5 * 4 * 4 * 4]
    info = next(iter(module.onnx_nodes.values()))
    assert info.op_type == "Conv" and info.domain == "ai.onnx"
    assert info.attributes["auto_pad"] == "SAME_UPPER"


def test_gradients_flow_through_in_place_activations(tmp_path):
    """Grad-CAM's backward pass: a ReLU works in place only where the op before it does
    not need its own output for the gradient (after a convolution, not a sigmoid)."""
    from explorer.inference.predictions import grad_cam

    nodes = [node("Conv", "xw", ["c"], pads=[1, 1, 1, 1]), node("Relu", ["c"], ["r"]),
             node("Sigmoid", ["r"], ["s"]), node("Relu", ["s"], ["t"]),
             node("GlobalAveragePool", ["t"], ["g"]), node("Flatten", ["g"], ["y"])]
    module = check(tmp_path, nodes, {"w": w(6, 4, 3, 3)})
    relus = [m for m in module.modules() if isinstance(m, torch.nn.ReLU)]
    assert [r.inplace for r in relus] == [True, False]
    conv = next(n for n, m in module.named_modules() if isinstance(m, torch.nn.Conv2d))
    cam, cls = grad_cam(module, torch.randn(X), conv, None)
    assert cam.shape == X[2:] and 0 <= cls < 6
