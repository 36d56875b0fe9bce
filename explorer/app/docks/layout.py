"""Where the docks go and how much room they take: the graph panel keeps at least half
of the window at any size from 1024×640 up, after any number of relaunches.

``plan_for`` is a pure function of the window's size. The Models and Options docks take
the left column; the Layer and Image docks join it as tabs (one column) unless the
window is wide enough for a column of their own on the right with the graph still at
half the window. The Layer table and the Feature maps share the bottom, as short as the
graph needs. The Layer and Image docks show nothing before a selection or an image, so
they start hidden and appear (once per launch) with their first content."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import Qt

GRAPH_SHARE = 0.5  # of the window's area, the least the graph panel keeps
TARGET_SHARE = 0.53  # what a plan aims for: docks' title bars and separators vary
CHROME = 100  # menu bar, toolbar and status bar, about
LEFT, RIGHT, BOTTOM = ("catalogue", "options"), ("inspector", "image"), ("table", "features")
# empty until a selection or an image; the Draw panel until Model ▸ Draw a digit
ON_DEMAND = ("inspector", "image", "draw")
MIN_BOTTOM, MAX_BOTTOM = 110, 200


@dataclass(frozen=True)
class DockPlan:
    columns: int  # 1: Layer and Image are tabs beside Options; 2: a right column
    left: int
    right: int
    bottom: int


def plan_for(width: int, height: int) -> DockPlan:
    """Dock sizes for a window of ``width`` × ``height`` that leave the graph panel
    ``TARGET_SHARE`` of it: a right column only where the bottom keeps 150 px beside it."""
    central = height - CHROME
    left = max(214, min(260, width // 5))
    for columns, side, right, least in ((2, 240, 260, 150), (1, left, 0, MIN_BOTTOM)):
        graph_width = max(1, width - side - right - 12)
        bottom = central - math.ceil(TARGET_SHARE * width * height / graph_width)
        if bottom >= least or columns == 1:
            return DockPlan(columns, side, right, max(MIN_BOTTOM, min(MAX_BOTTOM, bottom)))
    raise AssertionError("unreachable")


def graph_share(window) -> float:
    """The graph panel's part of the window's area (0 before the core has loaded)."""
    panel = getattr(window, "panel", None)
    area = window.width() * window.height()
    if panel is None or not area:
        return 0.0
    return panel.width() * panel.height() / area


def apply_plan(window, plan: DockPlan, waiting: set[str]) -> None:
    """Put every dock where ``plan`` says, sized by it; the docks in ``waiting`` stay
    hidden until they have something to show (see ``reveal``)."""
    docks = window.docks
    known = LEFT + RIGHT + BOTTOM
    # docks other parts of the window add (Training, Draw) join the tabs of the area
    # they were in: the bottom's, or the side's
    extra = {key: (window.dockWidgetArea(dock) == Qt.BottomDockWidgetArea,
                   not dock.isHidden()) for key, dock in docks.items() if key not in known}
    for dock in docks.values():
        window.removeDockWidget(dock)
    for key in LEFT:
        window.addDockWidget(Qt.LeftDockWidgetArea, docks[key], Qt.Vertical)
    for key in BOTTOM:
        window.addDockWidget(Qt.BottomDockWidgetArea, docks[key])
    window.tabifyDockWidget(docks["table"], docks["features"])
    if plan.columns == 2:
        window.addDockWidget(Qt.RightDockWidgetArea, docks["inspector"])
        window.tabifyDockWidget(docks["inspector"], docks["image"])
    else:
        window.tabifyDockWidget(docks["options"], docks["inspector"])
        window.tabifyDockWidget(docks["options"], docks["image"])
    for key, (bottom, _) in extra.items():
        anchor = docks["table" if bottom else side_key(plan)]
        window.addDockWidget(window.dockWidgetArea(anchor), docks[key])
        window.tabifyDockWidget(anchor, docks[key])
    window.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
    window.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
    for key, dock in docks.items():
        shown = extra[key][1] if key in extra else True
        dock.setVisible(shown and key not in waiting)
    docks["options"].raise_()
    docks["table"].raise_()
    window.resizeDocks([docks["catalogue"]], [plan.left], Qt.Horizontal)
    if plan.columns == 2 and "inspector" not in waiting:
        window.resizeDocks([docks["inspector"]], [plan.right], Qt.Horizontal)
    window.resizeDocks([docks["table"]], [plan.bottom], Qt.Vertical)


def side_key(plan: DockPlan) -> str:
    """The dock whose tabs the side's other docks join."""
    return "inspector" if plan.columns == 2 else "options"


def reveal(window, key: str, waiting: set[str]) -> None:
    """A dock that waited for content shows now, raised, at its plan's width."""
    dock = window.docks[key]
    if key not in waiting:
        return
    waiting.discard(key)
    dock.show()
    dock.raise_()
    if window.dockWidgetArea(dock) == Qt.RightDockWidgetArea:
        plan = plan_for(window.width(), window.height())
        window.resizeDocks([dock], [plan.right], Qt.Horizontal)
