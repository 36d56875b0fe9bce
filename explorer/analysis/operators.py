"""What an operator does, in a sentence or two, and which lesson shows it: the table in
``resources/operators.json``, matched by the op's class or function name (a conv's
depthwise, grouped and pointwise variants told apart by its attributes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..assets import resource


@dataclass(frozen=True)
class Operator:
    key: str
    title: str
    text: str
    lesson: str | None


@cache
def operators() -> list[Operator]:
    return [Operator(item["key"], item["title"], item["text"], item.get("lesson"))
            for item in _operator_table()]


@cache
def _operator_table() -> list[dict[str, Any]]:
    return json.loads(resource("operators.json").read_text())


def conv_variant(attrs: dict[str, Any]) -> str | None:
    """depthwise (one filter per channel), grouped, pointwise (1×1) or None (standard)."""
    groups = int(attrs.get("groups", 1) or 1)
    if groups > 1:
        return "depthwise" if groups == attrs.get("in_channels") else "grouped"
    kernel = attrs.get("kernel_size")
    if kernel is not None and all(int(k) == 1 for k in (
            kernel if isinstance(kernel, (tuple, list)) else (kernel,))):
        return "pointwise"
    return None


def operator_for(op: str, attrs: dict[str, Any]) -> Operator | None:
    """The description of ``op`` (a class or function name) with these attributes; the
    table lists a conv's variants (``when``) before the standard convolution."""
    variant = conv_variant(attrs) if "conv" in op.lower() and "Transpose" not in op else None
    for item, described in zip(_operator_table(), operators(), strict=True):
        if op in item["ops"] and item.get("when") in (None, variant):
            return described
    return None


def operator_named(key: str) -> Operator:
    return next(o for o in operators() if o.key == key)
