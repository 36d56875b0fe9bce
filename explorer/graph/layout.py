"""Layout: a pure function from a visible graph to node boxes and edge polylines.

Three placements, all top-to-bottom (a left-to-right layout is their transpose):
- the column (``layered``): our own layered layout, because graphviz ``dot`` is too
  slow on dense graphs (DenseNet-201 fully expanded: minutes to hours);
- ``arrangement="u"`` draws an encoder-decoder network as its paper does (``ushape``):
  encoder down the left, decoder up the right, skip and index links straight across.
  ``"auto"`` (the default) does that for any view with skip or index links;
- ``engine="dot"`` lays the same boxes out with graphviz instead (``dot``: subprocess
  with a timeout and tuned limits), for comparison; it falls back to the layered layout.

Edges are routed orthogonally (``route``) so that no edge crosses a node's box.
Results are cached by structure, so re-showing a view costs nothing.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx

from .dot import DotFailed, place_dot, to_dot
from .layered import LAYER_GAP, NODE_GAP, place_layered
from .route import Route, Rows, assign_ports, assign_tracks, route, simplify
from .style import measure_text, node_label
from .ushape import has_links, place_u

__all__ = ["ARRANGEMENTS", "Box", "EdgePath", "Layout", "Measure", "clear_layout_cache",
           "layout", "to_dot"]

ARRANGEMENTS = ("auto", "column", "u")


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
    also: tuple[str, ...] = ()  # kinds carried besides ``kind`` (values beside indices)


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

    def kinds(self) -> set[str]:
        """Every kind of edge drawn, the ones carried beside another included."""
        return {k for e in self.edges for k in (e.kind, *e.also)}


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


def _flow_sizes(sizes: dict, direction: str) -> dict[str, tuple[float, float]]:
    """Each box's (across, along) extent: placements work top-to-bottom, so left-to-right
    swaps every box's extent and transposes the result (``_oriented``)."""
    lr = direction == "LR"
    return {n: (h, w) if lr else (w, h) for n, (w, h) in sizes.items()}


def _layered(g: nx.DiGraph, labels: dict, sizes: dict, direction: str) -> Layout:
    placed = place_layered(g, _flow_sizes(sizes, direction))
    return _oriented(g, labels, placed.rows.boxes, _finish(placed.routes, placed.rows),
                     placed.width, placed.height, direction, "column")


def _u_layout(g: nx.DiGraph, labels: dict, sizes: dict, direction: str) -> Layout | None:
    size = _flow_sizes(sizes, direction)
    placed = place_u(g, size, NODE_GAP, LAYER_GAP) if has_links(g) else None
    if placed is None:
        return None
    rows = Rows(placed.boxes, placed.row_of, placed.top, placed.bottom)
    routes = [(u, v, route(rows, u, v)) for u, v in g.edges]
    return _oriented(g, labels, placed.boxes, _finish(routes, rows), placed.width,
                     placed.height, direction, "u")


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
        pts = [(py, px) for px, py in pts] if lr else pts
        edges.append(_edge_path(g, u, v, pts))
    w_out, h_out = (height, width) if lr else (width, height)
    return Layout(boxes, edges, w_out, h_out, direction, "layered", arrangement=arrangement)


def _dot_layout(g: nx.DiGraph, labels: dict, sizes: dict, direction: str,
                timeout: float) -> Layout:
    try:
        placed = place_dot(g, sizes, direction, timeout)
    except DotFailed as exc:
        result = _layered(g, labels, sizes, direction)
        result.notes.append(str(exc))
        return result
    boxes = {n: Box(*rect, labels[n]) for n, rect in placed.boxes.items()}
    edges = [_edge_path(g, u, v, pts) for u, v, pts in placed.edges]
    return Layout(boxes, edges, placed.width, placed.height, direction, "dot")


def _edge_path(g: nx.DiGraph, u: str, v: str, pts: list[tuple[float, float]]) -> EdgePath:
    data = g.edges[u, v]
    return EdgePath(u, v, data["kind"], tuple(data.get("shape", ())), pts,
                    ("data",) if data.get("with_data") else ())
