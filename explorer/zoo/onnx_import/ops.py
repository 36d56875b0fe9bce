"""ONNX operators as torch: each handler turns one node into a leaf module (layers with
weights, activations, pools: what the zoo's own models hold as modules) or a functional
op (joins and reshapes, which tracing sees as ``add``, ``cat``, ``reshape``... exactly as
in the zoo's forwards, so residual adds, concatenations and channel shuffles classify
the same way)."""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import nn

from . import layers
from .folding import StaticShapes

INT_MAX = 2**62


@functools.cache
def torch_dtype(dtype: np.dtype) -> torch.dtype:
    return torch.from_numpy(np.zeros(0, dtype)).dtype


class Unsupported(Exception):
    """This node (as configured) has no conversion; the message says what."""


@dataclass
class Node:
    """One ONNX node with what converting it may read."""

    proto: onnx.NodeProto
    attrs: dict[str, Any]
    consts: dict[str, np.ndarray]
    shapes: StaticShapes
    opset: int
    meta: bool
    consumed: Counter = field(default_factory=Counter)  # value name -> its readers
    kept: frozenset[str] = frozenset()  # values no op may overwrite (a gradient reads them)

    def used(self, i: int) -> bool:
        return i < len(self.proto.output) and self.consumed[self.proto.output[i]] > 0

    def sole_reader(self) -> bool:
        """Nothing else reads this node's input: it may be overwritten (an in-place
        activation, as the zoo's own models use, which tracing on meta runs fast)."""
        return self.consumed[self.name(0)] == 1 and self.name(0) not in self.kept

    @property
    def op(self) -> str:
        return self.proto.op_type

    def name(self, i: int) -> str:
        return self.proto.input[i] if i < len(self.proto.input) else ""

    def const(self, i: int) -> np.ndarray | None:
        name = self.name(i)
        return self.consts.get(name) if name else None

    def has(self, i: int) -> bool:
        return bool(self.name(i))

    def shape(self, i: int) -> tuple[int, ...] | None:
        return self.shapes.get(self.name(i))

    def rank(self, i: int = 0) -> int | None:
        shape = self.shape(i)
        return None if shape is None else len(shape)

    def tensor(self, array: np.ndarray, dtype: torch.dtype | None = None) -> torch.Tensor:
        """A tensor of the constant: on the meta device nothing is allocated."""
        dtype = dtype or torch_dtype(array.dtype)
        if self.meta:
            return torch.empty(array.shape, dtype=dtype, device="meta")
        return torch.from_numpy(np.array(array, copy=True)).to(dtype)

    def param(self, array: np.ndarray) -> nn.Parameter:
        return nn.Parameter(self.tensor(array, torch.float32))


@dataclass
class Op:
    """A converted node: a leaf module, or a function of tensors; ``inputs`` are the
    node's input positions fed at run time (the others were read as constants)."""

    module: nn.Module | None = None
    fn: Callable[..., Any] | None = None
    inputs: tuple[int, ...] = (0,)
    extra: dict[str, Any] = field(default_factory=dict)


HANDLERS: dict[str, Callable[[Node], Op]] = {}


def handles(*ops: str):
    def register(fn):
        for op in ops:
            HANDLERS[op] = fn
        return fn
    return register


def _need(node: Node, i: int, what: str) -> np.ndarray:
    value = node.const(i)
    if value is None:
        raise Unsupported(f"{node.op} with a computed {what}")
    return value


def _torch_pads(pads: list[int]) -> tuple[int, ...]:
    """ONNX (b1, b2, ..., e1, e2, ...) to torch's last-dimension-first pairs."""
    half = len(pads) // 2
    out: list[int] = []
    for i in reversed(range(half)):
        out += [int(pads[i]), int(pads[i + half])]
    return tuple(out)


