"""The encoder-decoder ("U") arrangement of U-Net, SegNet, DeconvNet and FCN's figures:
the encoder runs down the left, the decoder back up the right, and each skip or index
link runs straight across between the two at the same height.

How, from the structure alone:
- the *bottom* is the last node of the main (longest) path at its coarsest resolution;
  the decoder is everything computed from it, the encoder everything else;
- *bridges* are the encoder's side nodes that only feed the decoder (U-Net's crop,
  FCN's score_pool4 and its crop): they sit on their source's row, between the columns;
- rows: an encoder edge goes one row down, a decoder edge one row up, and an edge from
  encoder to decoder (or through a bridge) stays on one row. That is a longest-path
  problem over rows merged by the same-row links; when the links contradict each other
  (a crossing structure) there is no U to draw and the caller keeps the column.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

LINK_KINDS = ("skip", "index")
MIDDLE_GAP = 70.0


@dataclass
class UPlacement:
    boxes: dict[str, tuple[float, float, float, float]]  # top-to-bottom: x, y, w, h
    row_of: dict[str, int]
    top: list[float]
    bottom: list[float]
    width: float
    height: float


def has_links(g: nx.DiGraph) -> bool:
    return any(k in LINK_KINDS for _, _, k in g.edges(data="kind"))


def place_u(g: nx.DiGraph, size: dict[str, tuple[float, float]], node_gap: float,
            layer_gap: float) -> UPlacement | None:
    """Boxes in the U arrangement, or None when ``g`` has no encoder-decoder links."""
    if not has_links(g) or not nx.is_directed_acyclic_graph(g):
        return None
    main = nx.dag_longest_path(g)
    level = _levels(g)
    deepest = max(level[n] for n in main)
    bottom = [n for n in main if level[n] == deepest][-1]
    decoder = nx.descendants(g, bottom)
    if not decoder:
        return None
    bridges = _bridges(g, decoder, set(main))
    if not any(k in LINK_KINDS for u, v, k in g.edges(data="kind")
               if u not in decoder and (v in decoder or v in bridges)):
        return None
    row_of = _rows(g, decoder, bridges)
    if row_of is None:
        return None
    _settle_decoder(g, decoder, row_of)
    return _place(g, size, row_of, decoder, bridges, set(main), node_gap, layer_gap)


def _levels(g: nx.DiGraph) -> dict[str, int]:
    """How many times each node's resolution has been halved (doubling counts back)."""
    level: dict[str, int] = {}
    for n in sorted(g, key=lambda n: g.nodes[n]["order"]):
        preds = sorted(g.predecessors(n), key=lambda u: (g.edges[u, n]["kind"] != "data",
                                                          g.nodes[u]["order"]))
        if not preds:
            level[n] = 0
            continue
        p = preds[0]
        level[n] = level[p] + _halvings(g.nodes[p].get("out_shape", ()),
                                        g.nodes[n].get("out_shape", ()))
    return level


def _halvings(before, after) -> int:
    import math

    if len(before) < 3 or len(after) < 3 or not before[-1] or not after[-1]:
        return 0
    ratio = math.log2(before[-1] / after[-1])
    return round(ratio) if abs(ratio) >= 0.5 else 0


def _bridges(g: nx.DiGraph, decoder: set[str], main: set[str]) -> set[str]:
    bridges: set[str] = set()
    for n in reversed(list(nx.topological_sort(g))):
        if n in decoder or n in main:
            continue
        succ = list(g.successors(n))
        if succ and all(s in decoder or s in bridges for s in succ):
            bridges.add(n)
    return bridges


def _rows(g: nx.DiGraph, decoder: set[str], bridges: set[str]) -> dict[str, int] | None:
    parent = {n: n for n in g}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for u, v in g.edges:
        if (u not in decoder and v in decoder) or u in bridges or v in bridges:
            parent[find(u)] = find(v)
    order = nx.DiGraph()
    order.add_nodes_from({find(n) for n in g})
    for u, v in g.edges:
        a, b = find(u), find(v)
        if a == b:
            if (u in decoder) == (v in decoder) and u not in bridges and v not in bridges:
                return None  # two nodes of one side forced onto one row
            continue
        if u in decoder and v in decoder:
            order.add_edge(b, a)  # the decoder climbs: v sits above u
        elif u not in decoder and v not in decoder:
            order.add_edge(a, b)
    if not nx.is_directed_acyclic_graph(order):
        return None
    row: dict[str, int] = {}
    for c in nx.topological_sort(order):
        row[c] = max((row[p] + 1 for p in order.predecessors(c)), default=0)
    return {n: row[find(n)] for n in g}


def _settle_decoder(g: nx.DiGraph, decoder: set[str], row_of: dict[str, int]) -> None:
    """Let decoder nodes sit just above what feeds them instead of floating to the top
    (U-Net's head and output end beside the input, not above it)."""
    for n in sorted(decoder, key=lambda n: g.nodes[n]["order"]):
        preds = [u for u in g.predecessors(n) if u in decoder]
        if not preds or any(u not in decoder for u in g.predecessors(n)):
            continue
        if any(s not in decoder for s in g.successors(n)):
            continue
        lowest = min(row_of[u] for u in preds) - 1
        highest = max((row_of[s] + 1 for s in g.successors(n)), default=0)
        if lowest >= highest and lowest > row_of[n]:
            row_of[n] = lowest


def _place(g, size, row_of, decoder, bridges, main, node_gap, layer_gap) -> UPlacement:
    n_rows = max(row_of.values()) + 1
    order = sorted(g, key=lambda n: g.nodes[n]["order"])
    column: dict[str, int] = {}
    used: set[tuple[int, bool, int]] = set()  # (row, decoder side, column)
    for n in order:
        side = n in decoder
        if n in main:
            col = 0
        else:
            preds = [u for u in g.predecessors(n) if u in column and (u in decoder) == side
                     and u not in main]
            col = column[preds[0]] if preds and (row_of[n], side, column[preds[0]]) not in used \
                else 1
            while (row_of[n], side, col) in used:
                col += 1
        column[n] = col
        used.add((row_of[n], side, col))
    widths: dict[tuple[bool, int], float] = {}
    for n, col in column.items():
        key = (n in decoder, col)
        widths[key] = max(widths.get(key, 0.0), size[n][0])
    centres: dict[tuple[bool, int], float] = {}
    x = 0.0
    for col in range(max((c for s, c in widths if not s), default=0) + 1):
        w = widths.get((False, col), 0.0)
        centres[(False, col)] = x + w / 2
        x += w + node_gap
    x += MIDDLE_GAP - node_gap
    dec_cols = max((c for s, c in widths if s), default=0)
    for col in range(dec_cols, -1, -1):
        w = widths.get((True, col), 0.0)
        centres[(True, col)] = x + w / 2
        x += w + node_gap
    width = x - node_gap
    heights = [0.0] * n_rows
    for n in g:
        heights[row_of[n]] = max(heights[row_of[n]], size[n][1])
    top, bottom, y = [], [], 0.0
    for h in heights:
        top.append(y)
        bottom.append(y + h)
        y += h + layer_gap
    boxes = {}
    for n in g:
        w, h = size[n]
        cx = centres[(n in decoder, column[n])]
        r = row_of[n]
        boxes[n] = (cx - w / 2, top[r] + (heights[r] - h) / 2, w, h)
    return UPlacement(boxes, row_of, top, bottom, width, y - layer_gap)
