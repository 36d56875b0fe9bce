"""The few layers ONNX defines differently from torch.nn: each is the torch class it
resembles (same name, so diagrams, tables and motif classification read it as such) with
ONNX's semantics where they differ (asymmetric pads, flat pool indices, constants as
operands, coerced softmax)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _plane_offsets(x: torch.Tensor) -> torch.Tensor:
    """(n*C + c) * H*W for every plane of an (N, C, H, W) tensor."""
    n, c = x.shape[:2]
    planes = torch.arange(n * c, device=x.device, dtype=torch.int64).reshape(n, c, 1, 1)
    return planes * (x.shape[-2] * x.shape[-1])


class Conv2d(nn.Conv2d):
    """A convolution whose padding differs before and after (ONNX ``pads``)."""

    def __init__(self, *args, pre_pad: tuple[int, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pre_pad = pre_pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.pre_pad))


class MaxPool2d(nn.MaxPool2d):
    """ONNX's MaxPool: uneven pads (filled with -inf) and indices flat over the whole
    tensor, (n*C + c)*H*W + h*W + w, where torch's count within one plane."""

    def __init__(self, *args, pre_pad: tuple[int, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pre_pad = pre_pad

    def forward(self, x: torch.Tensor):
        if self.pre_pad:
            x = F.pad(x, self.pre_pad, value=float("-inf"))
        out = super().forward(x)
        if self.return_indices:
            values, indices = out
            return values, indices + _plane_offsets(x)
        return out


class MaxUnpool2d(nn.MaxUnpool2d):
    """ONNX's MaxUnpool, reading the flat indices MaxPool2d above writes."""

    def __init__(self, *args, output_size: tuple[int, ...] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.output_size = output_size

    def forward(self, x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        size = self.output_size or tuple(
            (x.shape[i + 2] - 1) * self.stride[i] - 2 * self.padding[i] + self.kernel_size[i]
            for i in range(2))
        planes = torch.arange(x.shape[0] * x.shape[1], device=x.device,
                              dtype=torch.int64).reshape(x.shape[0], x.shape[1], 1, 1)
        local = indices - planes * (size[-2] * size[-1])
        return F.max_unpool2d(x, local, self.kernel_size, self.stride, self.padding,
                              output_size=size[-2:])


class AvgPool2d(nn.AvgPool2d):
    """ONNX's AveragePool with uneven pads: zeros padded first, and when the pads are not
    counted (``count_include_pad=0``) each window is divided by its real elements."""

    def __init__(self, *args, pre_pad: tuple[int, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pre_pad = pre_pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.pre_pad:
            return super().forward(x)
        if self.count_include_pad:
            return super().forward(F.pad(x, self.pre_pad))
        total = F.avg_pool2d(F.pad(x, self.pre_pad), self.kernel_size, self.stride, 0,
                             self.ceil_mode, True, divisor_override=1)
        ones = torch.ones((1, 1, *x.shape[2:]), device=x.device, dtype=x.dtype)
        count = F.avg_pool2d(F.pad(ones, self.pre_pad), self.kernel_size, self.stride, 0,
                             self.ceil_mode, True, divisor_override=1)
        return total / count


class _FlattenedAtDim:
    """Before opset 13 ONNX's Softmax and LogSoftmax work on the input flattened to 2-D
    at ``dim`` (``coerce``); from 13 on, along ``dim`` alone, as torch's do."""

    def __init__(self, dim: int, coerce: bool = False) -> None:
        super().__init__(dim)
        self.coerce = coerce

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.coerce:
            return super().forward(x)
        return super().forward(x.reshape(*x.shape[: self.dim], -1)).reshape(x.shape)


class Softmax(_FlattenedAtDim, nn.Softmax):
    pass


class LogSoftmax(_FlattenedAtDim, nn.LogSoftmax):
    pass


class HardSigmoid(nn.Module):
    """max(0, min(1, alpha*x + beta)): torch's Hardsigmoid is alpha=1/6 only."""

    def __init__(self, alpha: float, beta: float) -> None:
        super().__init__()
        self.alpha, self.beta = alpha, beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x * self.alpha + self.beta, 0.0, 1.0)


class _WithConstant(nn.Module):
    """An elementwise op with one operand stored in the file: a weight (Caffe2 splits
    batch norm into Mul and Add by per-channel constants). Constants of more than one
    element are parameters; a scalar is a buffer."""

    def __init__(self, constant: torch.Tensor, constant_first: bool) -> None:
        super().__init__()
        if constant.numel() > 1:
            self.constant = nn.Parameter(constant)
        else:
            self.register_buffer("constant", constant)
        self.constant_first = constant_first

    def combine(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.constant
        if x.is_meta:  # tracing wants the shape alone; torch's meta kernels for a
            # broadcast are slow Python references (Caffe2's DenseNet has 242 of these)
            return torch.empty(torch.broadcast_shapes(x.shape, c.shape), device="meta",
                               dtype=torch.result_type(x, c))
        return self.combine(c, x) if self.constant_first else self.combine(x, c)


class Add(_WithConstant):
    def combine(self, a, b):
        return a + b


class Sub(_WithConstant):
    def combine(self, a, b):
        return a - b


class Mul(_WithConstant):
    def combine(self, a, b):
        return a * b


class Div(_WithConstant):
    def combine(self, a, b):
        return a / b


WITH_CONSTANT = {"Add": Add, "Sub": Sub, "Mul": Mul, "Div": Div}
