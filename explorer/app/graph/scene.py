"""The layer graph as a QGraphicsScene, drawn from a core Layout and the shared style
table (the same colours and dashes the SVG/PNG exporters use)."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
)

from ...export.graph_export import FONT_PX
from ...graph.layergraph import LayerGraph
from ...graph.layout import Layout
from ...graph.style import EDGE_STYLES, NODE_STYLES, category, motif_bracket, motif_text, shape_text

LINE_HEIGHT = 14.0
SELECTED_PEN = QPen(QColor("#ff8c00"), 3)


def pen_for(kind: str, scale: float = 1.0) -> QPen:
    colour, width, dash, _ = EDGE_STYLES[kind]
    pen = QPen(QColor(colour), width * scale)
    pen.setCosmetic(False)
    if dash:
        pen.setDashPattern([dash[0] / width, dash[1] / width])
    return pen


class NodeItem(QGraphicsPathItem):
    """A rounded box with its label lines as child text items.

    Everything is a stock item painted in C++: no Python runs while the view paints,
    so painting never waits for the GIL held by a worker thread (with Python paint()
    overrides every item did, and a repaint during tracing took hundreds of ms)."""

    def __init__(self, node_id: str, data: dict, box, font: QFont) -> None:
        super().__init__()
        self.node_id = node_id
        self.data = data
        self.rect = QRectF(0, 0, box.w, box.h)
        path = QPainterPath()
        path.addRoundedRect(self.rect, 4, 4)
        self.setPath(path)
        self.setPos(box.x, box.y)
        fill, border = NODE_STYLES[category(data)]
        self.border = QColor(border)
        self.setBrush(QBrush(QColor(fill)))
        self.setPen(QPen(self.border, 1.2))
        bold = QFont(font)
        bold.setBold(True)
        for i, line in enumerate(box.label):
            text = QGraphicsSimpleTextItem(line, self)
            text.setFont(bold if i == 0 else font)
            width = text.boundingRect().width()
            text.setPos((box.w - width) / 2, 5 + LINE_HEIGHT * i)
        if "residual" in data.get("motifs", {}):
            bracket = QPainterPath()
            pts = motif_bracket(0.0, 0.0, box.w, box.h)
            bracket.moveTo(*pts[0])
            for x, y in pts[1:]:
                bracket.lineTo(x, y)
            QGraphicsPathItem(bracket, self).setPen(pen_for("residual"))
        self.setFlag(QGraphicsItem.ItemIsSelectable, True)
        self.setCursor(Qt.PointingHandCursor)
        tip = [f"<b>{node_id}</b>", data.get("op", ""),
               f"out {shape_text(data.get('out_shape', ()))}"]
        if data.get("params"):
            tip.append(f"{data['params']:,} parameters")
        if data.get("folded"):
            tip.append("double-click to unfold")
        if data.get("motifs"):
            tip.append(motif_text(data["motifs"]))
        self.setToolTip("<br>".join(tip))

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemSelectedHasChanged:
            self.setPen(SELECTED_PEN if value else QPen(self.border, 1.2))
        return super().itemChange(change, value)


class EdgeItem(QGraphicsPathItem):
    def __init__(self, edge, scale: float = 1.0) -> None:
        super().__init__()
        self.source, self.target, self.kind = edge.source, edge.target, edge.kind
        path = QPainterPath(QPointF(*edge.points[0]))
        for x, y in edge.points[1:]:
            path.lineTo(x, y)
        self.setPath(path)
        pen = pen_for(edge.kind, scale)
        self.setPen(pen)
        self.setZValue(-1)
        self.under = []  # the kinds it carries besides its own, drawn beneath it
        for kind in edge.also:
            line = QGraphicsPathItem(path, self)
            line.setPen(pen_for(kind, scale))
            line.setFlag(QGraphicsItem.ItemStacksBehindParent)
            self.under.append((kind, line))
        self.head = QGraphicsPolygonItem(_arrow_head(edge.points[-2], edge.points[-1]), self)
        self.head.setBrush(pen.color())
        self.head.setPen(Qt.NoPen)
        shape = shape_text(edge.shape) if edge.shape else ""
        self.setToolTip(f"{edge.kind}: {edge.source} → {edge.target}<br>{shape}")

    def ink(self, kind: str, colour: QColor) -> None:
        """Draw the lines of ``kind`` (the edge's own with its head, or one it carries
        beneath) in ``colour``."""
        lines = [line for k, line in self.under if k == kind]
        if self.kind == kind:
            lines.append(self)
            self.head.setBrush(colour)
        for line in lines:
            pen = line.pen()
            pen.setColor(colour)
            line.setPen(pen)


def _arrow_head(p0, p1, size: float = 7.0) -> QPolygonF:
    import math

    angle = math.atan2(p1[1] - p0[1], p1[0] - p0[0])
    return QPolygonF([QPointF(*p1),
                      QPointF(p1[0] - size * math.cos(angle - 0.4),
                              p1[1] - size * math.sin(angle - 0.4)),
                      QPointF(p1[0] - size * math.cos(angle + 0.4),
                              p1[1] - size * math.sin(angle + 0.4))])


class GraphScene(QGraphicsScene):
    """The drawn graph. ``data_ink`` recolours data-flow edges for a dark canvas; exports
    draw through ``plain()``: the style table's colours, no selection, no Find halos."""

    laidOut = Signal(object)  # the Layout just drawn

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.nodes: dict[str, NodeItem] = {}
        self.edges: list[EdgeItem] = []
        self.view_graph: LayerGraph | None = None
        self.layout: Layout | None = None
        self.data_ink: str | None = None
        # The exporters' font and size, so an SVG reads as the view does.
        self.font = QFont("DejaVu Sans")
        self.font.setPixelSize(FONT_PX)

    def show_layout(self, view: LayerGraph, lay: Layout) -> None:
        self.clear()
        self.nodes, self.edges = {}, []
        self.view_graph, self.layout = view, lay
        for edge in lay.edges:
            item = EdgeItem(edge)
            self.addItem(item)
            self.edges.append(item)
        for n, box in lay.boxes.items():
            item = NodeItem(n, view.nx.nodes[n], box, self.font)
            self.addItem(item)
            self.nodes[n] = item
        self.setSceneRect(QRectF(-20, -20, lay.width + 60, lay.height + 40))
        self._ink_edges(self.data_ink)
        self.laidOut.emit(lay)

    def set_data_ink(self, colour: str | None) -> None:
        self.data_ink = colour
        self._ink_edges(colour)

    def _ink_edges(self, colour: str | None) -> None:
        ink = QColor(colour or EDGE_STYLES["data"][0])
        for edge in self.edges:
            edge.ink("data", ink)

    @contextmanager
    def plain(self):
        """Drawn as on paper for as long as the block runs: the style table's edge
        colours, every box with its own border, no Find halo; then as it was."""
        selected = [item for item in self.nodes.values() if item.isSelected()]
        halos = [item.halo for item in self.nodes.values()
                 if getattr(item, "halo", None) is not None and item.halo.isVisible()]
        blocked = self.blockSignals(True)  # the state's selection does not change
        try:
            for item in selected:
                item.setSelected(False)
            for halo in halos:
                halo.setVisible(False)
            self._ink_edges(None)
            yield self
        finally:
            self._ink_edges(self.data_ink)
            for halo in halos:
                halo.setVisible(True)
            for item in selected:
                item.setSelected(True)
            self.blockSignals(blocked)

    def select_node(self, node_id: str) -> NodeItem | None:
        item = self.nodes.get(node_id)
        self.clearSelection()
        if item is not None:
            item.setSelected(True)
        return item

    def find(self, text: str) -> list[str]:
        """Nodes whose id, path or op contains ``text`` (case-insensitive), in call order."""
        t = text.lower().strip()
        if not t or self.view_graph is None:
            return []
        g = self.view_graph.nx
        hits = [n for n in g if t in n.lower() or t in str(g.nodes[n].get("op", "")).lower()]
        return sorted(hits, key=lambda n: g.nodes[n]["order"])
