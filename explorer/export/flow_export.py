"""Flow results as JSON, CSV, and a plot over depth as SVG or PNG (no Qt, no matplotlib).

The plot is computed once as plain geometry (``flow_plot``: lines, ticks, labels in
canvas coordinates) and drawn by both writers, so the SVG and the PNG show the same."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from .files import check_destination, write_atomic, write_text_atomic

if TYPE_CHECKING:
    from ..analysis.flow import FlowResult, LayerFlow

CSV_COLUMNS = ("model", "mode", "name", "op", "depth", "grad_rms", "weight_rms", "ratio",
               "act_mean", "act_std", "act_rms", "zero_fraction")
# measure: (title, drawn on a log scale, taken from the weight layers only)
MEASURES = {
    "grad_rms": ("gradient RMS", True, True),
    "weight_rms": ("weight RMS", True, True),
    "ratio": ("gradient RMS / weight RMS", True, True),
    "act_std": ("activation std", True, False),
    "act_rms": ("activation RMS", True, False),
    "zero_fraction": ("fraction of zeros", False, False),
}
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")
WIDTH, HEIGHT = 760.0, 440.0
LEFT, RIGHT, TOP, BOTTOM = 70.0, 20.0, 40.0, 50.0


def flow_json(results: Sequence[FlowResult]) -> str:
    return json.dumps({"models": [r.as_dict() for r in results]}, indent=1,
                      allow_nan=False, default=_no_inf) + "\n"


def _no_inf(value):  # pragma: no cover - json calls it only for unknown types
    raise TypeError(f"cannot write {value!r} as JSON")


def flow_csv(results: Sequence[FlowResult]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in results:
        for row in r.layers:
            d = row.as_dict()
            writer.writerow([r.model, r.mode] + ["" if d[k] is None else d[k]
                                                 for k in CSV_COLUMNS[2:]])
    return buf.getvalue()


def series(result: FlowResult, measure: str) -> list[tuple[float, float, LayerFlow]]:
    """(x = depth, y, layer) for one measure; activation measures spread the several
    nodes of one depth between it and the next. Values a log scale cannot show (zero,
    negative, not finite) are left out."""
    _, log, weights_only = MEASURES[measure]
    rows = result.body_layers if weights_only else result.layers
    by_depth: dict[int, list[LayerFlow]] = {}
    for row in rows:
        by_depth.setdefault(row.depth, []).append(row)
    out = []
    for depth, group in by_depth.items():
        for i, row in enumerate(group):
            value = getattr(row, measure)
            if value is None or not math.isfinite(value) or (log and value <= 0):
                continue
            out.append((depth + i / len(group), float(value), row))
    return out


@dataclass
class Plot:
    """A plot's geometry in canvas units (origin top left)."""

    title: str
    width: float = WIDTH
    height: float = HEIGHT
    lines: list[tuple[str, str, list[tuple[float, float]]]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_label: str = "depth (weight layers from the input)"


def flow_plot(results: Sequence[FlowResult], measure: str = "grad_rms") -> Plot:
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}")
    title, log, _ = MEASURES[measure]
    data = [(r, series(r, measure)) for r in results]
    xs = [x for _, s in data for x, _, _ in s] or [0.0, 1.0]
    ys = [y for _, s in data for _, y, _ in s] or [1.0]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    ty = (lambda v: math.log10(v)) if log else (lambda v: v)
    y0, y1 = math.floor(min(map(ty, ys))), math.ceil(max(map(ty, ys)))
    if not log:
        y0, y1 = min(0.0, y0), max(1.0, y1)
    if y1 <= y0:
        y1 = y0 + 1
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * inner_w

    def py(v: float) -> float:
        return TOP + (1 - (ty(v) - y0) / (y1 - y0)) * inner_h

    modes = {r.mode for r in results}
    plot = Plot(f"{title} over depth, {', '.join(sorted(modes))} mode")
    for i, (r, s) in enumerate(data):
        plot.lines.append((r.model, PALETTE[i % len(PALETTE)], [(px(x), py(y)) for x, y, _ in s]))
    step = max(1, round((x1 - x0) / 8))
    plot.x_ticks = [(px(v), str(v)) for v in range(math.ceil(x0), int(x1) + 1, step)]
    if log:
        every = max(1, math.ceil((y1 - y0) / 10))
        plot.y_ticks = [(TOP + (1 - (e - y0) / (y1 - y0)) * inner_h, f"1e{e}")
                        for e in range(int(y0), int(y1) + 1, every)]
    else:
        plot.y_ticks = [(py(v), f"{v:g}") for v in (0, 0.25, 0.5, 0.75, 1.0)]
    return plot


