"""Headless exports of a laid-out graph: JSON, DOT, SVG and PNG.

SVG and PNG are drawn from the Layout with the shared style table, so they show what
the app's scene shows (the app's own exports render the scene itself)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from ..graph.layergraph import LayerGraph
from ..graph.layout import Layout, to_dot
from ..graph.style import EDGE_STYLES, NODE_STYLES, category, motif_bracket
from .files import check_destination, write_atomic, write_text_atomic
from .image_size import check_size, svg_pixels

MARGIN = 20.0
LEGEND_ROW = 16.0
FONT_PX = 11  # the scene's font size, in pixels (the app draws with the same)
BASELINE = 0.71  # of a 14 px line: DejaVu Sans at 11 px has its baseline 10 px below the top


def graph_json(view: LayerGraph, lay: Layout) -> dict[str, Any]:
    g = view.nx
    nodes = []
    for n in sorted(g, key=lambda n: g.nodes[n]["order"]):
        d, b = g.nodes[n], lay.boxes[n]
        nodes.append({"id": n, "path": d["path"], "op": d["op"], "kind": d["kind"],
                      "out_shape": list(d.get("out_shape", ())),
                      "in_shapes": [list(s) for s in d.get("in_shapes", [])],
                      "params": d.get("params", 0), "folded": bool(d.get("folded")),
                      "count": d.get("count", 1), "motifs": d.get("motifs", {}),
                      "attrs": _plain(d.get("attrs", {})),
                      "x": round(b.x, 2), "y": round(b.y, 2), "w": round(b.w, 2),
                      "h": round(b.h, 2)})
    edges = [{"source": e.source, "target": e.target, "kind": e.kind, "also": list(e.also),
              "shape": list(e.shape),
              "projection": bool(g.edges[e.source, e.target].get("projection", False)),
              "points": [[round(x, 2), round(y, 2)] for x, y in e.points]} for e in lay.edges]
    return {"model": view.model, "input_shape": list(view.input_shape),
            "direction": lay.direction, "width": round(lay.width, 2),
            "height": round(lay.height, 2), "nodes": nodes, "edges": edges}


def _plain(attrs: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in attrs.items()}


def _arrow(points: list[tuple[float, float]], size: float = 7.0) -> list[tuple[float, float]]:
    (x0, y0), (x1, y1) = points[-2], points[-1]
    angle = math.atan2(y1 - y0, x1 - x0)
    left = (x1 - size * math.cos(angle - 0.4), y1 - size * math.sin(angle - 0.4))
    right = (x1 - size * math.cos(angle + 0.4), y1 - size * math.sin(angle + 0.4))
    return [(x1, y1), left, right]


def _used_kinds(lay: Layout) -> list[str]:
    present = lay.kinds()
    return [k for k in EDGE_STYLES if k in present]


@dataclass
class LegendRow:
    """One legend line: a stroke from (x, y) 30 px long, its text at text_x."""

    kind: str
    text: str
    x: float
    y: float
    text_x: float


def legend_rows(lay: Layout) -> list[LegendRow]:
    """The legend under the graph, in canvas coordinates (the graph's origin at MARGIN):
    one row per edge kind the layout draws. The SVG, the Pillow PNG and the app's PNG
    all place it here."""
    y = lay.height + 2 * MARGIN
    rows = []
    for kind in _used_kinds(lay):
        rows.append(LegendRow(kind, EDGE_STYLES[kind][3], MARGIN, y, MARGIN + 38))
        y += LEGEND_ROW
    return rows


def canvas_size(lay: Layout, legend: bool = True) -> tuple[float, float]:
    rows = legend_rows(lay) if legend else []
    return (lay.width + 2 * MARGIN,
            lay.height + 2 * MARGIN + (len(rows) + 1) * LEGEND_ROW * bool(rows))


def graph_svg(view: LayerGraph, lay: Layout, legend: bool = True, transparent: bool = False,
              crop: tuple[float, float, float, float] | None = None, title: str = "",
              scale: float = 1.0) -> str:
    """The diagram as SVG: text stays text and is centred by the SVG itself (so another
    font cannot shift it), the legend keeps its text, the background is white unless
    ``transparent``. ``crop`` (x, y, w, h in layout coordinates) keeps only that area;
    ``scale`` sets the size it declares (the drawing is the same)."""
    rows = legend_rows(lay) if legend and crop is None else []
    width, height = canvas_size(lay, bool(rows))
    box = (0.0, 0.0, width, height)
    if crop is not None:
        box = (crop[0] + MARGIN, crop[1] + MARGIN, crop[2], crop[3])
    size = svg_pixels(box[2], box[3], scale)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size[0]}" '
           f'height="{size[1]}" viewBox="{box[0]:.1f} {box[1]:.1f} {box[2]:.1f} {box[3]:.1f}" '
           f'font-family="DejaVu Sans, Arial, sans-serif" font-size="{FONT_PX}">',
           f"<title>{escape(title or view.model)}</title>"]
    if not transparent:
        out.append(f'<rect x="{box[0]:.1f}" y="{box[1]:.1f}" width="{box[2]:.1f}" '
                   f'height="{box[3]:.1f}" fill="white"/>')
    out.append(f'<g transform="translate({MARGIN},{MARGIN})">')
    out.extend(svg_items(view, lay))
    out.append("</g>")
    for row in rows:
        colour, w, dash, _ = EDGE_STYLES[row.kind]
        dash_attr = f' stroke-dasharray="{dash[0]},{dash[1]}"' if dash else ""
        out.append(f'<line x1="{row.x}" y1="{row.y:.1f}" x2="{row.x + 30}" y2="{row.y:.1f}" '
                   f'stroke="{colour}" stroke-width="{w}"{dash_attr}/>'
                   f'<text x="{row.text_x}" y="{row.y + 4:.1f}">{escape(row.text)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def svg_items(view: LayerGraph, lay: Layout) -> list[str]:
    """The SVG elements of a layout's edges and boxes (layout coordinates)."""
    out = []
    for e in lay.edges:
        colour, w, dash, _ = EDGE_STYLES[e.kind]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in e.points)
        dash_attr = f' stroke-dasharray="{dash[0]},{dash[1]}"' if dash else ""
        shape = "×".join(map(str, e.shape[1:]))
        under = "".join(f'<polyline points="{pts}" fill="none" stroke="{EDGE_STYLES[k][0]}" '
                        f'stroke-width="{EDGE_STYLES[k][1]}"/>' for k in e.also)
        out.append(f'<g class="edge {e.kind}"><title>{escape(e.source)} → {escape(e.target)}'
                   f" {shape}</title>{under}"
                   f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                   f'stroke-width="{w}"{dash_attr}/>'
                   f'<polygon points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in _arrow(e.points))}"'
                   f' fill="{colour}"/></g>')
    g_nodes = view.nx.nodes
    for n, b in lay.boxes.items():
        fill, border = NODE_STYLES[category(g_nodes[n])]
        out.append(f'<g class="node"><rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" '
                   f'height="{b.h:.1f}" rx="4" fill="{fill}" stroke="{border}" '
                   f'stroke-width="1.2"/>')
        if "residual" in g_nodes[n].get("motifs", {}):
            colour, w, _, _ = EDGE_STYLES["residual"]
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in motif_bracket(b.x, b.y, b.w, b.h))
            out.append(f'<polyline class="motif residual" points="{pts}" fill="none" '
                       f'stroke="{colour}" stroke-width="{w}"/>')
        for i, line in enumerate(b.label):
            weight = ' font-weight="bold"' if i == 0 else ""
            ty = b.y + 5 + 14 * (i + BASELINE)
            out.append(f'<text x="{b.cx:.1f}" y="{ty:.1f}" text-anchor="middle"{weight}>'
                       f"{escape(line)}</text>")
        out.append("</g>")
    return out


