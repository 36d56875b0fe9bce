"""Orthogonal edge routing over rows of boxes, so that no edge crosses a node's box.

Boxes sit in rows (top-to-bottom coordinates; a left-to-right layout is transposed
afterwards). Between two rows lies a band that holds no box: edges run vertically
through a row only at an x that no box of that row covers (a "channel"), and change x
only inside bands. An edge leaves its source through the side facing its target and
arrives on its target's border, so its end points lie on the two boxes. Horizontal
pieces that share a band are spread over tracks so that different edges do not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CLEARANCE = 6.0  # how close a channel may pass a box
PORT_INSET = 6.0  # ports stay this far from a box's corners
PORT_GAP = 8.0
TRACK_GAP = 4.0

Rect = tuple[float, float, float, float]  # x, y, w, h (top-left)


@dataclass
class Rows:
    """Boxes in rows. ``top``/``bottom`` bound each row; ``row_of`` places each node."""

    boxes: dict[str, Rect]
    row_of: dict[str, int]
    top: list[float]
    bottom: list[float]
    spans: list[list[tuple[float, float]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.spans = [[] for _ in self.top]
        for n, (x, _, w, _) in self.boxes.items():
            self.spans[self.row_of[n]].append((x - CLEARANCE, x + w + CLEARANCE))
        for spans in self.spans:
            spans.sort()

    def band(self, row: int) -> float:
        """The middle of the band below ``row``."""
        return (self.bottom[row] + self.top[row + 1]) / 2

    def band_half(self, row: int) -> float:
        return (self.top[row + 1] - self.bottom[row]) / 2

    def free_x(self, rows: range, near: float) -> float:
        """The x nearest ``near`` that no box of ``rows`` covers."""
        for a, b in merge_spans(s for r in rows for s in self.spans[r]):
            if a < near < b:
                return a if near - a <= b - near else b
        return near

    def clear_between(self, row: int, x0: float, x1: float, skip: set[str]) -> bool:
        lo, hi = min(x0, x1), max(x0, x1)
        for n, (x, _, w, _) in self.boxes.items():
            if n not in skip and self.row_of[n] == row and x < hi and x + w > lo:
                return False
        return True


@dataclass
class Route:
    """One edge's polyline and which of its segments run in which band."""

    points: list[tuple[float, float]]
    bands: dict[int, int] = field(default_factory=dict)  # segment index -> band (row above)
    end_side: str = "top"  # the side of the target it enters: top, bottom, left, right


def route(rows: Rows, u: str, v: str, channels: list[float] | None = None) -> Route:
    """A path from ``u`` to ``v``: through ``channels`` (one x per row strictly between
    them) when given, else through the free channel nearest the straight line."""
    ru, rv = rows.row_of[u], rows.row_of[v]
    ux, uy, uw, uh = rows.boxes[u]
    vx, vy, vw, vh = rows.boxes[v]
    if ru == rv:
        return _same_row(rows, u, v)
    down = rv > ru
    step = 1 if down else -1
    between = range(ru + step, rv, step)
    start_x = ux + uw / 2
    if channels is None:
        target_x = vx + vw / 2
        channels = []
        if len(between):
            rng = range(min(between), max(between) + 1)
            near = start_x if abs(start_x - target_x) < 1 else (start_x + target_x) / 2
            channels = [rows.free_x(rng, near)] * len(between)
    pts = [(start_x, uy + uh if down else uy)]
    bands: dict[int, int] = {}
    band_row = ru if down else ru - 1
    x = start_x
    for cx in channels[:len(between)]:
        y = rows.band(band_row)
        pts += [(x, y), (cx, y)]
        bands[len(pts) - 2] = band_row
        x = cx
        band_row += step
    y = rows.band(band_row)
    end_x = vx + vw / 2  # provisional: ports are assigned once every edge is known
    pts += [(x, y), (end_x, y), (end_x, vy if down else vy + vh)]
    bands[len(pts) - 3] = band_row
    return Route(pts, bands, "top" if down else "bottom")


def _same_row(rows: Rows, u: str, v: str) -> Route:
    ux, uy, uw, uh = rows.boxes[u]
    vx, vy, vw, vh = rows.boxes[v]
    r = rows.row_of[u]
    cy = (max(uy, vy) + min(uy + uh, vy + vh)) / 2
    left_to_right = vx > ux
    sx, ex = (ux + uw, vx) if left_to_right else (ux, vx + vw)
    overlap = max(uy, vy) < min(uy + uh, vy + vh)
    if overlap and rows.clear_between(r, sx, ex, {u, v}):
        return Route([(sx, cy), (ex, cy)], {}, "left" if left_to_right else "right")
    below = r if r + 1 < len(rows.top) else None
    if below is None:  # last row: go round underneath all the same
        y = rows.bottom[r] + 12.0
        return Route([(ux + uw / 2, uy + uh), (ux + uw / 2, y), (vx + vw / 2, y),
                      (vx + vw / 2, vy + vh)], {}, "bottom")
    y = rows.band(below)
    return Route([(ux + uw / 2, uy + uh), (ux + uw / 2, y), (vx + vw / 2, y),
                  (vx + vw / 2, vy + vh)], {1: below}, "bottom")


