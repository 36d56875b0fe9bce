"""The model at a glance: totals, how many of each op, depth, input and output, the
weights in use (the Model info panel and ``explorer info``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx

from .summary import family

if TYPE_CHECKING:
    from ..graph.layergraph import LayerGraph
    from .summary import LayerTable


@dataclass
class ModelOverview:
    model: str
    input_shapes: list[tuple[int, ...]]
    output_shapes: list[tuple[int, ...]]
    total: dict[str, int]
    op_counts: dict[str, int]  # op type: calls, most frequent first
    weight_depth: int  # conv and linear layers on the longest path (ResNet-18: 18)
    module_depth: int  # nesting levels of the module tree
    nodes: int
    weights: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def weight_depth(g: nx.DiGraph) -> int:
    """The most conv/linear layers any input-to-output path goes through."""
    best: dict[str, int] = {}
    for n in nx.topological_sort(g):
        data = g.nodes[n]
        own = int(family(data["op"]) in ("conv", "linear") and data.get("flops", 0) > 0)
        best[n] = own + max((best[p] for p in g.predecessors(n)), default=0)
    return max(best.values(), default=0)


def overview(graph: LayerGraph, table: LayerTable, weights: str = "random init") -> ModelOverview:
    g = graph.nx
    ends = {kind: [tuple(d["out_shape"]) for _, d in sorted(g.nodes(data=True),
                                                           key=lambda kv: kv[1]["order"])
                   if d["kind"] == kind] for kind in ("input", "output")}
    ops = Counter(d["op"] for _, d in g.nodes(data=True) if d["kind"] not in ("input", "output"))
    return ModelOverview(graph.model, ends["input"], ends["output"], dict(table.total),
                         dict(ops.most_common()), weight_depth(g), graph.max_depth,
                         g.number_of_nodes(), weights)
