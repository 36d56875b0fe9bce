"""Constant folding at import: everything a graph computes from its weights and from
static shapes alone (Constant, ConstantOfShape, Shape, Gather, Cast, Unsqueeze, Concat on
shapes, Caffe2's generated weights...) becomes a constant, so what is left to convert is
the network itself.

A ``ConstantOfShape`` becomes a broadcast view of its one value: a light model-zoo file
declares hundreds of megabytes of weights that way, and nothing is allocated until a
model is built on a real device. Every folded tensor is checked against the budget."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from .reading import Budget, fail

# the shape-computing and weight-preparing ops folded here with numpy; any other op whose
# inputs are all constants goes through onnx's reference implementation
_NUMPY = ("Constant", "ConstantOfShape", "Shape", "Gather", "Cast", "Unsqueeze", "Squeeze",
          "Concat", "Reshape", "Identity", "Transpose", "Add", "Sub", "Mul", "Div", "Slice")


@dataclass
class Folded:
    """The graph after folding: the constants (with the initializer each one came from,
    which names the layer that uses it), the nodes left to run, static shapes."""

    constants: dict[str, np.ndarray]
    origin: dict[str, str]
    nodes: list[onnx.NodeProto]
    shapes: StaticShapes
    opset: int
    folded: int = 0
    unknown: dict[str, int] = field(default_factory=dict)


def attributes(node: onnx.NodeProto) -> dict:
    out = {}
    for attr in node.attribute:
        value = onnx.helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, onnx.TensorProto):
            value = numpy_helper.to_array(value)
        elif isinstance(value, list):
            value = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
        out[attr.name] = value
    return out


class StaticShapes:
    """Shapes by value name, read from the graph's value infos when first asked for (a
    light DenseNet declares thousands; reading them all costs more than the rest of the
    import). Only fully known shapes count; constants' shapes are set directly."""

    def __init__(self, model: onnx.ModelProto) -> None:
        graph = model.graph
        self._infos = {v.name: v for v in [*graph.input, *graph.value_info, *graph.output]}
        self._known: dict[str, tuple[int, ...] | None] = {}

    def get(self, name: str) -> tuple[int, ...] | None:
        if name not in self._known:
            value = self._infos.get(name)
            tensor = value.type.tensor_type if value is not None else None
            dims = list(tensor.shape.dim) if tensor is not None and tensor.HasField(
                "shape") else None
            self._known[name] = tuple(int(d.dim_value) for d in dims) if dims is not None \
                and all(d.HasField("dim_value") for d in dims) else None
        return self._known[name]

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __setitem__(self, name: str, shape: tuple[int, ...]) -> None:
        self._known[name] = shape


def _axes(node, attrs, consts, index=1):
    if "axes" in attrs:
        return [int(a) for a in attrs["axes"]]
    if len(node.input) > index and node.input[index]:
        return [int(a) for a in consts[node.input[index]].reshape(-1)]
    return None


def _slice(x, node, attrs, consts):
    if "starts" in attrs:
        starts, ends = attrs["starts"], attrs["ends"]
        axes, steps = attrs.get("axes"), None
    else:
        vals = [consts[n].reshape(-1).tolist() if n else None for n in node.input[1:]]
        starts, ends = vals[0], vals[1]
        axes = vals[2] if len(vals) > 2 else None
        steps = vals[3] if len(vals) > 3 else None
    axes = axes or list(range(len(starts)))
    steps = steps or [1] * len(starts)
    index = [slice(None)] * x.ndim
    for a, s, e, st in zip(axes, starts, ends, steps):
        index[a] = slice(int(s), int(e), int(st))
    return x[tuple(index)]


