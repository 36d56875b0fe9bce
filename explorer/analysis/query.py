"""Find layers by name, type or attribute: a small query language.

Words separated by spaces must all hold. A word is either a comparison
``key OP value`` (OP one of = != > >= < <=) or plain text, matched case-insensitively
as a substring of a layer's name, its type or the caption its box shows ("7×1 conv";
``x`` stands for ``×``):

    groups>1            grouped and depthwise convolutions
    kernel=5            5×5 kernels (``kernel=1x7`` for a 1×7 one)
    type=Conv2d stride=2  strided convolutions
    params>1000000 layer4
    inception           the blocks whose type or folded box says so ("inception: 4 branches")
    type=Inception      InceptionA…E: a type matches its lettered or numbered variants

Keys are the traced attributes (``in_channels``, ``kernel_size``, ``groups``, ``p``…)
with short aliases (``kernel``, ``in``, ``out``, ``type``, ``name``), plus ``params`` and
``macs``. A tuple attribute (a 7×7 kernel) satisfies a single value when every element
does. Given a LayerGraph (not only its networkx graph), a query of plain words and
``type`` also finds blocks (modules with layers inside, as the folded view draws them) by
their type and caption; a block is a hit only where none of its layers is (the most
specific match wins). Nothing here imports torch: the graph's node data is enough.
"""

from __future__ import annotations

import operator
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx

if TYPE_CHECKING:
    from ..graph.layergraph import LayerGraph

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
    word: str = ""  # as typed, for messages

    def holds(self, node: str, data: dict[str, Any]) -> bool:
        if not self.key:
            text = self.value.lower().replace("x", "×")
            seen = [str(data.get("op", "")), _caption(data)]
            if data.get("kind") != "block":  # a block's name is its layers' prefix
                seen.append(node)
            return any(text in s.lower().replace("x", "×") for s in seen)
        have = _value_of(self.key, node, data)
        if have is None:
            return False
        compare = _OPS[self.op]
        if self.key == "op" and self.op in ("=", "!=") and isinstance(self.value, str):
            return _is_variant(str(have), self.value) == (self.op == "=")
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


def _is_variant(op: str, wanted: str) -> bool:
    """``InceptionA`` is a variant of ``Inception`` (a letter or a number after it)."""
    if op.lower() == wanted.lower():
        return True
    rest = op[len(wanted):]
    return op.lower().startswith(wanted.lower()) and re.fullmatch(r"[A-Z]|\d+", rest) is not None


def _caption(data: dict[str, Any]) -> str:
    """What the node's box reads first: a block's caption, a layer's "3×3 conv, 64"."""
    from ..graph.describe import op_caption

    return data.get("caption") or ("" if data.get("kind") == "block" else op_caption(data))


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
        if text and text[0] in "<>=!":
            raise QueryError(f"{word!r}: one comparison per word, e.g. {key}{op}3")
        value = _literal(text, word)
        if op in (">", ">=", "<", "<=") and isinstance(value, str):
            raise QueryError(f"{word!r}: {op} needs a number, e.g. {key}{op}1")
        conditions.append(Condition(ALIASES.get(key.lower(), key), op, value, word))
    return conditions


KNOWN = {"name", "op", "params", "macs"}


def check_keys(g: nx.DiGraph, conditions: list[Condition], query: str) -> None:
    """QueryError naming a key no layer of ``g`` has (``colour=red`` found 0 with no
    hint of the syntax)."""
    keys = _KEYS.get(g)
    if keys is None:
        keys = set(KNOWN)
        for _, data in g.nodes(data=True):
            keys.update((data.get("attrs") or {}).keys())
        _KEYS[g] = keys
    for c in conditions:
        if c.key and c.key not in keys:
            common = [k for k in ("kernel", "stride", "groups", "in", "out", "params",
                                  "type", "name") if ALIASES.get(k, k) in keys]
            raise QueryError(f"{c.word!r}: no layer here has {c.key!r}; try "
                             f"{', '.join(common)} (e.g. groups>1 kernel=3 type=Conv2d)")


_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def find(graph: LayerGraph | nx.DiGraph, query: str) -> list[str]:
    """Node ids (in call order) matching every condition of ``query``; the graph's
    input and output nodes never match an attribute. Given a LayerGraph, blocks matched
    by their type or caption come too (module paths, where none of their layers is a hit)."""
    conditions = parse(query)
    if not conditions:
        return []
    g = graph if isinstance(graph, nx.DiGraph) else graph.nx
    check_keys(g, conditions, query)
    hits = []
    for node in sorted(g, key=lambda n: g.nodes[n]["order"]):
        data = g.nodes[node]
        if data.get("kind") in ("input", "output") and any(c.key for c in conditions):
            continue
        if all(c.holds(node, data) for c in conditions):
            hits.append(node)
    if g is graph or any(c.key not in ("", "op") for c in conditions):
        return hits
    covered = set(hits)
    every_block = _blocks(graph)
    blocks = []
    for path, data in sorted(every_block.items(), key=lambda b: -b[0].count(".")):
        if covered.isdisjoint(data["members"]) and all(c.holds(path, data)
                                                       for c in conditions):
            blocks.append(path)  # innermost first: an outer block holding it is covered
            covered.update(data["members"])
    order = {n: g.nodes[n]["order"] for n in hits}
    order.update({b: every_block[b]["order"] for b in blocks})
    return sorted(order, key=order.__getitem__)


_BLOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _blocks(graph: LayerGraph) -> dict[str, dict[str, Any]]:
    """Every block of ``graph`` as its folded node: type, caption, members (kept per graph:
    Find runs on each key press)."""
    from ..graph.fold import FoldSpec, fold

    if graph.nx not in _BLOCKS:
        blocks: dict[str, dict[str, Any]] = {}
        depth = max((len(graph.hierarchy(n)) for n in graph.nx), default=1)
        for level in range(1, depth):
            view = fold(graph, FoldSpec(depth=level)).nx
            blocks.update({n: d for n, d in view.nodes(data=True)
                           if d.get("folded") and n not in blocks})
        _BLOCKS[graph.nx] = blocks
    return _BLOCKS[graph.nx]