def flow_svg(results: Sequence[FlowResult], measure: str = "grad_rms") -> str:
    p = flow_plot(results, measure)
    right, bottom = p.width - RIGHT, p.height - BOTTOM
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{p.width:g}" '
           f'height="{p.height:g}" font-family="DejaVu Sans, sans-serif" font-size="11">',
           f'<rect width="{p.width:g}" height="{p.height:g}" fill="white"/>',
           f'<text x="{LEFT}" y="20" font-size="13">{escape(p.title)}</text>']
    for y, text in p.y_ticks:
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{text}</text>')
    for x, text in p.x_ticks:
        out.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{text}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{right - LEFT:g}" height="{bottom - TOP:g}" '
               'fill="none" stroke="#444"/>')
    out.append(f'<text x="{(LEFT + right) / 2:g}" y="{p.height - 12:g}" '
               f'text-anchor="middle">{escape(p.x_label)}</text>')
    for i, (name, colour, pts) in enumerate(p.lines):
        if pts:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                       'stroke-width="1.5"/>')
        ly = TOP + 14 + 16 * i
        out.append(f'<line x1="{right - 150}" y1="{ly - 4}" x2="{right - 126}" y2="{ly - 4}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{right - 120}" y="{ly}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def flow_png(results: Sequence[FlowResult], path: Path, measure: str = "grad_rms",
             scale: float = 2.0) -> None:
    """The same plot rasterised with Pillow."""
    from PIL import Image, ImageDraw

    from .graph_export import _font

    p = flow_plot(results, measure)
    img = Image.new("RGB", (int(p.width * scale), int(p.height * scale)), "white")
    draw = ImageDraw.Draw(img)
    font, plain = _font(int(11 * scale))
    big, _ = _font(int(13 * scale))
    right, bottom = p.width - RIGHT, p.height - BOTTOM

    def s(*xy: float) -> list[float]:
        return [v * scale for v in xy]

    draw.text(s(LEFT, 12), plain(p.title), fill="black", font=big)
    for y, text in p.y_ticks:
        draw.line(s(LEFT, y, right, y), fill="#dddddd", width=1)
        draw.text(s(LEFT - 6, y), text, fill="black", font=font, anchor="rm")
    for x, text in p.x_ticks:
        draw.text(s(x, bottom + 12), text, fill="black", font=font, anchor="mm")
    draw.rectangle(s(LEFT, TOP, right, bottom), outline="#444444", width=1)
    draw.text(s((LEFT + right) / 2, p.height - 14), plain(p.x_label), fill="black", font=font,
              anchor="mm")
    for i, (name, colour, pts) in enumerate(p.lines):
        if len(pts) > 1:
            draw.line([v * scale for xy in pts for v in xy], fill=colour,
                      width=max(1, round(1.5 * scale)))
        ly = TOP + 14 + 16 * i
        draw.line(s(right - 150, ly - 4, right - 126, ly - 4), fill=colour, width=round(2 * scale))
        draw.text(s(right - 120, ly - 4), plain(name), fill="black", font=font, anchor="lm")
    img.save(path)


WRITERS = (".json", ".csv", ".svg", ".png")


def write_flow(results: Sequence[FlowResult], path: str | Path,
               measure: str = "grad_rms") -> Path:
    """Write by extension: .json, .csv, .svg (the plot) or .png; whole or not at all."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITERS:
        raise ValueError(f"cannot write {path.name}: use {', '.join(WRITERS)}")
    check_destination(path)
    if suffix == ".png":
        return write_atomic(path, lambda tmp: flow_png(results, tmp, measure))
    text = {".json": flow_json, ".csv": flow_csv}.get(suffix)
    return write_text_atomic(path, text(results) if text else flow_svg(results, measure))