def assign_ports(routes: list[tuple[str, str, Route]], boxes: dict[str, Rect]) -> None:
    """Spread the ends of edges that enter one side of a box, each as near the x it comes
    from as it can be, so that a straight line stays straight."""
    groups: dict[tuple[str, str], list[Route]] = {}
    for _, v, r in routes:
        if r.end_side in ("top", "bottom") and len(r.points) >= 3:
            groups.setdefault((v, r.end_side), []).append(r)
    for (v, _), group in groups.items():
        x, _, w, _ = boxes[v]
        lo, hi = x + min(PORT_INSET, w / 2), x + w - min(PORT_INSET, w / 2)
        group.sort(key=lambda r: r.points[-3][0])
        wanted = [min(hi, max(lo, r.points[-3][0])) for r in group]
        ports = _spread(wanted, lo, hi)
        for r, px in zip(group, ports):
            (_, y_band), (_, y_end) = r.points[-2], r.points[-1]
            r.points[-2] = (px, y_band)
            r.points[-1] = (px, y_end)


def _spread(wanted: list[float], lo: float, hi: float) -> list[float]:
    """Sorted wishes moved apart by a gap, kept within [lo, hi]."""
    gap = min(PORT_GAP, (hi - lo) / max(1, len(wanted) - 1)) if len(wanted) > 1 else 0.0
    out: list[float] = []
    for w in wanted:
        out.append(max(w, out[-1] + gap) if out else w)
    out[-1] = min(out[-1], hi)
    for i in range(len(out) - 2, -1, -1):
        out[i] = min(out[i], out[i + 1] - gap)
    out[0] = max(out[0], lo)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1] + gap)
    return out


def assign_tracks(routes: list[tuple[str, str, Route]], rows: Rows) -> None:
    """Horizontal pieces in one band that overlap get different heights in it; pieces of
    one net (the same source leaving, or the same target arriving) may share one."""
    per_band: dict[int, list[tuple[float, float, str, Route, int]]] = {}
    for u, v, r in routes:
        for seg, band in r.bands.items():
            (x0, _), (x1, _) = r.points[seg], r.points[seg + 1]
            if abs(x1 - x0) < 0.5:
                continue
            first = seg == min(r.bands)
            net = f"s:{u}" if first else f"t:{v}" if seg == max(r.bands) else f"e:{id(r)}"
            per_band.setdefault(band, []).append((min(x0, x1), max(x0, x1), net, r, seg))
    for band, pieces in per_band.items():
        pieces.sort(key=lambda p: (p[0], p[1]))
        tracks: list[tuple[float, str]] = []  # (right end, net) per track
        chosen: list[int] = []
        for lo, hi, net, _, _ in pieces:
            pick = None
            for t, (end, owner) in enumerate(tracks):
                if owner == net or end < lo - 2:
                    pick = t
                    break
            if pick is None:
                tracks.append((hi, net))
                pick = len(tracks) - 1
            else:
                tracks[pick] = (max(hi, tracks[pick][0]), net)
            chosen.append(pick)
        if len(tracks) <= 1:
            continue
        half = max(0.0, rows.band_half(band) - 3.0)
        gap = min(TRACK_GAP, 2 * half / (len(tracks) - 1))
        mid = rows.band(band)
        for (_, _, _, r, seg), t in zip(pieces, chosen):
            y = mid + (t - (len(tracks) - 1) / 2) * gap
            (x0, _), (x1, _) = r.points[seg], r.points[seg + 1]
            r.points[seg] = (x0, y)
            r.points[seg + 1] = (x1, y)


def simplify(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop repeated points and points in the middle of a straight run."""
    out: list[tuple[float, float]] = []
    for p in points:
        if out and abs(p[0] - out[-1][0]) < 1e-6 and abs(p[1] - out[-1][1]) < 1e-6:
            continue
        if len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if (abs(ax - bx) < 1e-6 and abs(bx - p[0]) < 1e-6) or (
                    abs(ay - by) < 1e-6 and abs(by - p[1]) < 1e-6):
                out[-1] = p
                continue
        out.append(p)
    if len(out) == 1:
        out.append(out[0])
    return out


def merge_spans(spans) -> list[list[float]]:
    """Intervals (start, end) merged where they overlap, in order."""
    merged: list[list[float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged
