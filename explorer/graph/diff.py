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

import math
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

import numpy as np

from .layergraph import LayerGraph
from .style import category, motif_text

STATUSES = ("same", "changed", "only_a", "only_b")
WEIGHTED = ("conv", "linear", "upsample")

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
    matched = {order_a[i]: order_b[j] for i, j in _align(_features(a, order_a),
                                                          _features(b, order_b))}
    how = {x: "name" if x == y else "structure" for x, y in matched.items()}
    back = {y: x for x, y in matched.items()}
    nodes = _node_diffs(a, b, order_a, order_b, matched, back, how)
    edges = _edge_diffs(a, b, matched, back)
    return GraphDiff(a, b, nodes, edges, _block_deltas(a, b, matched), matched, back)


# --- matching ------------------------------------------------------------------------
# One alignment of the two call orders that maximises a likeness score. An agreeing
# module path is a bonus, not a rule: VGG's ``features.19`` is a different layer in
# VGG-16 and VGG-19, and U-Net's ``enc2.pool`` is SegNet's ``enc1.pool``, while ResNet-50
# v1 and v1.5 agree name for name. Likeness compares what a layer is (operator,
# category), what it holds (parameters) and where it sits (exact shapes, and the scale
# and width of its output, which survive a different input size). The dynamic programme
# runs on numpy rows, so DenseNet-201 against DenseNet-169 fully expanded (713 x 601
# layers) takes a small fraction of a second.

NAME_BONUS = 2
_MAX_CELLS = 4_000_000  # above this, difflib's runs of equal layers split the problem


_FLAGS = ("weighted", "io", "folded")


@dataclass
class _Features:
    """Per node of one graph, codes that compare equal exactly where the nodes agree."""

    names: list[str]
    codes: dict[str, np.ndarray]


def _cat(d: dict) -> str:
    return "block" if d.get("folded") else category(d)


def _scale(g: LayerGraph, d: dict) -> int:
    """log2 of how much smaller than the input the node's output is (-99 where not a map)."""
    shape, inp = tuple(d.get("out_shape", ())), g.input_shape
    if len(shape) != 4 or len(inp) != 4 or not shape[2]:
        return -99
    return round(math.log2(max(inp[2], 1) / shape[2]))


def _features(g: LayerGraph, order: list[str]) -> _Features:
    rows = []
    for n in order:
        d = g.node(n)
        cat = _cat(d)
        io = d["kind"] in ("input", "output")
        shape = tuple(d.get("out_shape", ()))
        rows.append({
            "name": n, "op": d["kind"] if io else d["op"], "cat": d["kind"] if io else cat,
            "out": shape, "in": tuple(tuple(s) for s in d.get("in_shapes", ())),
            "params": d.get("params", 0), "scale": _scale(g, d),
            "width": shape[1] if len(shape) > 1 else -1,
            "weighted": cat in WEIGHTED + ("block",), "io": io,
            "folded": bool(d.get("folded"))})
    codes = {}
    for key in ("name", "op", "cat", "out", "in", "params", "scale", "width", "weighted", "io",
                "folded"):
        codes[key] = [r[key] for r in rows]
    return _Features(order, codes)


def _encode(fa: _Features, fb: _Features) -> tuple[dict, dict]:
    """Both graphs' features as integer arrays over one shared vocabulary per key."""
    ca, cb = {}, {}
    for key in fa.codes:
        if key in _FLAGS:  # kept as they are: the scores read them as booleans
            ca[key], cb[key] = np.array(fa.codes[key], bool), np.array(fb.codes[key], bool)
            continue
        vocab: dict = {}
        ca[key] = np.array([vocab.setdefault(v, len(vocab)) for v in fa.codes[key]])
        cb[key] = np.array([vocab.setdefault(v, len(vocab)) for v in fb.codes[key]])
    return ca, cb


def _scores(ca: dict, cb: dict) -> np.ndarray:
    """How alike every node of A is to every node of B (0: never pair them)."""
    def same(key: str) -> np.ndarray:
        return ca[key][:, None] == cb[key][None, :]

    io_a, io_b = ca["io"][:, None], cb["io"][None, :]
    same_op, same_cat = same("op"), same("cat")
    compatible = (same_op | same_cat) & ~(io_a ^ io_b)
    compatible &= ~(io_a & io_b) | same_cat
    where = (2 * same("out") + 2 * same("in") + same("params") + 2 * same("scale")
             + same("width") + NAME_BONUS * same("name"))
    alike = 4 + same_op + where
    # a folded block against the layer the other shows
    weak = ca["weighted"][:, None] & cb["weighted"][None, :] & same("scale")
    # one module path, a layer in one model and a block in the other (ResNet's shortcut:
    # zero padding in option A, a 1x1 conv with its BN in option B)
    folded = ca["folded"][:, None] | cb["folded"][None, :]
    renamed = same("name") & folded & ~(io_a | io_b)
    return np.where(compatible, alike,
                    np.where(renamed, 3 + NAME_BONUS,
                             np.where(weak, 1 + NAME_BONUS * same("name"), 0)))


def _align(fa: _Features, fb: _Features) -> list[tuple[int, int]]:
    n, m = len(fa.names), len(fb.names)
    if not n or not m:
        return []
    if n * m > _MAX_CELLS:
        return _split_align(fa, fb)
    ca, cb = _encode(fa, fb)
    return _best_alignment(_scores(ca, cb))


def _split_align(fa: _Features, fb: _Features) -> list[tuple[int, int]]:
    """Very long orders: difflib's runs of identical layers first, then the programme on
    what lies between them."""
    la = list(zip(*(fa.codes[k] for k in ("name", "op", "out", "params"))))
    lb = list(zip(*(fb.codes[k] for k in ("name", "op", "out", "params"))))
    out: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
        if tag == "equal":
            out.extend(zip(range(i1, i2), range(j1, j2)))
        elif i2 > i1 and j2 > j1:
            sub_a = _Features(fa.names[i1:i2], {k: v[i1:i2] for k, v in fa.codes.items()})
            sub_b = _Features(fb.names[j1:j2], {k: v[j1:j2] for k, v in fb.codes.items()})
            if (i2 - i1) * (j2 - j1) > _MAX_CELLS:  # nothing alike to split on: in order
                out.extend((i1 + k, j1 + k) for k in range(min(i2 - i1, j2 - j1)))
                continue
            ca, cb = _encode(sub_a, sub_b)
            out.extend((i1 + i, j1 + j) for i, j in _best_alignment(_scores(ca, cb)))
    return out


def _best_alignment(score: np.ndarray) -> list[tuple[int, int]]:
    """Index pairs, increasing in both, that maximise the summed score (gaps cost 0).
    best[i, j] is the best total of A[i:] against B[j:]; a row is a suffix maximum."""
    n, m = score.shape
    best = np.zeros((n + 1, m + 1), dtype=np.int64)
    for i in range(n - 1, -1, -1):
        below = best[i + 1]
        take = np.where(score[i] > 0, score[i] + below[1:], 0)
        best[i, :m] = np.maximum.accumulate(np.maximum(take, below[:m])[::-1])[::-1]
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        s = score[i, j]
        if s and best[i, j] == s + best[i + 1, j + 1]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i, j] == best[i + 1, j]:
            i += 1
        else:
            j += 1
    return pairs


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
