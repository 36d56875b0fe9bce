"""The layer graph as a QGraphicsScene, drawn from a core Layout and the shared style
table (the same colours and dashes the SVG/PNG exporters use)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QStyleOptionGraphicsItem,
)

from ..graph.layergraph import LayerGraph
from ..graph.layout import Layout
from ..graph.style import EDGE_STYLES, NODE_STYLES, category, motif_bracket, motif_text, shape_text

LINE_HEIGHT = 14.0


def pen_for(kind: str, scale: float = 1.0) -> QPen:
    colour, width, dash, _ = EDGE_STYLES[kind]
    pen = QPen(QColor(colour), width * scale)
    pen.setCosmetic(False)
    if dash:
        pen.setDashPattern([dash[0] / width, dash[1] / width])
    return pen


class NodeItem(QGraphicsItem):
    """A box with its label; text is skipped when zoomed far out (level of detail)."""

    def __init__(self, node_id: str, data: dict, box, font: QFont) -> None:
        super().__init__()
        self.node_id = node_id
        self.data = data
        self.lines = box.label
        self.rect = QRectF(0, 0, box.w, box.h)
        self.setPos(box.x, box.y)
        fill, border = NODE_STYLES[category(data)]
        self.fill, self.border = QColor(fill), QColor(border)
        self.font = font
        self.bold = QFont(font)
        self.bold.setBold(True)
        self.motif = "residual" in data.get("motifs", {})
        self.setFlag(QGraphicsItem.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
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

    def boundingRect(self) -> QRectF:
        extra = 12 if self.motif else 2
        return self.rect.adjusted(-2, -8 if self.motif else -2, extra, 8 if self.motif else 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        painter.setPen(QPen(QColor("#ff8c00") if selected else self.border,
                            3 if selected else 1.2))
        painter.setBrush(QBrush(self.fill))
        painter.drawRoundedRect(self.rect, 4, 4)
        if self.motif:
            painter.setPen(pen_for("residual"))
            painter.setBrush(Qt.NoBrush)
            pts = motif_bracket(0.0, 0.0, self.rect.width(), self.rect.height())
            painter.drawPolyline(QPolygonF([QPointF(x, y) for x, y in pts]))
        if lod < 0.35:  # too small to read: boxes only
            return
        painter.setPen(QColor("#111111"))
        for i, line in enumerate(self.lines):
            painter.setFont(self.bold if i == 0 else self.font)
            r = QRectF(2, 5 + LINE_HEIGHT * i, self.rect.width() - 4, LINE_HEIGHT)
            painter.drawText(r, Qt.AlignHCenter | Qt.AlignVCenter, line)


class EdgeItem(QGraphicsPathItem):
    def __init__(self, edge, scale: float = 1.0) -> None:
        super().__init__()
        self.source, self.target, self.kind = edge.source, edge.target, edge.kind
        path = QPainterPath(QPointF(*edge.points[0]))
        for x, y in edge.points[1:]:
            path.lineTo(x, y)
        (x0, y0), (x1, y1) = edge.points[-2], edge.points[-1]
        self.setPath(path)
        self.setPen(pen_for(edge.kind, scale))
        self.setZValue(-1)
        shape = shape_text(edge.shape) if edge.shape else ""
        self.setToolTip(f"{edge.kind}: {edge.source} → {edge.target}<br>{shape}")
        self.setAcceptHoverEvents(True)
        self.head = _arrow_head((x0, y0), (x1, y1))

    def paint(self, painter: QPainter, option, widget=None) -> None:
        super().paint(painter, option, widget)
        painter.setBrush(self.pen().color())
        painter.setPen(Qt.NoPen)
        painter.drawPolygon(self.head)

    def boundingRect(self) -> QRectF:
        return super().boundingRect().united(self.head.boundingRect())

    def shape(self) -> QPainterPath:  # a wider band, so hovering a thin edge is easy
        from PySide6.QtGui import QPainterPathStroker

        stroker = QPainterPathStroker()
        stroker.setWidth(8)
        return stroker.createStroke(self.path())


def _arrow_head(p0, p1, size: float = 7.0) -> QPolygonF:
    import math

    angle = math.atan2(p1[1] - p0[1], p1[0] - p0[0])
    return QPolygonF([QPointF(*p1),
                      QPointF(p1[0] - size * math.cos(angle - 0.4),
                              p1[1] - size * math.sin(angle - 0.4)),
                      QPointF(p1[0] - size * math.cos(angle + 0.4),
                              p1[1] - size * math.sin(angle + 0.4))])


class GraphScene(QGraphicsScene):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.nodes: dict[str, NodeItem] = {}
        self.edges: list[EdgeItem] = []
        self.view_graph: LayerGraph | None = None
        self.font = QFont()
        self.font.setPointSizeF(8.5)

    def show_layout(self, view: LayerGraph, lay: Layout) -> None:
        self.clear()
        self.nodes, self.edges = {}, []
        self.view_graph = view
        for edge in lay.edges:
            item = EdgeItem(edge)
            self.addItem(item)
            self.edges.append(item)
        for n, box in lay.boxes.items():
            item = NodeItem(n, view.nx.nodes[n], box, self.font)
            self.addItem(item)
            self.nodes[n] = item
        self.setSceneRect(QRectF(-20, -20, lay.width + 60, lay.height + 40))

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
