"""LayerGraph: the typed layer graph every view, table and export reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

EDGE_KINDS = ("data", "residual", "branch", "concat", "gate", "skip", "index")
# When edges of several kinds fold into one, the most specific kind wins.
KIND_PRIORITY = {"data": 0, "branch": 1, "concat": 2, "gate": 3, "residual": 4, "skip": 5,
                 "index": 6}


@dataclass
class LayerGraph:
    """``nx`` holds the graph. Nodes carry ``path``, ``op``, ``kind`` (module, function,
    input, output, block), ``in_shapes``, ``out_shape``, ``params``, ``attrs`` and ``order``
    (call order), ``flops`` (FlopCounterMode's count for that call) and ``trainable``;
    edges carry ``kind`` (one of EDGE_KINDS) and ``shape``. ``modules`` maps
    every module path to its class name, so folded blocks can be named; ``unused`` lists
    modules with parameters the traced forward never called (GoogLeNet's auxiliary heads
    in eval mode), so totals still account for every parameter."""

    nx: nx.DiGraph
    model: str
    input_shape: tuple[int, ...]
    modules: dict[str, str] = field(default_factory=dict)
    unused: dict[str, tuple[int, int]] = field(default_factory=dict)  # path: (params, trainable)
    dtype: str = "float32"

    def __len__(self) -> int:
        return self.nx.number_of_nodes()

    def nodes(self, op: str | None = None) -> list[str]:
        """Node ids in call order, optionally only those of one op."""
        items = sorted(self.nx.nodes(data=True), key=lambda kv: kv[1]["order"])
        return [n for n, d in items if op is None or d["op"] == op]

    def edges(self, kind: str | None = None) -> list[tuple[str, str]]:
        return [(u, v) for u, v, d in self.nx.edges(data=True) if kind is None or d["kind"] == kind]

    def node(self, node_id: str) -> dict[str, Any]:
        return self.nx.nodes[node_id]

    def edge_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(EDGE_KINDS, 0)
        for _, _, kind in self.nx.edges(data="kind"):
            counts[kind] += 1
        return counts

    def hierarchy(self, node_id: str) -> list[str]:
        """The module-path components a node sits under, ending with its own name."""
        data = self.nx.nodes[node_id]
        if data["kind"] in ("input", "output"):
            return [node_id]
        if data["kind"] == "module":
            parts = data["path"].split(".")
            return parts[:-1] + [node_id.split(".")[-1]]
        scope = data["scope"].split(".") if data["scope"] else []
        return scope + [node_id.split(".")[-1]]

    def resolve(self, name: str) -> str:
        """A node id for ``name``: a node id itself, or a block's module path (then the
        block's last node, whose output is the block's output)."""
        if name in self.nx:
            return name
        if name in self.modules:
            inside = [n for n in self.nx if n.startswith(name + ".")]
            if inside:
                return max(inside, key=lambda n: self.nx.nodes[n]["order"])
        import difflib

        close = difflib.get_close_matches(name, list(self.nx), n=4, cutoff=0.5)
        raise KeyError(f"no layer {name!r} in {self.model}"
                       + (f"; did you mean {', '.join(close)}?" if close else ""))

    @property
    def max_depth(self) -> int:
        return max((len(self.hierarchy(n)) for n in self.nx), default=1)