def _pads(node: Node, kernel: list[int], strides: list[int], dilations: list[int]) -> list[int]:
    """Explicit pads, auto_pad resolved against the static input shape."""
    spatial = len(kernel)
    auto = node.attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        shape = node.shape(0)
        if shape is None:
            raise Unsupported(f"{node.op} with auto_pad={auto} on an input of unknown size")
        begin, end = [], []
        for i in range(spatial):
            size = shape[2 + i]
            out = math.ceil(size / strides[i])
            total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size)
            small, big = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else big)
            end.append(big if auto == "SAME_UPPER" else small)
        return begin + end
    if auto == "VALID":
        return [0] * (2 * spatial)
    return [int(p) for p in node.attrs.get("pads", [0] * (2 * spatial))]


def _window(node: Node, kernel: list[int]):
    spatial = len(kernel)
    strides = [int(s) for s in node.attrs.get("strides", [1] * spatial)]
    dilations = [int(d) for d in node.attrs.get("dilations", [1] * spatial)]
    return strides, dilations, _pads(node, kernel, strides, dilations)


# ---------------------------------------------------------------- layers with weights
def _with_weights(node: Node, module: nn.Module, weight: np.ndarray,
                  bias: np.ndarray | None) -> Op:
    """The file's weight (and bias) as the module's parameters."""
    module.weight = node.param(weight)
    if bias is not None:
        module.bias = node.param(bias)
    return Op(module)


def _conv_weights(node: Node) -> tuple[np.ndarray, np.ndarray | None, list[int], int]:
    """Weight, bias, kernel and spatial rank of a Conv or ConvTranspose."""
    weight = _need(node, 1, "weight")
    bias = node.const(2)
    if node.has(2) and bias is None:
        raise Unsupported(f"{node.op} with a computed bias")
    kernel = list(weight.shape[2:])
    if len(kernel) not in (1, 2, 3):
        raise Unsupported(f"{node.op} with {len(kernel)} spatial dimensions")
    return weight, bias, kernel, len(kernel)


@handles("Conv")
def conv(node: Node) -> Op:
    weight, bias, kernel, spatial = _conv_weights(node)
    strides, dilations, pads = _window(node, kernel)
    groups = int(node.attrs.get("group", 1))
    even = pads[:spatial] == pads[spatial:]
    if not even and spatial != 2:
        raise Unsupported(f"Conv{spatial}d with uneven pads")
    cls = {1: nn.Conv1d, 2: nn.Conv2d if even else layers.Conv2d, 3: nn.Conv3d}[spatial]
    kwargs = {} if even else {"pre_pad": _torch_pads(pads)}
    module = cls(weight.shape[1] * groups, weight.shape[0], kernel, stride=strides,
                 padding=pads[:spatial] if even else 0, dilation=dilations, groups=groups,
                 bias=bias is not None, device="meta", **kwargs)
    return _with_weights(node, module, weight, bias)


@handles("ConvTranspose")
def conv_transpose(node: Node) -> Op:
    weight, bias, kernel, spatial = _conv_weights(node)
    if "output_shape" in node.attrs:
        raise Unsupported("ConvTranspose with output_shape")
    strides, dilations, pads = _window(node, kernel)
    if node.attrs.get("auto_pad", "NOTSET") != "NOTSET" or pads[:spatial] != pads[spatial:]:
        raise Unsupported("ConvTranspose with auto_pad or uneven pads")
    groups = int(node.attrs.get("group", 1))
    extra = [int(p) for p in node.attrs.get("output_padding", [0] * spatial)]
    cls = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[spatial]
    module = cls(weight.shape[0], weight.shape[1] * groups, kernel, stride=strides,
                 padding=pads[:spatial], output_padding=extra, groups=groups,
                 bias=bias is not None, dilation=dilations, device="meta")
    return _with_weights(node, module, weight, bias)


