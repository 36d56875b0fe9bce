"""graphviz ``dot``: our graph as DOT text (fixed-size boxes), and dot's own placement of
it, for comparison with the layered layout. dot runs in a subprocess with a timeout and
tuned limits (its defaults take minutes on DenseNet's concat edges); when it is missing,
too slow or fails, ``DotFailed`` says why and ``layout`` falls back to the layered one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

from .route import Rect
from .style import EDGE_STYLES, NODE_STYLES, category, measure_text, node_label

if TYPE_CHECKING:
    from .layout import Layout

DOT_FLAGS = ["-Gnslimit=2", "-Gnslimit1=2", "-Gmclimit=0.2", "-Gremincross=false",
             "-Gsearchsize=20"]


class DotFailed(Exception):
    """dot gave no placement; the message is the note the layout carries."""


@dataclass
class DotPlacement:
    """dot's boxes and edge polylines, in the requested direction, y pointing down."""

    boxes: dict[str, Rect]
    edges: list[tuple[str, str, list[tuple[float, float]]]]
    width: float
    height: float


def to_dot(g: nx.DiGraph, sizes: dict | None = None, direction: str = "TB",
           positions: Layout | None = None) -> str:
    """DOT with fixed-size boxes (inches = px / 72); with ``positions``, pinned coordinates."""
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


def place_dot(g: nx.DiGraph, sizes: dict, direction: str, timeout: float) -> DotPlacement:
    """dot's placement of ``g`` with boxes of ``sizes``; raises DotFailed."""
    dot = shutil.which("dot")
    if dot is None:
        raise DotFailed("graphviz dot not found: used the layered layout")
    text = to_dot(g, sizes, direction)
    try:
        proc = subprocess.run([dot, "-Tjson0", *DOT_FLAGS], input=text, capture_output=True,
                              text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        raise DotFailed(f"dot took longer than {timeout:g} s: used the layered layout") from None
    except subprocess.CalledProcessError as exc:
        raise DotFailed(f"dot failed ({exc.stderr.strip()[:200]}): used the layered layout") \
            from None
    data = json.loads(proc.stdout)
    x0, y0, x1, y1 = (float(v) for v in data["bb"].split(","))
    height = y1 - y0  # dot's origin is bottom-left: flip y
    ids = sorted(g, key=lambda n: g.nodes[n]["order"])
    boxes: dict[str, Rect] = {}
    for obj in data.get("objects", []):
        n = ids[int(obj["name"][1:])]
        cx, cy = (float(v) for v in obj["pos"].split(","))
        w, h = sizes[n]
        boxes[n] = (cx - w / 2, height - cy - h / 2, w, h)
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
        edges.append((u, v, pts))
    return DotPlacement(boxes, edges, x1 - x0, height)
