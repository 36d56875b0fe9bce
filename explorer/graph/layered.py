"""The layered (Sugiyama-style) placement behind the column arrangement.

Our own, because graphviz ``dot`` is too slow on dense graphs (DenseNet-201 fully
expanded: minutes to hours). It works top-to-bottom; ``layout`` transposes for
left-to-right.

1. layers by longest path from the inputs (the call order is already topological);
2. edges spanning a few layers get dummy nodes so they route beside the main column;
   long concat/skip edges instead run in vertical lanes on the right, one lane per
   source tensor (a "bus" every later consumer taps), so dense blocks cost O(E), not
   O(E x span);
3. order within a layer by barycentre sweeps;
4. x by a weighted pool-adjacent-violators pass: each node wants to sit under its data
   predecessor, dummies weigh little, so the main path stays a straight column;
5. edges routed orthogonally (``route``): through rows only where no box is, bending
   only in the gaps between rows, so no edge crosses a node's box.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from .route import Route, Rows, route

LAYER_GAP = 26.0
NODE_GAP = 18.0
LANE_GAP = 7.0
DUMMY_WIDTH = 10.0
MAX_DUMMY_SPAN = 24
LANE_KINDS = ("concat", "skip")


@dataclass
class LayeredPlacement:
    """Top-to-bottom boxes in their layers, with each edge's route; ports and tracks
    are assigned afterwards, as for the U (``layout``)."""

    rows: Rows
    routes: list[tuple[str, str, Route]]
    width: float
    height: float


def place_layered(g: nx.DiGraph, flow_size: dict[str, tuple[float, float]]) -> LayeredPlacement:
    """``flow_size``: each node's (across, along) extent for a top-to-bottom flow."""
    size = dict(flow_size)  # dummies are added to it
    order = sorted(g, key=lambda n: g.nodes[n]["order"])
    layer: dict[str, int] = {}
    for n in order:
        layer[n] = max((layer[u] + 1 for u in g.predecessors(n)), default=0)
    n_layers = max(layer.values(), default=-1) + 1

    # Long edges: dummies for short spans, lanes for long concat/skip edges.
    chains: dict[tuple[str, str], list[str]] = {}
    lanes: list[tuple[str, str]] = []
    nodes_in: list[list[str]] = [[] for _ in range(n_layers)]
    for n in order:
        nodes_in[layer[n]].append(n)
    is_dummy: dict[str, bool] = dict.fromkeys(g, False)
    preds: dict[str, list[tuple[str, float]]] = {n: [] for n in g}  # (pred, weight)
    for u, v, data in g.edges(data=True):
        span = layer[v] - layer[u]
        kind = data["kind"]
        if span > 1 and (kind in LANE_KINDS or span > MAX_DUMMY_SPAN):
            lanes.append((u, v))
            continue
        prev = u
        chain = []
        for k in range(layer[u] + 1, layer[v]):
            d = f"\0{u}>{v}#{k}"
            chain.append(d)
            is_dummy[d] = True
            size[d] = (DUMMY_WIDTH, 0.0)
            layer[d] = k
            nodes_in[k].append(d)
            preds[d] = [(prev, 1.0)]
            prev = d
        chains[(u, v)] = chain
        preds[v].append((prev, 1.0 if kind == "data" else 0.25))

    _order_layers(nodes_in, preds, is_dummy)
    x = _assign_x(nodes_in, preds, is_dummy, size)

    # y: each layer as tall as its tallest box.
    y_of, y = [], 0.0
    for k in range(n_layers):
        height = max((size[n][1] for n in nodes_in[k]), default=0.0)
        y_of.append((y, height))
        y += height + LAYER_GAP
    boxes: dict[str, tuple[float, float, float, float]] = {}
    for n in g:
        w, h = size[n]
        top, height = y_of[layer[n]]
        boxes[n] = (x[n] - w / 2, top + (height - h) / 2, w, h)
    right_edge = [max((x[n] + size[n][0] / 2 for n in nodes_in[k]), default=0.0)
                  for k in range(n_layers)]
    width = max(right_edge, default=0.0)

    rows = Rows(boxes, {n: layer[n] for n in g}, [t for t, _ in y_of],
                [t + h for t, h in y_of])
    routes = [(u, v, route(rows, u, v, [x[d] for d in chain])) for (u, v), chain in
              chains.items()]
    width = max(width, _route_lanes(lanes, layer, rows, right_edge, routes))
    return LayeredPlacement(rows, routes, width, y - LAYER_GAP if n_layers else 0.0)


def _order_layers(nodes_in: list[list[str]], preds: dict, is_dummy: dict) -> None:
    """Barycentre ordering, top-down then bottom-up; real nodes left of dummies on ties."""
    succs: dict[str, list[str]] = {}
    for v, ps in preds.items():
        for u, _ in ps:
            succs.setdefault(u, []).append(v)
    for sweep in range(4):
        down = sweep % 2 == 0
        rng = range(1, len(nodes_in)) if down else range(len(nodes_in) - 2, -1, -1)
        for k in rng:
            ref = nodes_in[k - 1] if down else nodes_in[k + 1]
            pos = {n: i for i, n in enumerate(ref)}
            current = {n: i for i, n in enumerate(nodes_in[k])}

            def key(n: str, pos=pos, current=current, down=down) -> tuple:
                nbrs = [u for u, _ in preds[n]] if down else succs.get(n, [])
                ps = [pos[m] for m in nbrs if m in pos]
                bary = sum(ps) / len(ps) if ps else current[n]
                return (bary, is_dummy[n], current[n])

            nodes_in[k].sort(key=key)