@handles("BatchNormalization")
def batch_norm(node: Node) -> Op:
    scale, bias, mean, var = (_need(node, i, "statistic") for i in (1, 2, 3, 4))
    if any(node.used(i) for i in range(1, 5)):
        raise Unsupported("BatchNormalization in training mode")
    rank = node.rank(0) or 4
    cls = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}.get(rank)
    if cls is None:
        raise Unsupported(f"BatchNormalization on a {rank}-D input")
    module = cls(scale.shape[0], eps=float(node.attrs.get("epsilon", 1e-5)),
                 momentum=1 - float(node.attrs.get("momentum", 0.9)), device="meta")
    module.weight = node.param(scale)
    module.bias = node.param(bias)
    module.running_mean = node.tensor(mean, torch.float32)
    module.running_var = node.tensor(var, torch.float32)
    module.num_batches_tracked = node.tensor(np.zeros((), np.int64))
    return Op(module)


def _linear(node: Node, weight: np.ndarray, bias: np.ndarray | None) -> Op:
    module = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, device="meta")
    return _with_weights(node, module, weight, bias)


@handles("Gemm")
def gemm(node: Node) -> Op:
    b = node.const(1)
    alpha, beta = float(node.attrs.get("alpha", 1.0)), float(node.attrs.get("beta", 1.0))
    c = node.const(2)
    if b is None or node.attrs.get("transA", 0) or (node.has(2) and c is None):
        return Op(fn=functools.partial(_gemm, alpha=alpha, beta=beta,
                                       trans_a=bool(node.attrs.get("transA", 0)),
                                       trans_b=bool(node.attrs.get("transB", 0))),
                  inputs=tuple(i for i in range(3) if node.has(i)))
    weight = (b if node.attrs.get("transB", 0) else b.T) * np.float32(alpha)
    bias = None
    if c is not None:
        if c.size not in (1, weight.shape[0]):
            raise Unsupported("Gemm with a 2-D C")
        bias = np.broadcast_to(c.reshape(-1), (weight.shape[0],)) * np.float32(beta)
    return _linear(node, weight, bias)


def _gemm(a, b, c=None, *, alpha, beta, trans_a, trans_b):
    a = a.t() if trans_a else a
    b = b.t() if trans_b else b
    out = torch.matmul(a, b) * alpha if alpha != 1 else torch.matmul(a, b)
    return out if c is None else torch.add(out, c * beta if beta != 1 else c)


@handles("MatMul")
def matmul(node: Node) -> Op:
    b = node.const(1)
    if b is not None and b.ndim == 2 and node.const(0) is None:
        return _linear(node, b.T, None)
    return Op(fn=torch.matmul, inputs=(0, 1))


@handles("PRelu")
def prelu(node: Node) -> Op:
    slope = _need(node, 1, "slope")
    channels = node.shape(0)[1] if node.rank(0) and node.rank(0) > 1 else 1
    want = (channels,) + (1,) * ((node.rank(0) or 2) - 2)
    padded = (1,) * max(0, len(want) - slope.ndim) + tuple(slope.shape)
    if slope.size != 1 and padded[-len(want):] != want:
        raise Unsupported("PRelu with a slope that is not per channel")
    module = nn.PReLU(int(slope.size), device="meta")
    module.weight = node.param(slope.reshape(-1))
    return Op(module)


# ---------------------------------------------------------------- activations
def _module(factory: Callable[[], nn.Module]) -> Op:
    return Op(factory())  # no weights: nothing to allocate


@handles("Relu")
def relu(node: Node) -> Op:
    return _module(lambda: nn.ReLU(inplace=node.sole_reader()))


@handles("Sigmoid")
def sigmoid(node: Node) -> Op:
    return _module(nn.Sigmoid)


@handles("Tanh")
def tanh(node: Node) -> Op:
    return _module(nn.Tanh)


@handles("HardSwish")
def hard_swish(node: Node) -> Op:
    return _module(nn.Hardswish)


@handles("LeakyRelu")
def leaky_relu(node: Node) -> Op:
    return _module(lambda: nn.LeakyReLU(float(node.attrs.get("alpha", 0.01))))