def graph_png(view: LayerGraph, lay: Layout, path: Path, scale: float = 1.0,
              legend: bool = True) -> None:
    """Rasterise with Pillow (no dot, no Qt needed)."""
    from PIL import Image, ImageDraw

    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"the PNG scale must be a positive number, not {scale}")
    rows = legend_rows(lay) if legend else []
    canvas_w, canvas_h = canvas_size(lay, legend)
    width, height = check_size("png", canvas_w, canvas_h, scale)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    font, plain = _font(max(6, int(11 * scale)))

    def xy(x: float, y: float) -> tuple[float, float]:
        return ((x + MARGIN) * scale, (y + MARGIN) * scale)

    draw_items(draw, view, lay, xy, scale, font, plain)
    for row in rows:
        colour, w, _, _ = EDGE_STYLES[row.kind]
        y = row.y - MARGIN
        draw.line([xy(row.x - MARGIN, y), xy(row.x - MARGIN + 30, y)], fill=colour,
                  width=max(1, round(w * scale)))
        draw.text(xy(row.text_x - MARGIN, y), row.text, fill="black", font=font, anchor="lm")
    img.save(path)


def draw_items(draw, view: LayerGraph, lay: Layout, xy, scale: float, font, plain) -> None:
    """A layout's edges and boxes onto a Pillow canvas (``xy`` maps layout coordinates)."""
    for e in lay.edges:
        colour, w, dash, _ = EDGE_STYLES[e.kind]
        pts = [xy(x, y) for x, y in e.points]
        for kind in e.also:  # the values under the indices' dots
            draw.line(pts, fill=EDGE_STYLES[kind][0],
                      width=max(1, round(EDGE_STYLES[kind][1] * scale)))
        draw.line(pts, fill=colour, width=max(1, round(w * scale)))
        draw.polygon([xy(x, y) for x, y in _arrow(e.points)], fill=colour)
    for n, b in lay.boxes.items():
        fill, border = NODE_STYLES[category(view.nx.nodes[n])]
        draw.rounded_rectangle([xy(b.x, b.y), xy(b.x + b.w, b.y + b.h)], radius=4 * scale,
                               fill=fill, outline=border, width=max(1, round(scale)))
        for i, line in enumerate(b.label):
            draw.text(xy(b.cx, b.y + 5 + 14 * (i + 0.5)), plain(line), fill="black", font=font,
                      anchor="mm")
        _png_motif(draw, view.nx.nodes[n], b, xy, scale)


