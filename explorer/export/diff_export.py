"""Two models compared, written out: one SVG/PNG with both diagrams side by side (matched
nodes at the same height, the difference as coloured halos), the diff as JSON, or as a
Markdown report. Drawn with the same items and style table as a single diagram."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from ..graph.diff import STATUSES, GraphDiff
from ..graph.diff_layout import PairLayout
from ..graph.style import DIFF_HALO, DIFF_STYLES, EDGE_STYLES, shape_text
from .files import check_destination, write_atomic, write_text_atomic
from .graph_export import FONT_PX, LEGEND_ROW, MARGIN, _font, draw_items, svg_items
from .image_size import check_size
from .table_export import human

TITLE = 28.0  # the two models' names above their diagrams
SUFFIXES = (".svg", ".png", ".json", ".md")


@dataclass
class DiffLegendRow:
    """One legend line: a halo swatch (status) or an edge stroke (kind), and its text."""

    status: str | None
    kind: str | None
    text: str
    y: float


def legend(d: GraphDiff, pair: PairLayout) -> list[DiffLegendRow]:
    """What the colours mean, with their counts, then the edge kinds either diagram draws."""
    y = pair.height + TITLE + 2 * MARGIN
    rows = []
    for status, (_, text) in DIFF_STYLES.items():
        label = text.format(a=d.a.model, b=d.b.model)
        rows.append(DiffLegendRow(status, None, f"{label}: {d.tally(status)}", y))
        y += LEGEND_ROW
    kinds = pair.a.kinds() | pair.b.kinds()
    for kind in (k for k in EDGE_STYLES if k in kinds):
        rows.append(DiffLegendRow(None, kind, EDGE_STYLES[kind][3], y))
        y += LEGEND_ROW
    return rows


def canvas_size(pair: PairLayout, rows: list[DiffLegendRow]) -> tuple[float, float]:
    return pair.width + 2 * MARGIN, pair.height + TITLE + 2 * MARGIN + (len(rows) + 1) * LEGEND_ROW


def _halos(d: GraphDiff, pair: PairLayout):
    """(status, box or None, points or None) for every difference in both diagrams."""
    for side, lay in (("a", pair.a), ("b", pair.b)):
        for (u, v), status in d.edge_status(side).items():
            if status != "same":
                for e in lay.edges:
                    if e.source == u and e.target == v:
                        yield status, None, e.points
        for n, status in d.node_status(side).items():
            if status != "same" and n in lay.boxes:
                yield status, lay.boxes[n], None


def diff_svg(d: GraphDiff, pair: PairLayout) -> str:
    rows = legend(d, pair)
    width, height = canvas_size(pair, rows)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.1f} {height:.1f}" '
           f'font-family="DejaVu Sans, Arial, sans-serif" font-size="{FONT_PX}">',
           f"<title>{escape(d.a.model)} vs {escape(d.b.model)}</title>",
           f'<rect x="0" y="0" width="{width:.1f}" height="{height:.1f}" fill="white"/>']
    for x, name in ((0.0, d.a.model), (pair.offset_b, d.b.model)):
        out.append(f'<text x="{x + MARGIN:.1f}" y="{MARGIN + 4:.1f}" font-size="15" '
                   f'font-weight="bold">{escape(name)}</text>')
    out.append(f'<g transform="translate({MARGIN},{MARGIN + TITLE})">')
    pad = DIFF_HALO / 2
    for status, box, points in _halos(d, pair):
        colour = DIFF_STYLES[status][0]
        if box is not None:
            out.append(f'<rect class="diff {status}" x="{box.x - pad:.1f}" y="{box.y - pad:.1f}" '
                       f'width="{box.w + 2 * pad:.1f}" height="{box.h + 2 * pad:.1f}" rx="7" '
                       f'fill="{colour}" fill-opacity="0.55"/>')
        else:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            out.append(f'<polyline class="diff {status}" points="{pts}" fill="none" '
                       f'stroke="{colour}" stroke-opacity="0.45" stroke-width="{DIFF_HALO}" '
                       f'stroke-linejoin="round"/>')
    out.extend(svg_items(d.a, pair.a))
    out.extend(svg_items(d.b, pair.b))
    out.append("</g>")
    for row in rows:
        y = row.y + TITLE
        if row.status:
            out.append(f'<rect x="{MARGIN}" y="{y - 6:.1f}" width="30" height="12" rx="3" '
                       f'fill="{DIFF_STYLES[row.status][0]}" fill-opacity="0.55"/>')
        else:
            colour, w, dash, _ = EDGE_STYLES[row.kind]
            dash_attr = f' stroke-dasharray="{dash[0]},{dash[1]}"' if dash else ""
            out.append(f'<line x1="{MARGIN}" y1="{y:.1f}" x2="{MARGIN + 30}" y2="{y:.1f}" '
                       f'stroke="{colour}" stroke-width="{w}"{dash_attr}/>')
        out.append(f'<text x="{MARGIN + 38}" y="{y + 4:.1f}">{escape(row.text)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _mix(colour: str, alpha: float) -> tuple[int, int, int]:
    """``colour`` at ``alpha`` over white (what the SVG's opacity shows)."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(255 - alpha * (255 - c)) for c in rgb)


def diff_png(d: GraphDiff, pair: PairLayout, path: Path, scale: float = 1.0) -> None:
    from PIL import Image, ImageDraw

    rows = legend(d, pair)
    width, height = check_size("png", *canvas_size(pair, rows), scale)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    font, plain = _font(max(6, int(FONT_PX * scale)))
    title_font, _ = _font(max(7, int(15 * scale)))

    def xy(x: float, y: float) -> tuple[float, float]:
        return ((x + MARGIN) * scale, (y + MARGIN + TITLE) * scale)

    for x, name in ((0.0, d.a.model), (pair.offset_b, d.b.model)):
        draw.text(((x + MARGIN) * scale, MARGIN * scale), name, fill="black", font=title_font,
                  anchor="lm")
    pad = DIFF_HALO / 2
    for status, box, points in _halos(d, pair):
        colour = DIFF_STYLES[status][0]
        if box is not None:
            draw.rounded_rectangle([xy(box.x - pad, box.y - pad),
                                    xy(box.x + box.w + pad, box.y + box.h + pad)],
                                   radius=7 * scale, fill=_mix(colour, 0.55))
        else:
            draw.line([xy(x, y) for x, y in points], fill=_mix(colour, 0.45),
                      width=max(1, round(DIFF_HALO * scale)), joint="curve")
    draw_items(draw, d.a, pair.a, xy, scale, font, plain)
    draw_items(draw, d.b, pair.b, xy, scale, font, plain)
    for row in rows:
        y = row.y - MARGIN
        if row.status:
            draw.rounded_rectangle([xy(0, y - 6), xy(30, y + 6)], radius=3 * scale,
                                   fill=_mix(DIFF_STYLES[row.status][0], 0.55))
        else:
            colour, w, _, _ = EDGE_STYLES[row.kind]
            draw.line([xy(0, y), xy(30, y)], fill=colour, width=max(1, round(w * scale)))
        draw.text(xy(38, y), row.text, fill="black", font=font, anchor="lm")
    img.save(path)


def diff_markdown(d: GraphDiff) -> str:
    totals = d.totals()
    a, b = d.a.model, d.b.model
    lines = [f"# {a} vs {b}", "", "| | " + " | ".join(STATUSES) + " |",
             "|---|" + "---:|" * len(STATUSES)]
    for what in ("nodes", "edges"):
        lines.append(f"| {what} | " + " | ".join(str(totals[what][s]) for s in STATUSES) + " |")
    lines += ["", "## Differences", "", f"| {a} | {b} | status | what differs |",
              "|---|---|---|---|"]
    for n in d.differences():
        what = changes_text(n.changes)
        lines.append(f"| {n.a or ''} | {n.b or ''} | {n.status} | {what} |")
    edges = [e for e in d.edges if e.status != "same"]
    if edges:
        lines += ["", "## Edges that differ", "", f"| {a} | {b} | kind | status |",
                  "|---|---|---|---|"]
        for e in edges:
            lines.append(f"| {' → '.join(e.a) if e.a else ''} | "
                         f"{' → '.join(e.b) if e.b else ''} | {e.kind} | {e.status} |")
    blocks = [x for x in d.blocks if x.params_delta or x.macs_delta]
    if blocks:
        lines += ["", "## Blocks whose cost differs", "",
                  f"| {a} | {b} | params | Δ params | MACs | Δ MACs |",
                  "|---|---|---:|---:|---:|---:|"]
        for x in blocks:
            lines.append(f"| {x.a} | {x.b} | {human(x.params[0])} → {human(x.params[1])} | "
                         f"{x.params_delta:+,} | {human(x.macs[0])} → {human(x.macs[1])} | "
                         f"{x.macs_delta:+,} |")
    return "\n".join(lines) + "\n"


def changes_text(changes: dict) -> str:
    """``kernel: 3×3 → 1×1; stride: 2×2 → 1×1``: what differs, in a line."""
    return "; ".join(f"{k}: {value_text(k, va)} → {value_text(k, vb)}"
                     for k, (va, vb) in changes.items())


def value_text(key: str, value) -> str:
    """One attribute's value as a person reads it (shapes without the batch)."""
    if value is None:
        return "—"
    if key in ("output_shape", "input"):
        return shape_text(value)
    if key == "channels":
        return f"{value[0]}→{value[1]}"
    if isinstance(value, tuple | list):
        return "×".join(map(str, value)) if all(isinstance(v, int) for v in value) else str(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def write_diff(d: GraphDiff, pair: PairLayout | None, path: str | Path,
               scale: float | None = None) -> Path:
    """Write by extension (.svg, .png, .json, .md), whole or not at all. ``pair`` is
    needed for the drawings only; a PNG's ``scale`` is 2 unless given (1 blurred its
    text), as for single diagrams."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"cannot write {path.name}: use .svg, .png, .json or .md")
    check_destination(path)
    if suffix == ".json":
        write_text_atomic(path, json.dumps(d.as_dict(), indent=1))
    elif suffix == ".md":
        write_text_atomic(path, diff_markdown(d))
    elif pair is None:
        raise ValueError("a drawing needs the pair layout")
    elif suffix == ".svg":
        check_size("svg", *canvas_size(pair, legend(d, pair)), 1.0)  # before writing
        write_text_atomic(path, diff_svg(d, pair))
    else:
        scale = 2.0 if scale is None else scale
        check_size("png", *canvas_size(pair, legend(d, pair)), scale)
        write_atomic(path, lambda tmp: diff_png(d, pair, tmp, scale))
    return path
