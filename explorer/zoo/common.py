"""Small pieces several families share."""

from __future__ import annotations

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from .registry import Option

# In-place initialisers: the tensor methods the nn.init functions end in, and the nn.init
# functions that dispatch as themselves.
_INIT = frozenset(
    [getattr(torch.Tensor, name) for name in (
        "normal_", "uniform_", "fill_", "zero_", "random_", "bernoulli_", "exponential_",
        "geometric_", "log_normal_", "cauchy_", "erfinv_")]
    + [getattr(nn.init, name) for name in dir(nn.init)
       if name.endswith("_") and not name.startswith("_")])


class SkipInitOnMeta(TorchFunctionMode):
    """Skip weight initialisation of meta tensors: it has no data to fill, yet torch runs
    ``normal_`` there through its reference implementations, whose first use imports
    torch._dynamo (about 1 s on the first model built). Other tensors initialise as usual;
    the mode is thread-local, so other threads are not affected."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in _INIT and args and isinstance(args[0], torch.Tensor) and args[0].is_meta:
            return args[0]
        return func(*args, **(kwargs or {}))


def num_classes(default: int = 1000) -> Option:
    return Option("num_classes", int, default, "number of output classes", min=1, max=100_000)


def dropout(default: float) -> Option:
    return Option("dropout", float, default, "dropout probability before the classifier",
                  min=0.0, max=1.0)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to a multiple of ``divisor``, never below 90% of it (MobileNet)."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new