@handles("HardSigmoid")
def hard_sigmoid(node: Node) -> Op:
    alpha, beta = float(node.attrs.get("alpha", 0.2)), float(node.attrs.get("beta", 0.5))
    if abs(alpha - 1 / 6) < 1e-6 and abs(beta - 0.5) < 1e-6:
        return _module(nn.Hardsigmoid)
    return _module(lambda: layers.HardSigmoid(alpha, beta))


@handles("Clip")
def clip(node: Node) -> Op:
    if node.opset < 11:
        lo, hi = node.attrs.get("min", -math.inf), node.attrs.get("max", math.inf)
    else:
        lo = float(_need(node, 1, "min")) if node.has(1) else -math.inf
        hi = float(_need(node, 2, "max")) if node.has(2) else math.inf
    inplace = node.sole_reader()
    if lo == 0 and hi == 6:
        return _module(lambda: nn.ReLU6(inplace))
    if lo == 0 and hi == math.inf:
        return _module(lambda: nn.ReLU(inplace))
    return _module(lambda: nn.Hardtanh(float(lo), float(hi), inplace))


@handles("Softmax", "LogSoftmax")
def softmax(node: Node) -> Op:
    rank = node.rank(0)
    axis = int(node.attrs.get("axis", 1 if node.opset < 13 else -1))
    if rank is not None and axis < 0:
        axis += rank
    coerce = node.opset < 13 and rank is not None and axis != rank - 1
    cls = layers.Softmax if node.op == "Softmax" else layers.LogSoftmax
    return _module(lambda: cls(axis, coerce))


@handles("Dropout")
def dropout(node: Node) -> Op:
    if node.used(1):
        raise Unsupported("Dropout whose mask is used")
    ratio = node.attrs.get("ratio", 0.5)
    if node.opset >= 12 and node.const(1) is not None:
        ratio = float(node.const(1))
    return _module(lambda: nn.Dropout(float(ratio)))


@handles("Identity")
def identity(node: Node) -> Op:
    return _module(nn.Identity)


@handles("LRN")
def lrn(node: Node) -> Op:
    a = node.attrs
    return _module(lambda: nn.LocalResponseNorm(int(a["size"]), float(a.get("alpha", 1e-4)),
                                                float(a.get("beta", 0.75)),
                                                float(a.get("bias", 1.0))))


