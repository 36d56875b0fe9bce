"""The structural difference of two layer graphs, at whatever fold level they are shown.

Nodes are matched by one alignment of the two call orders (see "matching" below):
a module path both views have is a strong hint (the zoo's variants share torchvision's
names), the rest is structure: operator, category, parameters, shapes, and the scale
and width of each output. At a fold level a folded block is one unit, so a ResNet
bottleneck lines up with a MobileNet v2 inverted residual block.

Every node and edge is then ``same``, ``changed`` (with what changed: operator, kernel,
stride, channels, groups, parameters, output shape...), ``only_a`` or ``only_b``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diff_align import align
from .layergraph import LayerGraph
from .style import motif_text

STATUSES = ("same", "changed", "only_a", "only_b")

# attribute -> where it is read from a node (the layer's constructor attributes)
_ATTR_KEYS = {"kernel": "kernel_size", "stride": "stride", "padding": "padding",
              "dilation": "dilation", "groups": "groups"}
_CHANNEL_KEYS = (("in_channels", "out_channels"), ("in_features", "out_features"),
                 ("num_features", "num_features"))


@dataclass(frozen=True)
class NodeDiff:
    """One node of either graph: ``a`` and ``b`` are its ids (None where absent);
    ``changes`` maps an attribute to its (value in A, value in B)."""

    a: str | None
    b: str | None
    status: str
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    how: str = ""  # "name" or "structure" for a matched pair


@dataclass(frozen=True)
class EdgeDiff:
    a: tuple[str, str] | None
    b: tuple[str, str] | None
    status: str
    kind: str  # A's kind where A has the edge, else B's
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class BlockDelta:
    """A matched block (a folded node, or a top-level module both graphs have): its
    parameters and MACs in each graph."""

    a: str
    b: str
    params: tuple[int, int]
    macs: tuple[int, int]

    @property
    def params_delta(self) -> int:
        return self.params[1] - self.params[0]

    @property
    def macs_delta(self) -> int:
        return self.macs[1] - self.macs[0]


@dataclass
class GraphDiff:
    a: LayerGraph
    b: LayerGraph
    nodes: list[NodeDiff]
    edges: list[EdgeDiff]
    blocks: list[BlockDelta]
    a_to_b: dict[str, str]
    b_to_a: dict[str, str]

    def totals(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for what, items in (("nodes", self.nodes), ("edges", self.edges)):
            counts[what] = dict.fromkeys(STATUSES, 0)
            for item in items:
                counts[what][item.status] += 1
        return counts

    def tally(self, status: str) -> str:
        """"3 layers, 4 connections": what carries ``status`` (a ReLU replacing an add
        changes connections, not layers, so both are counted)."""
        totals = self.totals()
        n, e = totals["nodes"][status], totals["edges"][status]
        return f"{n} layer{'s' * (n != 1)}, {e} connection{'s' * (e != 1)}"

    def node_status(self, side: str) -> dict[str, str]:
        """Node id in graph ``side`` ("a" or "b") -> its status."""
        return {getattr(d, side): d.status for d in self.nodes if getattr(d, side)}

    def edge_status(self, side: str) -> dict[tuple[str, str], str]:
        return {getattr(d, side): d.status for d in self.edges if getattr(d, side)}

    def differences(self) -> list[NodeDiff]:
        """The nodes that are not the same, in A's call order (B's extras where they sit)."""
        return [d for d in self.nodes if d.status != "same"]

    def node_for(self, side: str, node_id: str) -> NodeDiff | None:
        for d in self.nodes:
            if getattr(d, side) == node_id:
                return d
        return None

    def as_dict(self) -> dict[str, Any]:
        def plain(value):
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            return value

        return {
            "a": self.a.model, "b": self.b.model,
            "nodes": [{"a": d.a, "b": d.b, "status": d.status,
                       "changes": {k: plain(v) for k, v in d.changes.items()}}
                      for d in self.nodes],
            "edges": [{"a": plain(d.a), "b": plain(d.b), "status": d.status, "kind": d.kind,
                       "changes": {k: plain(v) for k, v in d.changes.items()}}
                      for d in self.edges],
            "blocks": [{"a": d.a, "b": d.b, "params": list(d.params), "macs": list(d.macs),
                        "params_delta": d.params_delta, "macs_delta": d.macs_delta}
                       for d in self.blocks],
            "totals": self.totals(),
        }


def diff(a: LayerGraph, b: LayerGraph) -> GraphDiff:
    """Match the nodes of two views (fold them first: a folded block is one unit) and say
    what differs in every node and edge."""
    order_a, order_b = a.nodes(), b.nodes()
    matched = align(a, order_a, b, order_b)
    how = {x: "name" if x == y else "structure" for x, y in matched.items()}
    back = {y: x for x, y in matched.items()}
    nodes = _node_diffs(a, b, order_a, order_b, matched, back, how)
    edges = _edge_diffs(a, b, matched, back)
    return GraphDiff(a, b, nodes, edges, _block_deltas(a, b, matched), matched, back)


# --- what differs ----------------------------------------------------------------------

def node_changes(da: dict, db: dict) -> dict[str, tuple[Any, Any]]:
    """What differs between two matched nodes, attribute by attribute."""
    changes: dict[str, tuple[Any, Any]] = {}

    def note(name: str, va, vb) -> None:
        if va != vb:
            changes[name] = (va, vb)

    note("operator", da["op"], db["op"])
    attrs_a, attrs_b = da.get("attrs", {}), db.get("attrs", {})
    for name, key in _ATTR_KEYS.items():
        if key in attrs_a or key in attrs_b:
            note(name, _plain(attrs_a.get(key)), _plain(attrs_b.get(key)))
    note("channels", _channels(da), _channels(db))
    note("parameters", da.get("params", 0), db.get("params", 0))
    note("output_shape", tuple(da.get("out_shape", ())), tuple(db.get("out_shape", ())))
    if da.get("folded") or db.get("folded"):
        note("inside", motif_text(da.get("motifs", {})) or "—",
             motif_text(db.get("motifs", {})) or "—")  # its shortcut, branches, links
        note("layers", len(da.get("members") or ()), len(db.get("members") or ()))
        note("MACs", da.get("flops", 0) // 2, db.get("flops", 0) // 2)
        note("repeats", da.get("count", 1), db.get("count", 1))
    return changes


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _channels(d: dict) -> tuple[int, int] | None:
    attrs = d.get("attrs", {})
    for i, o in _CHANNEL_KEYS:
        if i in attrs:
            return (attrs[i], attrs[o])
    return None


def _node_diffs(a: LayerGraph, b: LayerGraph, order_a: list[str], order_b: list[str],
                matched: dict[str, str], back: dict[str, str],
                how: dict[str, str]) -> list[NodeDiff]:
    """A's nodes in call order, each of B's unmatched nodes after the last matched node
    before it (so the list reads top to bottom in both diagrams)."""
    extra_after: dict[str | None, list[str]] = {}
    last = None
    for n in order_b:
        if n in back:
            last = back[n]
        else:
            extra_after.setdefault(last, []).append(n)
    out = [NodeDiff(None, n, "only_b") for n in extra_after.get(None, [])]
    for n in order_a:
        if n in matched:
            changes = node_changes(a.node(n), b.node(matched[n]))
            out.append(NodeDiff(n, matched[n], "changed" if changes else "same", changes,
                                how[n]))
        else:
            out.append(NodeDiff(n, None, "only_a"))
        out.extend(NodeDiff(None, m, "only_b") for m in extra_after.get(n, []))
    return out


def _edge_diffs(a: LayerGraph, b: LayerGraph, matched: dict[str, str],
                back: dict[str, str]) -> list[EdgeDiff]:
    out: list[EdgeDiff] = []
    seen_b: set[tuple[str, str]] = set()
    for u, v, da in sorted(a.nx.edges(data=True), key=lambda e: a.node(e[1])["order"]):
        mu, mv = matched.get(u), matched.get(v)
        if mu is not None and mv is not None and b.nx.has_edge(mu, mv):
            db = b.nx.edges[mu, mv]
            changes = {}
            if da["kind"] != db["kind"]:
                changes["kind"] = (da["kind"], db["kind"])
            if tuple(da.get("shape", ())) != tuple(db.get("shape", ())):
                changes["shape"] = (tuple(da.get("shape", ())), tuple(db.get("shape", ())))
            out.append(EdgeDiff((u, v), (mu, mv), "changed" if changes else "same",
                                da["kind"], changes))
            seen_b.add((mu, mv))
        else:
            out.append(EdgeDiff((u, v), None, "only_a", da["kind"]))
    for u, v, db in sorted(b.nx.edges(data=True), key=lambda e: b.node(e[1])["order"]):
        if (u, v) not in seen_b:
            out.append(EdgeDiff(None, (u, v), "only_b", db["kind"]))
    return out


def _block_deltas(a: LayerGraph, b: LayerGraph, matched: dict[str, str]) -> list[BlockDelta]:
    """Matched folded blocks, then the top-level modules both graphs have (ResNet's
    stages, DenseNet's features) summed over their layers."""
    out: dict[tuple[str, str], BlockDelta] = {}
    for x, y in matched.items():
        da, db = a.node(x), b.node(y)
        if da.get("folded") or db.get("folded"):
            out[x, y] = BlockDelta(x, y, (da["params"], db["params"]),
                                   (da["flops"] // 2, db["flops"] // 2))
    tops_a, tops_b = _top_sums(a), _top_sums(b)
    for top in tops_a:
        if top in tops_b and (top, top) not in out:
            (pa, fa), (pb, fb) = tops_a[top], tops_b[top]
            out[top, top] = BlockDelta(top, top, (pa, pb), (fa // 2, fb // 2))
    return list(out.values())


def _top_sums(g: LayerGraph) -> dict[str, tuple[int, int]]:
    """Top-level module -> (params, flops) of the nodes under it (only modules that hold
    more than one visible node: a single layer is already in the node list)."""
    sums: dict[str, list[int]] = {}
    for _, d in g.nx.nodes(data=True):
        if d["kind"] in ("input", "output"):
            continue
        top = d["path"].split(".")[0]
        if top not in g.modules:
            continue
        s = sums.setdefault(top, [0, 0, 0])
        s[0] += d.get("params", 0)
        s[1] += d.get("flops", 0)
        s[2] += 1
    return {k: (p, f) for k, (p, f, count) in sums.items() if count > 1}