def _assign_x(nodes_in: list[list[str]], preds: dict, is_dummy: dict,
              size: dict) -> dict[str, float]:
    x: dict[str, float] = {}
    for nodes in nodes_in:
        desired, weight = [], []
        for n in nodes:
            ps = preds[n]
            strong = [(u, w) for u, w in ps if w >= 1.0] or ps
            if strong:
                total = sum(w for _, w in strong)
                desired.append(sum(x[u] * w for u, w in strong) / total)
            else:
                desired.append(0.0)
            weight.append(0.05 if is_dummy[n] else 1.0)
        widths = [size[n][0] for n in nodes]
        for n, pos in zip(nodes, _pav(desired, weight, widths)):
            x[n] = pos
    lo = min((x[n] - size[n][0] / 2 for nodes in nodes_in for n in nodes), default=0.0)
    return {n: v - lo for n, v in x.items()}


def _pav(desired: list[float], weight: list[float], widths: list[float]) -> list[float]:
    """Centres as close to ``desired`` as possible (weighted) while keeping the order and
    NODE_GAP between neighbours: pool-adjacent-violators over blocks of touching nodes."""
    # A block: [first index, last index, Σ w·(desired - offset), Σ w, offsets from the
    # first node's centre]; its best position is the weighted mean.
    blocks: list[list] = []
    for i, d in enumerate(desired):
        blocks.append([i, i, d * weight[i], weight[i], [0.0]])
        while len(blocks) > 1:
            a, b = blocks[-2], blocks[-1]
            pos_a = a[2] / a[3]
            end_a = pos_a + a[4][-1] + widths[a[1]] / 2
            pos_b = b[2] / b[3]
            if pos_b - widths[b[0]] / 2 >= end_a + NODE_GAP:
                break
            shift = a[4][-1] + widths[a[1]] / 2 + NODE_GAP + widths[b[0]] / 2
            new_offsets = a[4] + [shift + o for o in b[4]]
            wsum = a[2] + b[2] - shift * b[3]
            blocks[-2:] = [[a[0], b[1], wsum, a[3] + b[3], new_offsets]]
    out: list[float] = []
    for _, _, wsum, total, offs in blocks:
        base = wsum / total
        out.extend(base + o for o in offs)
    return out


def _route_lanes(lanes, layer, rows: Rows, right_edge, routes) -> float:
    """Long concat/skip edges: one vertical lane per source on the right of the layers it
    spans (a bus every later consumer taps); lanes that overlap in height get different
    offsets. An edge leaves and enters by a box's right side when nothing stands to its
    right in its row, else through the gap below or above the row."""
    if not lanes:
        return 0.0
    by_source: dict[str, list[str]] = {}
    for u, v in lanes:
        by_source.setdefault(u, []).append(v)
    spans = sorted((layer[u], max(layer[v] for v in vs), u) for u, vs in by_source.items())
    active: list[tuple[int, int]] = []  # (end layer, lane)
    lane_of: dict[str, int] = {}
    for start, end, u in spans:
        active = [(e, ln) for e, ln in active if e > start]
        used = {ln for _, ln in active}
        lane = next(i for i in range(len(used) + 1) if i not in used)
        active.append((end, lane))
        lane_of[u] = lane
    rightmost: dict[int, str] = {}
    for n, (bx, _, bw, _) in rows.boxes.items():
        r = layer[n]
        if r not in rightmost or bx + bw > sum(rows.boxes[rightmost[r]][0:3:2]):
            rightmost[r] = n
    width = 0.0
    for (start, end, u) in spans:
        lane_x = max(right_edge[start:end + 1]) + LANE_GAP * (lane_of[u] + 1) + NODE_GAP / 2
        width = max(width, lane_x + LANE_GAP)
        ux, uy, uw, uh = rows.boxes[u]
        for v in by_source[u]:
            vx, vy, vw, vh = rows.boxes[v]
            bands: dict[int, int] = {}
            if rightmost[layer[u]] == u:
                pts = [(ux + uw, uy + uh / 2), (lane_x, uy + uh / 2)]
            else:
                y = rows.band(layer[u])
                pts = [(ux + uw / 2, uy + uh), (ux + uw / 2, y), (lane_x, y)]
                bands[1] = layer[u]
            if rightmost[layer[v]] == v:
                pts += [(lane_x, vy + vh / 2), (vx + vw, vy + vh / 2)]
                side = "right"
            else:
                y = rows.band(layer[v] - 1)
                pts += [(lane_x, y), (vx + vw / 2, y), (vx + vw / 2, vy)]
                bands[len(pts) - 3] = layer[v] - 1
                side = "top"
            routes.append((u, v, Route(pts, bands, side)))
    return width