# ---------------------------------------------------------------- pools
def _pool_window(node: Node):
    kernel = [int(k) for k in node.attrs["kernel_shape"]]
    strides, dilations, pads = _window(node, kernel)
    spatial = len(kernel)
    even = pads[:spatial] == pads[spatial:] and all(
        p <= k // 2 for p, k in zip(pads[:spatial], kernel))
    if spatial != 2 and not even:
        raise Unsupported(f"{node.op} over {spatial} dimensions with uneven pads")
    # tuples, as torch's own constructors keep them (the inspector shows tuples)
    return (tuple(kernel), tuple(strides), tuple(dilations), tuple(pads[:spatial]) if even
            else pads, spatial, even)


@handles("MaxPool")
def max_pool(node: Node) -> Op:
    kernel, strides, dilations, pads, spatial, even = _pool_window(node)
    indices = node.used(1)
    ceil = bool(node.attrs.get("ceil_mode", 0))
    if node.attrs.get("storage_order", 0):
        raise Unsupported("MaxPool with column-major indices")
    if indices and (spatial != 2 or not even):
        raise Unsupported("MaxPool with indices and uneven pads")
    if spatial == 2:
        cls, kwargs = layers.MaxPool2d, {} if even else {"pre_pad": _torch_pads(pads)}
    else:
        cls, kwargs = {1: nn.MaxPool1d, 3: nn.MaxPool3d}[spatial], {}
    return _module(lambda: cls(kernel, strides, pads if even else 0, dilations,
                               return_indices=indices, ceil_mode=ceil, **kwargs))


@handles("AveragePool")
def avg_pool(node: Node) -> Op:
    kernel, strides, dilations, pads, spatial, even = _pool_window(node)
    if any(d != 1 for d in dilations):
        raise Unsupported("AveragePool with dilations")
    count = bool(node.attrs.get("count_include_pad", 0))
    ceil = bool(node.attrs.get("ceil_mode", 0))
    if spatial == 2:
        cls, kwargs = layers.AvgPool2d, {} if even else {"pre_pad": _torch_pads(pads)}
    else:
        cls, kwargs = {1: nn.AvgPool1d, 3: nn.AvgPool3d}[spatial], {}
    return _module(lambda: cls(kernel, strides, pads if even else 0, ceil_mode=ceil,
                               count_include_pad=count, **kwargs))


@handles("GlobalAveragePool", "GlobalMaxPool")
def global_pool(node: Node) -> Op:
    spatial = (node.rank(0) or 4) - 2
    kind = "Avg" if node.op == "GlobalAveragePool" else "Max"
    cls = getattr(nn, f"Adaptive{kind}Pool{spatial}d", None)
    if cls is None:
        raise Unsupported(f"{node.op} over {spatial} dimensions")
    return _module(lambda: cls(1))


@handles("MaxUnpool")
def max_unpool(node: Node) -> Op:
    kernel = [int(k) for k in node.attrs["kernel_shape"]]
    if len(kernel) != 2:
        raise Unsupported("MaxUnpool over other than 2 dimensions")
    strides = [int(s) for s in node.attrs.get("strides", [1, 1])]
    pads = [int(p) for p in node.attrs.get("pads", [0] * 4)]
    if pads[:2] != pads[2:]:
        raise Unsupported("MaxUnpool with uneven pads")
    size = node.const(2)
    out = tuple(int(s) for s in size.reshape(-1))[2:] if size is not None else None
    if node.has(2) and size is None:
        raise Unsupported("MaxUnpool with a computed output shape")
    return Op(_module(lambda: layers.MaxUnpool2d(kernel, strides, pads[:2],
                                                 output_size=out)).module, inputs=(0, 1))


@handles("Resize", "Upsample")
def resize(node: Node) -> Op:
    a = node.attrs
    mode = a.get("mode", "nearest")
    if node.op == "Upsample":
        scales = a.get("scales") if "scales" in a else _need(node, 1, "scale")
        sizes, transform = None, "asymmetric"
        if mode != "nearest":
            raise Unsupported(f"Upsample mode={mode} (ONNX's asymmetric linear)")
    else:
        scale_at = 1 if node.opset == 10 else 2
        scales = node.const(scale_at) if node.has(scale_at) else None
        sizes = node.const(3) if node.opset > 10 and node.has(3) else None
        if (scales is None or scales.size == 0) and sizes is None:
            raise Unsupported("Resize with computed scales or sizes")
        transform = a.get("coordinate_transformation_mode",
                          "asymmetric" if node.opset == 10 else "half_pixel")
    rank = node.rank(0) or 4
    if sizes is not None:
        target = {"size": tuple(int(s) for s in sizes.reshape(-1))[2:]}
    else:
        values = [float(s) for s in np.asarray(scales).reshape(-1)]
        if values[:2] != [1.0, 1.0]:
            raise Unsupported("Resize that scales batch or channels")
        target = {"scale_factor": tuple(values[2:])}
    if mode == "nearest":
        if transform != "asymmetric" or a.get("nearest_mode", "floor") != "floor" and \
                node.op == "Resize" and node.opset > 10:
            raise Unsupported(f"Resize nearest with {transform}/"
                              f"{a.get('nearest_mode', 'round_prefer_floor')} rounding")
        return _module(lambda: nn.Upsample(mode="nearest", **target))
    if mode == "linear" and transform in ("half_pixel", "pytorch_half_pixel", "align_corners"):
        torch_mode = {3: "linear", 4: "bilinear", 5: "trilinear"}.get(rank)
        if torch_mode is None:
            raise Unsupported(f"Resize linear on a {rank}-D input")
        return _module(lambda: nn.Upsample(mode=torch_mode, align_corners=(
            transform == "align_corners"), **target))
    raise Unsupported(f"Resize mode={mode} with {transform} coordinates")


# ---------------------------------------------------------------- joins and elementwise
_TORCH_BINARY = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}


