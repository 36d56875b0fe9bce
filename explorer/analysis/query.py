"""Find layers by name, type or attribute: a small query language.

Words separated by spaces must all hold. A word is either a comparison
``key OP value`` (OP one of = != > >= < <=) or plain text, matched case-insensitively
as a substring of the node's name or type (what Find always did):

    groups>1            grouped and depthwise convolutions
    kernel=5            5×5 kernels (``kernel=1x7`` for a 1×7 one)
    type=Conv2d stride=2  strided convolutions
    params>1000000 layer4

Keys are the traced attributes (``in_channels``, ``kernel_size``, ``groups``, ``p``…)
with short aliases (``kernel``, ``in``, ``out``, ``type``, ``name``), plus ``params`` and
``macs``. A tuple attribute (a 7×7 kernel) satisfies a single value when every element
does. Nothing here imports torch: the graph's node data is enough.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx

ALIASES = {"kernel": "kernel_size", "k": "kernel_size", "in": "in_channels",
           "out": "out_channels", "type": "op", "op": "op", "name": "name",
           "features": "out_features", "dropout": "p"}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, "<=": operator.le, "!=": operator.ne, "=": operator.eq,
    ">": operator.gt, "<": operator.lt}
_WORD = re.compile(r"^([A-Za-z_][\w.]*)\s*(>=|<=|!=|==|=|>|<)\s*(.*)$")


class QueryError(ValueError):
    """A query that cannot be read; the message says which word and why."""


@dataclass(frozen=True)
class Condition:
    key: str  # an attribute, "op", "name", "params" or "macs"; "" for plain text
    op: str
    value: Any

    def holds(self, node: str, data: dict[str, Any]) -> bool:
        if not self.key:
            text = self.value.lower()
            return text in node.lower() or text in str(data.get("op", "")).lower()
        have = _value_of(self.key, node, data)
        if have is None:
            return False
        compare = _OPS[self.op]
        if isinstance(self.value, str) or isinstance(have, str):
            return compare(str(have).lower(), str(self.value).lower())
        if isinstance(self.value, tuple):
            have = have if isinstance(have, tuple) else (have,) * len(self.value)
            return compare(tuple(have), self.value)
        items = have if isinstance(have, tuple) else (have,)
        try:
            return all(compare(float(v), float(self.value)) for v in items)
        except (TypeError, ValueError):
            return False


def _value_of(key: str, node: str, data: dict[str, Any]) -> Any:
    if key == "name":
        return node
    if key == "op":
        return data.get("op")
    if key == "params":
        return data.get("params", 0)
    if key == "macs":
        return data.get("flops", 0) // 2
    value = (data.get("attrs") or {}).get(key)
    return tuple(value) if isinstance(value, list) else value


def _literal(text: str, word: str) -> Any:
    if not text:
        raise QueryError(f"{word!r}: a value is missing after the comparison")
    low = text.lower()
    if low in ("true", "false", "yes", "no"):
        return low in ("true", "yes")
    parts = re.split(r"[x×,]", text.strip("()[] "))
    try:
        numbers = [float(p) if "." in p or "e" in p.lower() else int(p) for p in parts]
    except ValueError:
        return text
    return numbers[0] if len(numbers) == 1 else tuple(numbers)


def parse(query: str) -> list[Condition]:
    """The conditions of ``query``; QueryError on a comparison without a value."""
    conditions = []
    for word in query.split():
        match = _WORD.match(word)
        if match is None:
            conditions.append(Condition("", "", word))
            continue
        key, op, text = match.groups()
        op = "=" if op == "==" else op
        conditions.append(Condition(ALIASES.get(key.lower(), key), op, _literal(text, word)))
    return conditions


def find(graph: nx.DiGraph, query: str) -> list[str]:
    """Node ids (in call order) matching every condition of ``query``; the graph's
    input and output nodes never match an attribute."""
    conditions = parse(query)
    if not conditions:
        return []
    hits = []
    for node in sorted(graph, key=lambda n: graph.nodes[n]["order"]):
        data = graph.nodes[node]
        if data.get("kind") in ("input", "output") and any(c.key for c in conditions):
            continue
        if all(c.holds(node, data) for c in conditions):
            hits.append(node)
    return hits