def _numpy(node, attrs, ins, consts, shapes):
    op = node.op_type
    x = ins[0] if ins else None
    if op == "Constant":
        if "value" in attrs:
            return attrs["value"]
        for key in ("value_float", "value_int"):
            if key in attrs:
                return np.array(attrs[key], dtype=np.float32 if "float" in key else np.int64)
        for key in ("value_floats", "value_ints"):
            if key in attrs:
                return np.array(attrs[key], dtype=np.float32 if "float" in key else np.int64)
        return None
    if op == "ConstantOfShape":
        value = attrs.get("value", np.zeros(1, np.float32)).reshape(-1)[:1]
        return np.broadcast_to(value.reshape(()), tuple(int(s) for s in x.reshape(-1)))
    if op == "Shape":
        shape = shapes.get(node.input[0])
        if shape is None:
            return None
        start, end = attrs.get("start", 0), attrs.get("end")
        return np.array(shape[start:end], dtype=np.int64)
    if op == "Identity":
        return x
    if op == "Cast":
        return x.astype(onnx.helper.tensor_dtype_to_np_dtype(attrs["to"]))
    if op == "Gather":
        return np.take(x, ins[1], axis=attrs.get("axis", 0))
    if op == "Unsqueeze":
        for a in sorted(_axes(node, attrs, consts)):
            x = np.expand_dims(x, a if a >= 0 else a + x.ndim + 1)
        return x
    if op == "Squeeze":
        axes = _axes(node, attrs, consts)
        return np.squeeze(x, axis=None if axes is None else tuple(axes))
    if op == "Concat":
        return np.concatenate(ins, axis=attrs["axis"])
    if op == "Reshape":
        shape = [x.shape[i] if s == 0 and not attrs.get("allowzero") else int(s)
                 for i, s in enumerate(ins[1].reshape(-1))]
        return x.reshape(shape)
    if op == "Transpose":
        return np.transpose(x, attrs.get("perm"))
    if op in ("Add", "Sub", "Mul", "Div"):
        a, b = ins
        if op == "Div" and np.issubdtype(a.dtype, np.integer):
            return (a // b).astype(a.dtype)
        return getattr(np, {"Add": "add", "Sub": "subtract", "Mul": "multiply",
                            "Div": "divide"}[op])(a, b).astype(np.result_type(a, b))
    if op == "Slice":
        return _slice(x, node, attrs, consts)
    return None


def _reference(node: onnx.NodeProto, ins: list[np.ndarray], opset: int) -> list[np.ndarray]:
    from onnx.reference import ReferenceEvaluator

    names = [n for n in node.input if n]
    graph = onnx.helper.make_graph(
        [node], "fold", [onnx.helper.make_tensor_value_info(n, numpy_helper.from_array(
            np.asarray(v)).data_type, None) for n, v in zip(names, ins)],
        [onnx.helper.make_tensor_value_info(n, 0, None) for n in node.output if n])
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)])
    return ReferenceEvaluator(model).run(None, dict(zip(names, ins)))


def _size(path: Path, node: onnx.NodeProto, value: np.ndarray, budget: Budget) -> None:
    if value.size > budget.max_elements:
        raise fail(path, f"node {node.name or node.op_type!r} ({node.op_type}) makes a "
                   f"{value.size:.3g}-element tensor; refused")


def _planned(path: Path, node: onnx.NodeProto, consts, budget: Budget) -> None:
    """ConstantOfShape's size is known before its tensor exists: check it first."""
    if node.op_type == "ConstantOfShape":
        dims = [int(s) for s in consts[node.input[0]].reshape(-1)]
        if any(d < 0 for d in dims) or math.prod(dims) > budget.max_elements:
            raise fail(path, f"node {node.name or node.op_type!r} (ConstantOfShape) declares "
                       f"a tensor of {math.prod(dims):.3g} elements ({dims}); refused")


def fold(path: Path, model: onnx.ModelProto, budget: Budget) -> Folded:
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    origin = {name: name for name in consts}
    shapes = StaticShapes(model)
    for name, value in consts.items():
        shapes[name] = tuple(value.shape)
    runtime: list[onnx.NodeProto] = []
    folded = 0
    for node in graph.node:
        attrs = attributes(node)
        names = [n for n in node.input if n]
        if all(n in consts for n in names) or node.op_type == "Shape":
            if node.op_type != "Shape" or node.input[0] in shapes:
                ins = [consts.get(n) for n in names]
                _planned(path, node, consts, budget)
                outs = None
                if node.op_type in _NUMPY:
                    out = _numpy(node, attrs, ins, consts, shapes)
                    outs = None if out is None else [out]
                elif node.op_type not in ("Dropout",) and names:
                    outs = _reference(node, ins, opset)
                if outs is not None:
                    for name, value in zip(node.output, outs):
                        value = np.asarray(value)
                        _size(path, node, value, budget)
                        consts[name] = value
                        shapes[name] = tuple(value.shape)
                        sources = [origin[n] for n in names if n in origin]
                        made = node.op_type in ("Constant", "ConstantOfShape")
                        origin[name] = sources[0] if sources and not made else name
                    folded += 1
                    continue
        runtime.append(node)
    return Folded(consts, origin, runtime, shapes, opset, folded)