@handles("Add", "Sub", "Mul", "Div")
def binary(node: Node) -> Op:
    a, b = node.const(0), node.const(1)
    if a is None and b is None:
        return Op(fn=_TORCH_BINARY[node.op], inputs=(0, 1))
    constant, first = (a, True) if a is not None else (b, False)
    module = layers.WITH_CONSTANT[node.op](node.tensor(constant, torch.float32), first)
    return Op(module, inputs=(1,) if first else (0,))


def _sum(*tensors):
    out = tensors[0]
    for t in tensors[1:]:
        out = torch.add(out, t)
    return out


@handles("Sum")
def total(node: Node) -> Op:
    if any(node.const(i) is not None for i in range(len(node.proto.input))):
        raise Unsupported("Sum with a constant operand")
    return Op(fn=_sum, inputs=tuple(range(len(node.proto.input))))


@handles("Concat")
def concat(node: Node) -> Op:
    return Op(fn=functools.partial(_cat, axis=int(node.attrs["axis"])),
              inputs=tuple(range(len(node.proto.input))))


def _cat(*tensors, axis):
    return torch.cat(tensors, axis)


@handles("Split")
def split(node: Node) -> Op:
    axis = int(node.attrs.get("axis", 0))
    parts = node.attrs.get("split")
    if parts is None and node.has(1):
        parts = _need(node, 1, "split").reshape(-1).tolist()
    outputs = len(node.proto.output)
    if parts is None:
        shape = node.shape(0)
        if shape is None:
            raise Unsupported("Split of an input of unknown size")
        size = shape[axis]
        step = math.ceil(size / outputs)
        parts = [min(step, size - i * step) for i in range(outputs)]
    return Op(fn=functools.partial(_split, parts=[int(p) for p in parts], axis=axis))


def _split(x, *, parts, axis):
    return torch.split(x, parts, axis)


# ---------------------------------------------------------------- reshapes
@handles("Reshape")
def reshape(node: Node) -> Op:
    shape = _need(node, 1, "shape").reshape(-1).tolist()
    return Op(fn=functools.partial(_reshape, shape=[int(s) for s in shape],
                                   allowzero=bool(node.attrs.get("allowzero", 0))))


def _reshape(x, *, shape, allowzero):
    target = [x.shape[i] if s == 0 and not allowzero else s for i, s in enumerate(shape)]
    return x.reshape(target)


@handles("Flatten")
def flatten(node: Node) -> Op:
    axis = int(node.attrs.get("axis", 1))
    return Op(fn=functools.partial(_flatten, axis=axis))


def _flatten(x, *, axis):
    axis = axis + x.dim() if axis < 0 else axis
    if axis == 1:
        return torch.flatten(x, 1)
    return x.reshape(math.prod(x.shape[:axis]), -1)


@handles("Transpose")
def transpose(node: Node) -> Op:
    perm = node.attrs.get("perm")
    return Op(fn=functools.partial(_permute, perm=None if perm is None else list(perm)))


def _permute(x, *, perm):
    return x.permute(perm if perm is not None else list(reversed(range(x.dim()))))


@handles("Squeeze", "Unsqueeze")
def squeeze(node: Node) -> Op:
    axes = node.attrs.get("axes")
    if axes is None and node.has(1):
        axes = _need(node, 1, "axes").reshape(-1).tolist()
    fn = _unsqueeze if node.op == "Unsqueeze" else _squeeze
    return Op(fn=functools.partial(fn, axes=None if axes is None else [int(a) for a in axes]))


