"""Layout: a pure function from a visible graph to node boxes and edge polylines.

A layered (Sugiyama-style) layout of our own, because graphviz ``dot`` is too slow on
dense graphs (DenseNet-201 fully expanded: minutes to hours):

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

``arrangement="u"`` draws an encoder-decoder network as its paper does (``ushape``):
encoder down the left, decoder up the right, skip and index links straight across.
``"auto"`` (the default) does that for any view with skip or index links.

``engine="dot"`` lays the same boxes out with graphviz instead (subprocess with a
timeout and tuned limits), for comparison; it falls back to the layered layout.
Results are cached by structure, so re-showing a view costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx

from .route import Route, Rows, assign_ports, assign_tracks, route, simplify
from .style import measure_text, node_label
from .ushape import has_links, place_u

LAYER_GAP = 26.0
NODE_GAP = 18.0
LANE_GAP = 7.0
DUMMY_WIDTH = 10.0
MAX_DUMMY_SPAN = 24
LANE_KINDS = ("concat", "skip")
ARRANGEMENTS = ("auto", "column", "u")
DOT_FLAGS = ["-Gnslimit=2", "-Gnslimit1=2", "-Gmclimit=0.2", "-Gremincross=false",
             "-Gsearchsize=20"]


@dataclass
class Box:
    x: float  # top-left
    y: float
    w: float
    h: float
    label: list[str]

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass
class EdgePath:
    source: str
    target: str
    kind: str
    shape: tuple[int, ...]
    points: list[tuple[float, float]]


@dataclass
class Layout:
    boxes: dict[str, Box]
    edges: list[EdgePath]
    width: float
    height: float
    direction: str = "TB"
    engine: str = "layered"
    notes: list[str] = field(default_factory=list)
    arrangement: str = "column"  # what was drawn: "column" or "u"


Measure = Callable[[list[str]], tuple[float, float]]
_CACHE: OrderedDict[str, Layout] = OrderedDict()
_CACHE_SIZE = 64


def layout(g: nx.DiGraph, direction: str = "TB", measure: Measure = measure_text,
           engine: str = "layered", dot_timeout: float = 10.0,
           arrangement: str = "auto") -> Layout:
    """Boxes and polylines for every node and edge of ``g`` (a LayerGraph's ``nx``).
    ``arrangement``: "column", "u" (encoder-decoder, when the view has skip or index
    links; else the column with a note) or "auto" (the U where there are links)."""
    if direction not in ("TB", "LR"):
        raise ValueError(f"direction must be 'TB' or 'LR', not {direction!r}")
    if arrangement not in ARRANGEMENTS:
        raise ValueError(f"arrangement must be one of {', '.join(ARRANGEMENTS)}, "
                         f"not {arrangement!r}")
    labels = {n: node_label(n, g.nodes[n]) for n in g}
    sizes = {n: measure(labels[n]) for n in g}
    key = _cache_key(g, labels, sizes, direction, f"{engine}|{arrangement}")
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    if engine not in ("layered", "dot"):
        raise ValueError(f"engine must be 'layered' or 'dot', not {engine!r}")
    result = None
    if arrangement != "column" and engine == "layered":
        result = _u_layout(g, labels, sizes, direction)
        if result is None and arrangement == "u":
            result = _layered(g, labels, sizes, direction)
            result.notes.append("no skip or index links to arrange as an encoder and a "
                                "decoder: drawn as a column")
    if result is None:
        result = (_dot_layout(g, labels, sizes, direction, dot_timeout) if engine == "dot"
                  else _layered(g, labels, sizes, direction))
    _CACHE[key] = result
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


def clear_layout_cache() -> None:
    _CACHE.clear()


def _cache_key(g: nx.DiGraph, labels: dict, sizes: dict, direction: str, engine: str) -> str:
    """Everything a layout shows: the boxes' text as well as their sizes (a label that
    changes without changing its box, 1000 -> 2000 classes, must not hit the cache)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{direction}|{engine}".encode())
    for n in sorted(g):
        h.update(f"{n}|{sizes[n]}|{labels[n]}".encode())
    for u, v, kind in sorted(g.edges(data="kind")):
        h.update(f"{u}>{v}:{kind}".encode())
    return h.hexdigest()


# ------------------------------------------------------------------------ layered engine
def _layered(g: nx.DiGraph, labels: dict, sizes: dict, direction: str) -> Layout:
    lr = direction == "LR"
    # Work top-to-bottom; for left-to-right swap each box's extent and transpose at the end.
    size = {n: (h, w) if lr else (w, h) for n, (w, h) in sizes.items()}
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
    boxes_tb: dict[str, tuple[float, float, float, float]] = {}
    for n in g:
        w, h = size[n]
        top, height = y_of[layer[n]]
        boxes_tb[n] = (x[n] - w / 2, top + (height - h) / 2, w, h)
    right_edge = [max((x[n] + size[n][0] / 2 for n in nodes_in[k]), default=0.0)
                  for k in range(n_layers)]
    width = max(right_edge, default=0.0)

    real = {n: boxes_tb[n] for n in g}
    rows = Rows(real, {n: layer[n] for n in g}, [t for t, _ in y_of],
                [t + h for t, h in y_of])
    routes = [(u, v, route(rows, u, v, [x[d] for d in chain])) for (u, v), chain in
              chains.items()]
    width = max(width, _route_lanes(lanes, layer, rows, right_edge, routes))
    edges_tb = _finish(routes, rows)
    height = y - LAYER_GAP if n_layers else 0.0
    return _oriented(g, labels, real, edges_tb, width, height, direction, "column")


