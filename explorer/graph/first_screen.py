"""Where a long diagram's first screen starts.

A tall diagram is shown at a readable zoom, so only its first screen is seen before any
scrolling. That screen starts at the input, unless further down one screen would show
more kinds of structure (SE-ResNet's gate sits below its first bottleneck's convolutions:
starting there shows the gate, the scale and the shortcut's add together, as the paper's
figure of the SE module does). A structure the screen's end would cut (Inception v3's and
GoogLeNet's first module opened with their branches but the join cut off) is taken whole
by moving the start down, where the screen is long enough and nothing above is lost."""

from __future__ import annotations

from .layout import Layout

CONTEXT = 0.15  # of a screen, kept above the structure a moved screen is chosen for
ABOVE = 0.7  # of the free room, above an edge the screen is moved to
PAD = 8.0  # scene units kept beyond a box at the screen's end


def first_screen_start(lay: Layout, screen: float) -> float:
    """The coordinate along the flow (y top-down, x left-right) where a screen ``screen``
    long should start: the smallest start among those showing the most structure kinds
    (residual, branch, concat, gate, skip, index), each counted once whatever the number
    of its edges."""
    axis = 0 if lay.direction == "LR" else 1
    spans = [(min(p[axis] for p in e.points), max(p[axis] for p in e.points), e.kind)
             for e in lay.edges if e.kind != "data" and e.points]
    extent = lay.width if axis == 0 else lay.height
    if extent <= screen or not spans:
        return 0.0
    last, looked_at = extent - screen, screen * (1 - CONTEXT)  # its last part is not

    def moved_to(lo: float, hi: float) -> float:
        """A start showing the edge with most of the room above it: what leads to a
        join (the SE gate's pool and fcs before its scale) comes before it."""
        room = looked_at - (hi - lo)
        return min(last, max(0.0, lo - max(CONTEXT * screen, ABOVE * room)))

    def kinds_seen(start: float) -> int:
        end = start + looked_at
        return len({kind for lo, hi, kind in spans if lo < end and hi > start})

    starts = {0.0} | {moved_to(lo, hi) for lo, hi, _ in spans}
    best = min(starts, key=lambda s: (-kinds_seen(s), s))
    for _ in range(4):  # a module's branches whole, then its join
        moved = _whole_at_the_end(lay, axis, best, screen, kinds_seen)
        if moved == best:
            break
        best = moved
    return best


def _whole_at_the_end(lay: Layout, axis: int, start: float, screen: float,
                      kinds_seen) -> float:
    """``start``, moved further along so that the structure edges the screen's end cuts
    (and the boxes they end in) are whole, if that loses no structure above and keeps
    some context above the first."""
    end = start + screen - PAD
    ends, firsts = [], []
    for e in lay.edges:
        if e.kind == "data" or not e.points:
            continue
        lo = min(p[axis] for p in e.points)
        box = lay.boxes.get(e.target)
        far = max(p[axis] for p in e.points)
        if box is not None:
            far = max(far, box.x + box.w if axis == 0 else box.y + box.h)
        if lo >= start:
            firsts.append(lo)
        if lo < start + screen and far > end:  # it begins on screen and leaves it
            ends.append(far)
    if not ends:
        return start
    moved = max(ends) + PAD - screen
    extent = lay.width if axis == 0 else lay.height
    # what leads into the first structure stays in sight above it (ResNet-50's stem)
    if start < moved <= min(firsts, default=start) - CONTEXT * screen \
            and moved <= extent - screen \
            and kinds_seen(moved) >= kinds_seen(start):
        return moved
    return start