def _squeeze(x, *, axes):
    if axes is None:
        return torch.squeeze(x)
    return torch.squeeze(x, tuple(a + x.dim() if a < 0 else a for a in axes))


def _unsqueeze(x, *, axes):
    rank = x.dim() + len(axes)
    for a in sorted(a + rank if a < 0 else a for a in axes):
        x = torch.unsqueeze(x, a)
    return x


@handles("Slice")
def slice_(node: Node) -> Op:
    if "starts" in node.attrs:
        starts, ends = node.attrs["starts"], node.attrs["ends"]
        axes, steps = node.attrs.get("axes"), None
    else:
        starts = _need(node, 1, "start").reshape(-1).tolist()
        ends = _need(node, 2, "end").reshape(-1).tolist()
        axes = _need(node, 3, "axes").reshape(-1).tolist() if node.has(3) else None
        steps = _need(node, 4, "steps").reshape(-1).tolist() if node.has(4) else None
    axes = axes or list(range(len(starts)))
    steps = steps or [1] * len(starts)
    if any(s <= 0 for s in steps):
        raise Unsupported("Slice with a negative step")
    cuts = [(int(a), int(s), None if e >= INT_MAX // 2 else int(e), int(st))
            for a, s, e, st in zip(axes, starts, ends, steps)]
    return Op(fn=functools.partial(_slice, cuts=cuts))


def _slice(x, *, cuts):
    index = [slice(None)] * x.dim()
    for axis, start, end, step in cuts:
        index[axis if axis >= 0 else axis + x.dim()] = slice(start, end, step)
    return x[tuple(index)]


@handles("Pad")
def pad(node: Node) -> Op:
    mode = node.attrs.get("mode", "constant")
    if node.opset < 11:
        pads, value = node.attrs["pads"], float(node.attrs.get("value", 0.0))
    else:
        pads = _need(node, 1, "pads").reshape(-1).tolist()
        value = float(node.const(2).reshape(-1)[0]) if node.const(2) is not None else 0.0
        if node.has(3):
            raise Unsupported("Pad with axes")
    torch_mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}.get(mode)
    if torch_mode is None:
        raise Unsupported(f"Pad mode={mode}")
    half = len(pads) // 2
    if any(pads[i] or pads[i + half] for i in range(min(2, half))) and torch_mode != "constant":
        raise Unsupported(f"Pad mode={mode} over batch or channels")
    return Op(fn=functools.partial(_pad, pads=_torch_pads(pads), mode=torch_mode, value=value))


def _pad(x, *, pads, mode, value):
    if mode == "constant":
        return F.pad(x, pads, value=value)
    return F.pad(x, pads[: 2 * (x.dim() - 2)], mode=mode)


@handles("Cast")
def cast(node: Node) -> Op:
    dtype = onnx.helper.tensor_dtype_to_np_dtype(node.attrs["to"])
    target = torch.from_numpy(np.zeros(0, dtype)).dtype
    return Op(fn=functools.partial(_cast, dtype=target))


def _cast(x, *, dtype):
    return x.to(dtype)


@handles("ReduceMean", "ReduceMax")
def reduce(node: Node) -> Op:
    axes = node.attrs.get("axes")
    if axes is None and node.has(1):
        axes = _need(node, 1, "axes").reshape(-1).tolist()
    if axes is None or not axes:
        raise Unsupported(f"{node.op} over every axis")
    keep = bool(node.attrs.get("keepdims", 1))
    fn = _mean if node.op == "ReduceMean" else _amax
    return Op(fn=functools.partial(fn, axes=[int(a) for a in axes], keep=keep))


def _mean(x, *, axes, keep):
    return torch.mean(x, axes, keepdim=keep)


def _amax(x, *, axes, keep):
    return torch.amax(x, axes, keepdim=keep)
