"""Two diagrams side by side with matched nodes at the same height.

Each graph is laid out on its own (a top-to-bottom column); then each is stretched
vertically, only in the free space between rows of boxes, until every matched pair that
runs in order in both sits at one height. Boxes keep their size and edges stay attached
(inside a row the shift is constant, between rows it is linear), so the routing of
either diagram is still valid. B is then moved right of A.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

from .diff import GraphDiff
from .fold import FoldSpec, default_spec
from .layergraph import LayerGraph
from .layout import Box, EdgePath, Layout, Measure, layout
from .route import merge_spans
from .style import measure_text

GAP = 80.0  # between the two diagrams


@dataclass
class PairLayout:
    """Both diagrams in one coordinate system: ``b`` already sits right of ``a``
    (from ``offset_b``)."""

    a: Layout
    b: Layout
    offset_b: float
    width: float
    height: float


def shared_spec(a: LayerGraph, b: LayerGraph) -> FoldSpec:
    """One fold level for both sides (the finer of each model's first view), with the
    blocks either first view opens open on both sides, and no ×N runs (a run in one
    model is several blocks in the other)."""
    sa, sb = default_spec(a), default_spec(b)
    depths = [s.depth for s in (sa, sb) if s.depth is not None]
    depth = max(depths) if len(depths) == 2 else None
    return FoldSpec(depth, sa.expand | sb.expand)


def revealing_spec(a: LayerGraph, b: LayerGraph, spec: FoldSpec,
                   max_nodes: int = 150) -> FoldSpec:
    """``spec`` with the blocks that differ opened where the difference is inside them:
    of each kind of change (the block's class and what changed), the first changed
    block folded on both sides, while both views stay under ``max_nodes``. ResNet-50 v1
    against v1.5 opens the first block whose stride moved; plain against residual opens
    one identity and one projection block."""
    from .diff import diff
    from .fold import fold

    view_a, view_b = fold(a, spec), fold(b, spec)
    seen, opened = set(), set()
    for node in diff(view_a, view_b).nodes:
        if node.status != "changed":
            continue
        da, db = view_a.node(node.a), view_b.node(node.b)
        if not (da.get("folded") and db.get("folded")) or da.get("count", 1) > 1:
            continue
        key = (da["op"], tuple(sorted(node.changes)))
        if key in seen:
            continue
        seen.add(key)
        trial = FoldSpec(spec.depth, spec.expand | opened | {da["path"], db["path"]},
                         spec.collapse, spec.repeats)
        if max(len(fold(a, trial)), len(fold(b, trial))) > max_nodes:
            continue
        opened |= {da["path"], db["path"]}
    return FoldSpec(spec.depth, spec.expand | opened, spec.collapse, spec.repeats)


def pair_layout(d: GraphDiff, measure: Measure = measure_text) -> PairLayout:
    """Lay out both views of ``d`` and align their matched nodes."""
    lay_a = layout(d.a.nx, "TB", measure, arrangement="column")
    lay_b = layout(d.b.nx, "TB", measure, arrangement="column")
    return align_pair(d, lay_a, lay_b)


def align_pair(d: GraphDiff, lay_a: Layout, lay_b: Layout, apart: bool = True) -> PairLayout:
    """``apart``: B moved right of A (one drawing); else each keeps its own x (two panes)."""
    rows_a, rows_b = _Rows(lay_a), _Rows(lay_b)
    shift_a, shift_b = [0.0] * len(rows_a), [0.0] * len(rows_b)
    last_a = last_b = -1
    cur_a = cur_b = 0.0
    pairs = sorted(((x, y) for x, y in d.a_to_b.items() if x in lay_a.boxes and y in lay_b.boxes),
                   key=lambda p: lay_a.boxes[p[0]].cy)
    for x, y in pairs:
        ka, kb = rows_a.row_of(lay_a.boxes[x]), rows_b.row_of(lay_b.boxes[y])
        if ka <= last_a or kb <= last_b:
            continue  # its row is already placed, or the pair crosses an earlier one
        ya, yb = lay_a.boxes[x].cy, lay_b.boxes[y].cy
        target = max(ya + cur_a, yb + cur_b)
        for k in range(last_a + 1, ka):
            shift_a[k] = cur_a
        for k in range(last_b + 1, kb):
            shift_b[k] = cur_b
        cur_a, cur_b = target - ya, target - yb
        shift_a[ka], shift_b[kb] = cur_a, cur_b
        last_a, last_b = ka, kb
    for k in range(last_a + 1, len(rows_a)):
        shift_a[k] = cur_a
    for k in range(last_b + 1, len(rows_b)):
        shift_b[k] = cur_b
    a = rows_a.stretched(shift_a, 0.0)
    offset = lay_a.width + GAP if apart else 0.0
    b = rows_b.stretched(shift_b, offset)
    return PairLayout(a, b, offset, lay_a.width + GAP + lay_b.width, max(a.height, b.height))


class _Rows:
    """A layout's boxes grouped into rows: vertical spans where boxes overlap."""

    def __init__(self, lay: Layout) -> None:
        self.lay = lay
        merged = merge_spans((b.y, b.y + b.h) for b in lay.boxes.values())
        self.tops = [t for t, _ in merged]
        self.bottoms = [b for _, b in merged]

    def __len__(self) -> int:
        return len(self.tops)

    def row_of(self, box: Box) -> int:
        return bisect.bisect_right(self.tops, box.y) - 1

    def map_y(self, y: float, shift: list[float]) -> float:
        if not self.tops:
            return y
        k = bisect.bisect_right(self.tops, y) - 1
        if k < 0:
            return y + shift[0]
        if y <= self.bottoms[k] or k + 1 == len(self.tops):
            return y + shift[k]
        lo, hi = self.bottoms[k], self.tops[k + 1]  # the gap below row k: stretch it
        t = (y - lo) / (hi - lo) if hi > lo else 0.0
        return y + shift[k] + t * (shift[k + 1] - shift[k])

    def stretched(self, shift: list[float], dx: float) -> Layout:
        lay = self.lay
        boxes = {n: replace(b, x=b.x + dx, y=b.y + shift[self.row_of(b)])
                 for n, b in lay.boxes.items()}
        edges = [EdgePath(e.source, e.target, e.kind, e.shape,
                          [(x + dx, self.map_y(y, shift)) for x, y in e.points], e.also)
                 for e in lay.edges]
        height = lay.height + (shift[-1] if shift else 0.0)
        return Layout(boxes, edges, lay.width, height, lay.direction, lay.engine,
                      list(lay.notes), lay.arrangement)