def _font(size: int):
    """DejaVu Sans when the system has it (it has ×, →, …); else Pillow's own font, with
    those characters spelled in ASCII."""
    from PIL import ImageFont

    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size), str
        except OSError:
            continue
    table = str.maketrans({"×": "x", "→": "->", "…": "..."})
    try:
        return ImageFont.load_default(size=size), lambda s: s.translate(table)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default(), lambda s: s.translate(table)


def _png_motif(draw, data: dict, b, xy, scale: float) -> None:
    if "residual" not in data.get("motifs", {}):
        return
    colour, w, _, _ = EDGE_STYLES["residual"]
    draw.line([xy(x, y) for x, y in motif_bracket(b.x, b.y, b.w, b.h)], fill=colour,
              width=max(1, round(w * scale)))


def write_graph(view: LayerGraph, lay: Layout, path: str | Path, scale: float = 1.0) -> Path:
    """Write by extension: .json, .dot, .svg or .png; the file appears whole or not at
    all (DestinationError when it cannot be written there)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".dot", ".gv", ".svg", ".png"):
        raise ValueError(f"cannot write {path.name}: use .json, .dot, .svg or .png")
    check_destination(path)
    if suffix == ".json":
        write_text_atomic(path, json.dumps(graph_json(view, lay), indent=1))
    elif suffix in (".dot", ".gv"):
        sizes = {n: (b.w, b.h) for n, b in lay.boxes.items()}
        write_text_atomic(path, to_dot(view.nx, sizes, lay.direction, positions=lay))
    elif suffix == ".svg":
        check_size("svg", *canvas_size(lay), scale)  # before anything is written
        write_text_atomic(path, graph_svg(view, lay, scale=scale))
    else:
        check_size("png", *canvas_size(lay), scale)
        write_atomic(path, lambda tmp: graph_png(view, lay, tmp, scale))
    return path
