"""Where a long diagram's first screen starts.

A tall diagram is shown at a readable zoom, so only its first screen is seen before any
scrolling. That screen starts at the input, unless further down one screen would show
more kinds of structure (SE-ResNet's gate sits below its first bottleneck's convolutions:
starting there shows the gate, the scale and the shortcut's add together, as the paper's
figure of the SE module does)."""

from __future__ import annotations

from .layout import Layout

CONTEXT = 0.15  # of a screen, kept above the structure a moved screen is chosen for
ABOVE = 0.7  # of the free room, above an edge the screen is moved to


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
    return min(starts, key=lambda s: (-kinds_seen(s), s))