def _finish(routes: list[tuple[str, str, Route]], rows: Rows) -> list:
    assign_ports(routes, rows.boxes)
    assign_tracks(routes, rows)
    return [(u, v, simplify(r.points)) for u, v, r in routes]


def _oriented(g, labels, boxes_tb, edges_tb, width, height, direction, arrangement) -> Layout:
    """Top-to-bottom coordinates into a Layout; left-to-right is their transpose."""
    lr = direction == "LR"
    boxes, edges = {}, []
    for n in g:
        bx, by, bw, bh = boxes_tb[n]
        boxes[n] = Box(by, bx, bh, bw, labels[n]) if lr else Box(bx, by, bw, bh, labels[n])
    for u, v, pts in edges_tb:
        data = g.edges[u, v]
        pts = [(py, px) for px, py in pts] if lr else pts
        edges.append(EdgePath(u, v, data["kind"], tuple(data.get("shape", ())), pts))
    w_out, h_out = (height, width) if lr else (width, height)
    return Layout(boxes, edges, w_out, h_out, direction, "layered", arrangement=arrangement)


def _u_layout(g: nx.DiGraph, labels: dict, sizes: dict, direction: str) -> Layout | None:
    lr = direction == "LR"
    size = {n: (h, w) if lr else (w, h) for n, (w, h) in sizes.items()}
    placed = place_u(g, size, NODE_GAP, LAYER_GAP) if has_links(g) else None
    if placed is None:
        return None
    rows = Rows(placed.boxes, placed.row_of, placed.top, placed.bottom)
    routes = [(u, v, route(rows, u, v)) for u, v in g.edges]
    return _oriented(g, labels, placed.boxes, _finish(routes, rows), placed.width,
                     placed.height, direction, "u")


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


# ---------------------------------------------------------------------------- dot engine
def to_dot(g: nx.DiGraph, sizes: dict | None = None, direction: str = "TB",
           positions: Layout | None = None) -> str:
    """DOT with fixed-size boxes (inches = px / 72); with ``positions``, pinned coordinates."""
    from .style import EDGE_STYLES, NODE_STYLES, category

    lines = ["digraph G {", f"  rankdir={direction};",
             '  node [shape=box, style="rounded,filled", fixedsize=true, fontsize=10];']
    ids = {n: f"n{i}" for i, n in enumerate(sorted(g, key=lambda n: g.nodes[n]["order"]))}
    for n, nid in ids.items():
        fill, border = NODE_STYLES[category(g.nodes[n])]
        label = "\\n".join(node_label(n, g.nodes[n])).replace('"', "'")
        w, h = (sizes or {}).get(n) or measure_text(node_label(n, g.nodes[n]))
        extra = ""
        if positions is not None:
            b = positions.boxes[n]
            extra = f', pos="{b.cx:.1f},{positions.height - b.cy:.1f}!"'
        lines.append(f'  {nid} [label="{label}", width={w / 72:.3f}, height={h / 72:.3f}, '
                     f'fillcolor="{fill}", color="{border}", tooltip="{n}"{extra}];')
    for u, v, data in g.edges(data=True):
        colour, width, dash, _ = EDGE_STYLES[data["kind"]]
        style = ', style="dashed"' if dash else ""
        shape = "x".join(map(str, data.get("shape", ())[1:]))
        lines.append(f'  {ids[u]} -> {ids[v]} [color="{colour}", penwidth={width}{style}, '
                     f'tooltip="{shape}", class="{data["kind"]}"];')
    lines.append("}")
    return "\n".join(lines)


def _dot_layout(g: nx.DiGraph, labels: dict, sizes: dict, direction: str,
                timeout: float) -> Layout:
    dot = shutil.which("dot")
    if dot is None:
        result = _layered(g, labels, sizes, direction)
        result.notes.append("graphviz dot not found: used the layered layout")
        return result
    text = to_dot(g, sizes, direction)
    try:
        proc = subprocess.run([dot, "-Tjson0", *DOT_FLAGS], input=text, capture_output=True,
                              text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        result = _layered(g, labels, sizes, direction)
        result.notes.append(f"dot took longer than {timeout:g} s: used the layered layout")
        return result
    except subprocess.CalledProcessError as exc:
        result = _layered(g, labels, sizes, direction)
        result.notes.append(f"dot failed ({exc.stderr.strip()[:200]}): used the layered layout")
        return result
    data = json.loads(proc.stdout)
    x0, y0, x1, y1 = (float(v) for v in data["bb"].split(","))
    height = y1 - y0
    ids = sorted(g, key=lambda n: g.nodes[n]["order"])
    boxes: dict[str, Box] = {}
    for obj in data.get("objects", []):
        n = ids[int(obj["name"][1:])]
        cx, cy = (float(v) for v in obj["pos"].split(","))
        w, h = sizes[n]
        boxes[n] = Box(cx - w / 2, height - cy - h / 2, w, h, labels[n])
    edges = []
    for e in data.get("edges", []):
        objects = data["objects"]
        u = ids[int(objects[e["tail"]]["name"][1:])]
        v = ids[int(objects[e["head"]]["name"][1:])]
        pts, end = [], None
        for token in e.get("pos", "").split():
            if token.startswith("e,"):
                end = tuple(float(c) for c in token[2:].split(","))
                continue
            if token.startswith("s,"):
                continue
            px, py = (float(c) for c in token.split(","))
            pts.append((px, height - py))
        if end:
            pts.append((end[0], height - end[1]))
        d = g.edges[u, v]
        edges.append(EdgePath(u, v, d["kind"], tuple(d.get("shape", ())), pts))
    return Layout(boxes, edges, x1 - x0, height, direction, "dot")
