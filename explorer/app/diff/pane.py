"""One side of the compare window: the graph view of one model (the same scene and view
as the main window's), with its differences as halos under the boxes and edges."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QLabel, QVBoxLayout, QWidget

from ...graph.style import DIFF_HALO, DIFF_STYLES
from ..graph.scene import GraphScene
from ..graph.view import GraphView

HALO_ALPHA = 0.55  # the colour's strength over white (as the exported drawings)


def halo_colour(status: str) -> QColor:
    """Opaque (the colour over white): DenseNet's hundreds of overlapping concatenation
    halos cost a blend each when translucent, and an opaque one looks the same."""
    colour = QColor(DIFF_STYLES[status][0])
    return QColor(*(round(255 - HALO_ALPHA * (255 - c))
                    for c in (colour.red(), colour.green(), colour.blue())))


class DiffPane(QWidget):
    """A title, then the graph. ``halos`` maps a node id or an (u, v) edge to the status
    drawn under it, so a test reads what a person sees."""

    nodeSelected = Signal(str)
    nodeActivated = Signal(str)

    def __init__(self, side: str, parent=None) -> None:
        super().__init__(parent)
        self.side = side
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; padding: 2px 4px;")
        self.scene = GraphScene(self)
        self.view = GraphView(self.scene, self)
        self.halos: dict = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        self.view.nodeSelected.connect(self.nodeSelected)
        self.view.nodeActivated.connect(self.nodeActivated)

    def show_side(self, title: str, view, lay, node_status: dict, edge_status: dict,
                  height: float) -> None:
        """Draw ``view`` with ``lay``; the scene is ``height`` tall in both panes so that
        one scroll position shows matched nodes side by side."""
        self.title.setText(title)
        self.scene.show_layout(view, lay)
        self.scene.setSceneRect(QRectF(-20, -20, lay.width + 60, height + 40))
        self.halos = {}
        pad = DIFF_HALO / 2
        for n, status in node_status.items():
            if status == "same" or n not in lay.boxes:
                continue
            b = lay.boxes[n]
            path = QPainterPath()
            path.addRoundedRect(QRectF(b.x - pad, b.y - pad, b.w + 2 * pad, b.h + 2 * pad), 7, 7)
            item = QGraphicsPathItem(path)
            item.setBrush(QBrush(halo_colour(status)))
            item.setPen(Qt.NoPen)
            item.setZValue(-3)
            self.scene.addItem(item)
            self.halos[n] = status
        for e in lay.edges:
            status = edge_status.get((e.source, e.target), "same")
            if status == "same":
                continue
            path = QPainterPath()
            path.moveTo(*e.points[0])
            for x, y in e.points[1:]:
                path.lineTo(x, y)
            item = QGraphicsPathItem(path)
            pen = QPen(halo_colour(status), DIFF_HALO)
            pen.setJoinStyle(Qt.MiterJoin)
            pen.setCapStyle(Qt.FlatCap)
            item.setPen(pen)
            item.setZValue(-2)
            self.scene.addItem(item)
            self.halos[e.source, e.target] = status

    def go_to(self, node_id: str | None) -> None:
        """Select ``node_id`` (None: nothing) and bring it into view."""
        blocked = self.scene.blockSignals(True)  # a selection from the state, not a click
        try:
            self.scene.select_node(node_id or "")
        finally:
            self.scene.blockSignals(blocked)
        if node_id:
            self.view.center_on(node_id)
