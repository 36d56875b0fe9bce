"""Small pieces several families share."""

from __future__ import annotations

from .registry import Option


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
