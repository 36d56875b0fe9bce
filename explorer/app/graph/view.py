"""The interactive graph view: wheel and key zoom, drag to pan, fit, an overview map,
click to select, double-click to fold or unfold, and a legend of edge kinds."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...graph.first_screen import first_screen_start
from ...graph.style import EDGE_STYLES, NODE_STYLES, category
from .scene import GraphScene, NodeItem

ZOOM_STEP = 1.2
MIN_OVERVIEW = 0.05  # below, boxes are specks: the overview shows a stretch instead
MIN_SCALE, MAX_SCALE = 0.02, 8.0


def whole_boxes(lay, top: float, height: float, give: float = 0.15) -> tuple[float, float]:
    """The stretch (top, height) of a top-to-bottom layout to show from ``top``: moved up
    to the top of a box the edge would cut, and up to ``give`` taller so that a box cut
    at the bottom is whole (Inception v3 opened with its first module's join cut off,
    ShuffleNet v1 with a box cut at the top)."""
    if lay is None:
        return top, height
    pad = 8.0
    while cut := [b.y - pad for b in lay.boxes.values() if b.y - pad < top < b.y + b.h]:
        top = min(cut)  # boxes side by side: up to the highest one the edge would cut
    bottom = top + height
    cut = [b.y + b.h + pad for b in lay.boxes.values() if b.y < bottom < b.y + b.h]
    if cut and max(cut) - top <= height * (1 + give):
        return top, max(cut) - top
    return top, height


class GraphView(QGraphicsView):
    nodeSelected = Signal(str)
    nodeActivated = Signal(str)  # double-click: fold or unfold
    zoomChanged = Signal(float)  # the compare window zooms its other pane along

    def __init__(self, scene: GraphScene, parent=None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setBackgroundBrush(QColor("#fbfbfb"))
        self.setFocusPolicy(Qt.StrongFocus)
        scene.selectionChanged.connect(self._selection_changed)
        for keys, slot in (((QKeySequence.ZoomIn, "+", "="), self.zoom_in),
                           ((QKeySequence.ZoomOut, "-"), self.zoom_out),
                           (("0", "F"), self.fit)):
            for key in keys:
                QShortcut(QKeySequence(key), self, slot, context=Qt.WidgetWithChildrenShortcut)

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        target = min(MAX_SCALE, max(MIN_SCALE, self.zoom * factor))
        self.scale(target / self.zoom, target / self.zoom)
        self.zoomChanged.emit(self.zoom)

    def zoom_in(self) -> None:
        self.set_zoom(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(1 / ZOOM_STEP)

    def fit(self) -> None:
        self.fitInView(self.scene().sceneRect(), Qt.KeepAspectRatio)
        if self.zoom > 1.5:  # a small graph stays readable instead of blown up
            self.resetTransform()
            self.scale(1.5, 1.5)
        self.zoomChanged.emit(self.zoom)

    def show_start(self, readable: float = 0.8, whole: float = 0.6,
                   idea: bool = False) -> None:
        """Fit the graph when it is legible whole (zoom ``whole``: a U-Net's U in one
        screen beats larger text), else show it at a readable zoom (0.8: 9 px captions;
        0.55 gave 6 px): its start or, with ``idea`` (a model just opened), its first
        screen that shows the most structure."""
        self.fit()
        if self.zoom >= whole:
            return
        self.set_zoom(readable / self.zoom)
        lay, rect = self.scene().layout, self.scene().sceneRect()
        seen = self.mapToScene(self.viewport().rect()).boundingRect()
        along = 0.0
        if idea and lay is not None:
            along = first_screen_start(lay, seen.width() if lay.direction == "LR"
                                       else seen.height())
        if lay is not None and lay.direction == "LR":
            self.centerOn((along or rect.left()) + seen.width() / 2, rect.center().y())
        else:
            top, height = whole_boxes(lay, along or rect.top(), seen.height())
            if height > seen.height():  # a little tighter: the box at the bottom whole
                self.set_zoom(seen.height() / height)
            # from the top (a scroll bar that went away made the view a little taller)
            height = self.mapToScene(self.viewport().rect()).boundingRect().height()
            self.centerOn(rect.center().x(), top + height / 2)

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120
        self.set_zoom(ZOOM_STEP ** steps)
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:
        item = self.itemAt(event.position().toPoint())
        while item is not None and not isinstance(item, NodeItem):
            item = item.parentItem()  # a label or the shortcut mark of a node
        if isinstance(item, NodeItem):
            self.nodeActivated.emit(item.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def center_on(self, node_id: str) -> None:
        item = self.scene().nodes.get(node_id)
        if item is not None:
            if self.zoom < 0.6:
                self.set_zoom(0.8 / self.zoom)
            self.centerOn(item)

    def _selection_changed(self) -> None:
        try:
            items = self.scene().selectedItems()
        except RuntimeError:  # the scene is being destroyed with the window
            return
        selected = [i for i in items if isinstance(i, NodeItem)]
        if selected:
            self.nodeSelected.emit(selected[0].node_id)


class Overview(QGraphicsView):
    """The whole graph, small, with the main view's visible area outlined; click to go."""

    def __init__(self, main: GraphView, parent=None) -> None:
        super().__init__(main.scene(), parent)
        self.main = main
        self.setInteractive(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setRenderHints(QPainter.Antialiasing)
        self.setFixedWidth(150)
        self.setFrameShape(QFrame.StyledPanel)
        main.horizontalScrollBar().valueChanged.connect(self._follow)
        main.verticalScrollBar().valueChanged.connect(self._follow)
        main.scene().sceneRectChanged.connect(lambda _: self.refit())

    def refit(self) -> None:
        """The whole graph, unless that would draw it thinner than MIN_OVERVIEW: then a
        stretch of it at that scale that follows the main view, as an editor's minimap."""
        self.fitInView(self.scene().sceneRect(), Qt.KeepAspectRatio)
        if self.transform().m11() < MIN_OVERVIEW:
            self.resetTransform()
            self.scale(MIN_OVERVIEW, MIN_OVERVIEW)
        self._follow()

    def _follow(self) -> None:
        if self.transform().m11() <= MIN_OVERVIEW:  # a stretch: keep the view's middle
            self.centerOn(self.main.mapToScene(self.main.viewport().rect().center()))
        self.viewport().update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.refit()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        visible = self.main.mapToScene(self.main.viewport().rect()).boundingRect()
        painter.setPen(QPen(QColor("#ff8c00"), 0))
        painter.setBrush(QColor(255, 140, 0, 40))
        painter.drawRect(visible)

    def mousePressEvent(self, event) -> None:
        self.main.centerOn(self.mapToScene(event.position().toPoint()))

    mouseMoveEvent = mousePressEvent


# Box colours the legend names (input, output, reshape and "other" explain themselves).
BOX_KINDS = ("conv", "norm", "activation", "pool", "linear", "upsample", "merge", "block")


def _stroke(colour: str) -> str:
    return f"color: {colour}; font-weight: bold;"


class Legend(QWidget):
    """The kinds of edge drawn in the graph, with the same pens as the scene, then the
    colours of the boxes drawn: only those present (LeNet-5 has no gate to explain)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        # the edge kinds and the box colours: one line, or two in a narrow graph panel
        # (one line cut them to "data flo", "activa" at 1024x640)
        self.rows = QBoxLayout(QBoxLayout.LeftToRight, self)
        self.rows.setContentsMargins(6, 2, 6, 2)
        self.rows.setSpacing(2)
        edges, boxes = QHBoxLayout(), QHBoxLayout()
        self.rows.addLayout(edges)
        self.rows.addLayout(boxes)
        self.entries: dict[str, tuple[QLabel, QLabel]] = {}
        for kind, (colour, _, dash, text) in EDGE_STYLES.items():
            swatch = QLabel("━━" if not dash else "╍╍")
            swatch.setStyleSheet(_stroke(colour))
            label = QLabel(text)
            label.setToolTip(f"{kind} edges")
            edges.addWidget(swatch)
            edges.addWidget(label)
            edges.addSpacing(8)
            self.entries[kind] = (swatch, label)
            swatch.hide()
            label.hide()
        edges.addStretch(1)
        self.boxes: dict[str, QLabel] = {}
        for kind in BOX_KINDS:
            fill, border = NODE_STYLES[kind]
            chip = QLabel(kind)
            chip.setStyleSheet(f"background: {fill}; border: 1px solid {border}; "
                               "border-radius: 3px; padding: 0 4px; color: black;")
            boxes.addWidget(chip)
            chip.hide()
            self.boxes[kind] = chip
        boxes.addStretch(1)
        self.lines = (edges, boxes)
        # Never wider than the graph: the docks beside keep their widths.
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)

    def _arrange(self) -> None:
        one_line = sum(line.sizeHint().width() for line in self.lines) + 16
        direction = (QBoxLayout.LeftToRight if one_line <= self.width()
                     else QBoxLayout.TopToBottom)
        if direction != self.rows.direction():
            self.rows.setDirection(direction)
            self.updateGeometry()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange()

    def show_layout(self, lay, view=None) -> None:
        kinds = lay.kinds()
        if view is not None and any("residual" in view.nx.nodes[n].get("motifs", {})
                                    for n in lay.boxes):
            kinds.add("residual")  # a folded block's red bracket is its shortcut
        for kind, widgets in self.entries.items():
            for widget in widgets:
                widget.setVisible(kind in kinds)
        drawn = {category(view.nx.nodes[n]) for n in lay.boxes} if view is not None else ()
        for kind, chip in self.boxes.items():
            chip.setVisible(kind in drawn)
        self._arrange()

    def set_data_ink(self, colour: str | None) -> None:
        self.entries["data"][0].setStyleSheet(_stroke(colour or EDGE_STYLES["data"][0]))

    def shown_kinds(self) -> list[str]:
        return [k for k, (swatch, _) in self.entries.items() if not swatch.isHidden()]

    def shown_boxes(self) -> list[str]:
        return [k for k, chip in self.boxes.items() if not chip.isHidden()]


class GraphPanel(QWidget):
    """The view, its overview and the legend together: the window's centre.

    ``arrangement`` is how the next layout should be drawn ("auto", "column" or "u", see
    ``explorer.graph.layout``); ``toggle_arrangement`` switches between the column and the
    encoder-decoder U and announces it with ``arrangementChanged`` for whoever lays out."""

    arrangementChanged = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.arrangement = "auto"
        self.scene = GraphScene(self)
        self.view = GraphView(self.scene, self)
        self.overview = Overview(self.view, self)
        self.legend = Legend(self)
        self.scene.laidOut.connect(
            lambda lay: self.legend.show_layout(lay, self.scene.view_graph))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.view, 1)
        row.addWidget(self.overview)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row, 1)
        column.addWidget(self.legend)

    def resizeEvent(self, event) -> None:
        """The overview takes a smaller part of a narrow panel (150 px was a third of the
        graph's room at 1024x640)."""
        super().resizeEvent(event)
        self.overview.setFixedWidth(max(90, min(150, self.width() // 7)))

    def set_arrangement(self, arrangement: str) -> None:
        from ...graph.layout import ARRANGEMENTS

        if arrangement not in ARRANGEMENTS:
            raise ValueError(f"arrangement must be one of {', '.join(ARRANGEMENTS)}")
        if arrangement != self.arrangement:
            self.arrangement = arrangement
            self.arrangementChanged.emit(arrangement)

    def toggle_arrangement(self) -> str:
        """The column if the U is drawn, else the U (which falls back to the column, with
        a note in the layout, for a view without skip or index links)."""
        lay = self.scene.layout
        drawn = lay.arrangement if lay is not None else "column"
        self.set_arrangement("column" if drawn == "u" else "u")
        return self.arrangement

    def set_canvas(self, theme: str) -> None:
        """The theme's background behind the graph and the ink of its data-flow edges
        (nodes keep the style table's pastel fills, which read on both)."""
        from ..theme import CANVAS, DATA_INK

        for view in (self.view, self.overview):
            view.setBackgroundBrush(QColor(CANVAS[theme]))
        self.scene.set_data_ink(DATA_INK[theme])
        self.legend.set_data_ink(DATA_INK[theme])
