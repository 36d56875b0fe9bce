"""Views of a LayerGraph at any depth of the module tree.

A folded block (a Bottleneck, an Inception module, a dense block, a U-Net level) becomes
one node with the block's in/out shapes and parameter total; edges between blocks keep
their kind. A structured edge (residual, branch, concat, skip) stays structured only
while the structure it belongs to is still visible: a residual whose whole long path now
sits inside one folded block is, at that level, just the block's input.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import networkx as nx

from .describe import block_caption
from .layergraph import KIND_PRIORITY, LayerGraph
from .style import category

# Node and edge budget of the default view: what a person can read without zooming.
DEFAULT_MAX_NODES = 90
DEFAULT_MAX_EDGES = 180


@dataclass(frozen=True)
class FoldSpec:
    """Which blocks are folded. ``depth`` None shows every layer; blocks in ``expand`` are
    open below ``depth``; blocks in ``collapse`` are folded whatever the depth."""

    depth: int | None = None
    expand: frozenset[str] = field(default_factory=frozenset)
    collapse: frozenset[str] = field(default_factory=frozenset)
    repeats: bool = False

    def toggled(self, block: str, parent: str | None = None) -> FoldSpec:
        """The spec after a double-click: unfold ``block`` if folded, else fold ``parent``."""
        if parent is None:
            return FoldSpec(self.depth, self.expand | {block}, self.collapse - {block},
                            self.repeats)
        return FoldSpec(self.depth, self.expand - {parent}, self.collapse | {parent},
                        self.repeats)


def group_of(hierarchy: list[str], spec: FoldSpec) -> str | None:
    """The folded block a node belongs to under ``spec``, or None when it is visible."""
    for k in range(1, len(hierarchy)):
        prefix = ".".join(hierarchy[:k])
        if prefix in spec.collapse:
            return prefix
        if spec.depth is not None and k >= spec.depth and prefix not in spec.expand:
            return prefix
    return None


def fold(graph: LayerGraph, spec: FoldSpec | None = None) -> LayerGraph:
    spec = spec or FoldSpec()
    g = graph.nx
    group = {n: group_of(graph.hierarchy(n), spec) or n for n in g}
    view = nx.DiGraph()
    members: dict[str, list[str]] = {}
    for n in sorted(g, key=lambda n: g.nodes[n]["order"]):
        members.setdefault(group[n], []).append(n)
    for gid, nodes in members.items():
        if len(nodes) == 1 and nodes[0] == gid:
            view.add_node(gid, **g.nodes[gid])
        else:
            view.add_node(gid, **_block_attrs(graph, gid, nodes, group))
    _fold_edges(graph, view, group)
    for gid in members:
        if view.nodes[gid].get("folded"):
            view.nodes[gid]["caption"] = _caption(graph, view, gid)
    if spec.repeats:
        _merge_repeats(view, spec)
    return LayerGraph(view, graph.model, graph.input_shape, graph.modules, graph.unused,
                      graph.dtype)


def _block_attrs(graph: LayerGraph, gid: str, nodes: list[str], group: dict) -> dict:
    g = graph.nx
    inputs = [d["shape"] for u, v, d in g.in_edges(nodes, data=True) if group[u] != gid]
    exits = [u for u, v in g.out_edges(nodes) if group[v] != gid] or nodes[-1:]
    last = max(exits, key=lambda n: g.nodes[n]["order"])
    return dict(path=gid, op=graph.modules.get(gid, "block"), kind="block", folded=True,
                tone=_tone(g, nodes), scope=gid, order=g.nodes[nodes[0]]["order"], members=nodes,
                params=sum(g.nodes[n]["params"] for n in nodes),
                trainable=sum(g.nodes[n]["trainable"] for n in nodes),
                flops=sum(g.nodes[n]["flops"] for n in nodes),
                in_shapes=list(dict.fromkeys(tuple(s) for s in inputs)),
                out_shape=g.nodes[last]["out_shape"], out_shapes=g.nodes[last]["out_shapes"],
                attrs={"layers": len(nodes)}, count=1)


def _tone(g: nx.DiGraph, nodes: list[str]) -> str:
    """The colour of a folded block: its one weighted layer's (a conv-BN-ReLU reads as the
    conv its caption names), else "block"."""
    kinds = [(category(g.nodes[n]), g.nodes[n]["params"]) for n in nodes]
    weighted = [k for k, params in kinds if params and k in ("conv", "linear", "upsample")]
    merges = any(k == "merge" for k, _ in kinds)
    return weighted[0] if len(weighted) == 1 and not merges else "block"


def _caption(graph: LayerGraph, view: nx.DiGraph, gid: str) -> str:
    d = view.nodes[gid]
    members = d["members"]
    depth = gid.count(".") + 1
    children = {graph.nx.nodes[n]["path"].split(".")[depth] for n in members
                if graph.nx.nodes[n]["params"] and graph.nx.nodes[n]["kind"] == "module"
                and graph.nx.nodes[n]["path"].count(".") >= depth}
    in_shape = d["in_shapes"][0] if d["in_shapes"] else ()
    return block_caption(graph.nx, members, d.get("motifs", {}), tuple(in_shape),
                         tuple(d["out_shape"]), len(children))


def _fold_edges(graph: LayerGraph, view: nx.DiGraph, group: dict[str, str]) -> None:
    g = graph.nx
    ordered = sorted(g, key=lambda n: g.nodes[n]["order"])
    orders = [g.nodes[n]["order"] for n in ordered]
    groups = [group[n] for n in ordered]
    run_end = [0] * len(groups)  # last index of the run of equal groups starting here
    for i in range(len(groups) - 1, -1, -1):
        same = i + 1 < len(groups) and groups[i + 1] == groups[i]
        run_end[i] = run_end[i + 1] if same else i

    def visible(data: dict, target_group: str) -> bool:
        """Does the structure this edge belongs to reach outside the target block?"""
        first = bisect.bisect_right(orders, data["lo"])
        last = bisect.bisect_left(orders, data["hi"]) - 1
        if first > last:
            return False
        return groups[first] != target_group or run_end[first] < last

    def add_motif(gid: str, data: dict) -> None:
        """Remember a structure hidden inside a folded block (its shortcut, branches...)."""
        motifs = view.nodes[gid].setdefault("motifs", {})
        motifs[data["kind"]] = motifs.get(data["kind"], 0) + 1
        for kind in ("projection", "padded"):
            if data.get(kind):
                motifs[kind] = motifs.get(kind, 0) + 1

    for u, v, data in g.edges(data=True):
        gu, gv = group[u], group[v]
        kind = data["kind"]
        if gu == gv:
            if kind != "data":
                add_motif(gu, data)
            continue
        if kind not in ("data", "index") and (gu != u or gv != v):
            if not visible(data, gv):
                add_motif(gv, data)
                kind = "data"
        if view.has_edge(gu, gv):
            old = view.edges[gu, gv]
            if KIND_PRIORITY[kind] <= KIND_PRIORITY[old["kind"]]:
                continue
        view.add_edge(gu, gv, **{**data, "kind": kind})


def signature(view: nx.DiGraph, n: str) -> tuple:
    d = view.nodes[n]
    return (d["op"], d.get("caption"), d.get("folded"), len(d.get("members") or ()),
            tuple(map(tuple, d["in_shapes"])), tuple(d["out_shape"]), d["params"])


def _merge_repeats(view: nx.DiGraph, spec: FoldSpec) -> None:
    """Chains of identical folded blocks become one node marked ×N."""
    order = sorted(view, key=lambda n: view.nodes[n]["order"])
    i = 0
    while i < len(order):
        run = [order[i]]
        while True:
            cur = run[-1]
            succ = list(view.successors(cur))
            if (len(succ) != 1 or view.in_degree(succ[0]) != 1
                    or not view.nodes[cur].get("folded")
                    or signature(view, succ[0]) != signature(view, cur)):
                break
            run.append(succ[0])
        if len(run) > 1 and not spec.expand.intersection(run):
            _collapse_run(view, run)
        i += 1
        order = [n for n in order if n in view]


def _collapse_run(view: nx.DiGraph, run: list[str]) -> None:
    head, tail = run[0], run[-1]
    d = view.nodes[head]
    d["count"] = len(run)
    d["repeat_of"] = list(run)
    d["members"] = [m for n in run for m in view.nodes[n]["members"]]
    for key in ("params", "trainable", "flops"):
        d[key] = sum(view.nodes[n][key] for n in run)
    for n in run[1:]:
        for kind, count in view.nodes[n].get("motifs", {}).items():
            d.setdefault("motifs", {})[kind] = d.get("motifs", {}).get(kind, 0) + count
    d["out_shape"] = view.nodes[tail]["out_shape"]
    for _, v, data in list(view.out_edges(tail, data=True)):
        view.add_edge(head, v, **data)
    view.remove_nodes_from(run[1:])


def default_spec(graph: LayerGraph, max_nodes: int = DEFAULT_MAX_NODES,
                 max_edges: int = DEFAULT_MAX_EDGES) -> FoldSpec:
    """The view a person sees first, drawn the way the papers draw their networks:

    1. the level of the network's repeated units: the deepest readable fold level at
       which identical blocks follow one another (ResNet's blocks, MobileNet's layers);
       else the shallowest readable level at which every kind of structure the model has
       (skips, index links, branches, dense links...) shows once its first blocks are
       open (below); else the deepest readable level;
    2. runs of identical blocks compacted into one block ×N;
    3. the first block of each kind opened where its inside is the idea (one bottleneck
       with its shortcut, one inception module with its branches, one dense block with
       its concatenations, one SE gate): see ``teaching_expansions``.

    Readability is counted from the hierarchy alone (one pass per level), so only the
    few readable levels are actually folded."""
    hier = {n: graph.hierarchy(n) for n in graph.nx}
    readable = []
    for depth in range(1, graph.max_depth + 1):
        spec = FoldSpec(depth=depth)
        group = {n: group_of(h, spec) or n for n, h in hier.items()}
        nodes = len(set(group.values()))
        edges = len({(group[u], group[v]) for u, v in graph.nx.edges if group[u] != group[v]})
        if (nodes > max_nodes or edges > max_edges) and not _readable_once_compacted(
                graph, depth, group, max_nodes, max_edges):
            break
        readable.append(depth)
    if not readable:
        return _teaching_spec(graph, 1, max_nodes)
    for depth in reversed(readable):
        if _has_runs(fold(graph, FoldSpec(depth=depth)).nx):
            return _teaching_spec(graph, depth, max_nodes)
    wanted = {k for k, n in graph.edge_counts().items() if n and k != "data"}
    if wanted:
        for depth in readable:
            spec = _teaching_spec(graph, depth, max_nodes)
            if wanted <= {k for k, n in fold(graph, spec).edge_counts().items() if n}:
                return spec
    return _teaching_spec(graph, readable[-1], max_nodes)


def _readable_once_compacted(graph: LayerGraph, depth: int, group: dict[str, str],
                             max_nodes: int, max_edges: int) -> bool:
    """Is a level too long only because of runs of identical blocks (ResNet-1202's 200
    blocks a stage)? Counted cheaply first (consecutive siblings as one run), then folded."""
    parents = [g.rpartition(".")[0] for g in dict.fromkeys(
        group[n] for n in sorted(graph.nx, key=lambda n: graph.nx.nodes[n]["order"]))]
    runs = sum(1 for i, p in enumerate(parents) if i == 0 or not p or p != parents[i - 1])
    if 2 * runs > max_nodes:
        return False
    view = fold(graph, FoldSpec(depth=depth, repeats=True))
    return len(view.nx) <= max_nodes and view.nx.number_of_edges() <= max_edges


def _teaching_spec(graph: LayerGraph, depth: int, max_nodes: int) -> FoldSpec:
    base = FoldSpec(depth=None if depth >= graph.max_depth else depth, repeats=True)
    expand = teaching_expansions(graph, base, max_nodes)
    return FoldSpec(base.depth, frozenset(expand), repeats=True)


def _has_runs(view: nx.DiGraph) -> bool:
    for n in view:
        succ = list(view.successors(n))
        if (view.nodes[n].get("folded") and len(succ) == 1 and view.in_degree(succ[0]) == 1
                and signature(view, succ[0]) == signature(view, n)):
            return True
    return False


def is_chain(graph: LayerGraph, members: list[str]) -> bool:
    """Does a block only pass one tensor down a line of layers (no fork, join or gate
    inside, one way in)? Its caption then says all there is to see."""
    g, inside = graph.nx, set(members)
    entries = set()
    for m in members:
        preds = list(g.predecessors(m))
        internal_in = [u for u in preds if u in inside]
        if len(internal_in) > 1 or sum(1 for v in g.successors(m) if v in inside) > 1:
            return False
        if len(preds) > len(internal_in):
            if internal_in:
                return False  # something from outside joins the line halfway
            entries.add(m)
    return len(entries) <= 1


def _conv_count(graph: LayerGraph, members: list[str]) -> int:
    return sum(1 for n in members if graph.nx.nodes[n]["params"]
               and category(graph.nx.nodes[n]) in ("conv", "linear", "upsample"))


def teaching_expansions(graph: LayerGraph, spec: FoldSpec, max_nodes: int) -> set[str]:
    """Blocks to open in the first view: of each kind of block (its class and the kinds of
    structure it hides), the first one whose inside is a structure (a fork, join or gate),
    or, at the top level, a line of several convolutions (MobileNet's depthwise-separable
    pair, U-Net's double conv). Opened blocks are searched the same way for structured
    children (an SE gate inside a bottleneck). Stops before the view gets unreadable."""
    expand: set[str] = set()
    seen: set[tuple] = set()
    view = fold(graph, spec)
    frontier = [(n, True) for n in view.nodes() if view.nx.nodes[n].get("folded")]
    while frontier:
        chosen: dict[tuple, str] = {}
        fallback: dict[tuple, str] = {}
        for n, top in frontier:
            d = view.nx.nodes[n]
            key = (d["op"], frozenset(k for k in d.get("motifs", {})
                                      if k not in ("projection", "padded")))
            if key in seen:
                continue
            if not is_chain(graph, d["members"]):
                chosen.setdefault(key, n)
            elif top and _conv_count(graph, d["members"]) >= 2:
                fallback.setdefault(key, n)
        picks = {**fallback, **chosen}
        if not picks:
            break
        opened = []
        for key, n in sorted(picks.items(), key=lambda kv: view.nx.nodes[kv[1]]["order"]):
            trial = FoldSpec(spec.depth, frozenset(expand | {n}), spec.collapse, spec.repeats)
            trial_view = fold(graph, trial)
            seen.add(key)
            if len(trial_view) > max_nodes:
                continue
            expand.add(n)
            opened.append(n)
            view = trial_view
        frontier = [(n, False) for n in view.nodes() if view.nx.nodes[n].get("folded")
                    and any(n.startswith(o + ".") for o in opened)]
    return expand


def parent_block(node_id: str, graph: LayerGraph, view: LayerGraph) -> str | None:
    """The module path one level above a visible node (what folding it would fold)."""
    data = view.nx.nodes[node_id]
    hier = data["path"].split(".") if data.get("folded") else graph.hierarchy(node_id)
    return ".".join(hier[:-1]) or None
