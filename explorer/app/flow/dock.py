"""The Flow dock: one measure of the flow over depth on a log scale (pyqtgraph), one
line per model (the current model first, a second one overlaid), the layer under the
mouse named, a click on the current model's line selecting that layer in the diagram and
the table. It draws ``ViewState.flow``; the controls only ask for a new measurement."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...export.flow_export import MEASURES, PALETTE, series

NO_OVERLAY = "(no second model)"


class FlowDock(QWidget):
    measureRequested = Signal()
    layerChosen = Signal(str)  # a layer of the current model, clicked on its line
    colourToggled = Signal(bool)

    def __init__(self, state, models: list[str], parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.measure = QComboBox()
        for key, (title, _, _) in MEASURES.items():
            self.measure.addItem(title, key)
        self.measure.currentIndexChanged.connect(lambda _i: self.render())
        self.overlay = QComboBox()
        self.overlay.addItems([NO_OVERLAY, *models])
        self.overlay.setToolTip("a second model measured the same way, drawn on the same plot")
        self.mode = QComboBox()
        self.mode.addItems(["train", "eval"])
        self.mode.setToolTip("train: BN normalises with the batch's statistics, as in training")
        self.batch = QSpinBox(minimum=1, maximum=256, value=8, prefix="batch ")
        self.button = QPushButton("Measure")
        self.button.setToolTip("one forward and backward pass on random inputs, cross-entropy "
                               "to random labels (a fresh model has the papers' init)")
        self.button.clicked.connect(self.measureRequested)
        self.colour = QCheckBox("Colour the diagram")
        self.colour.setToolTip("fill the diagram's boxes by gradient RMS (log scale)")
        self.colour.toggled.connect(self.colourToggled)
        self.status = QLabel(self._summary(()))  # the measurement, or the point hovered
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.hover = self.status
        self.summary = self.status.text()
        self.plot = pg.PlotWidget()
        self.plot.setMinimumSize(80, 40)  # the bottom docks start short (docks/layout.py)
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # log ticks read "1e-9", not "x1e9"
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        for box in (self.measure, self.overlay):  # long model names: never wider than this
            box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(12)
        self.plot.setBackground(None)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "depth (weight layers from the input)")
        self.plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.plot.setMouseEnabled(x=True, y=False)
        self.marker = pg.ScatterPlotItem(size=10, pen=pg.mkPen("k", width=1.5), brush=None)
        self.points = np.zeros((0, 2))
        self.names: list[tuple[str, str, float]] = []  # per point: layer, model, value
        self.owner: list[int] = []  # per point: which result (0 is the current model)
        self.plot.scene().sigMouseMoved.connect(self._moved)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        controls = QHBoxLayout()
        for widget in (self.measure, self.overlay, self.mode, self.batch, self.button,
                       self.colour):
            controls.addWidget(widget)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        state.events.flow.connect(lambda _flow: self.render())

    # ------------------------------------------------------------------ settings
    def measure_key(self) -> str:
        return self.measure.currentData()

    def overlay_name(self) -> str | None:
        text = self.overlay.currentText()
        return None if text == NO_OVERLAY else text

    def set_overlay(self, name: str | None) -> None:
        index = self.overlay.findText(name or NO_OVERLAY)
        self.overlay.setCurrentIndex(max(0, index))

    # ------------------------------------------------------------------ drawing
    def render(self) -> None:
        results = self.state.flow or ()
        key = self.measure_key()
        title, log, _ = MEASURES[key]
        self.plot.clear()
        self.plot.setLogMode(x=False, y=log)
        self.plot.setLabel("left", title)
        points, names, owner = [], [], []
        for i, result in enumerate(results):
            data = series(result, key)
            colour = PALETTE[i % len(PALETTE)]
            xs = [x for x, _, _ in data]
            ys = [y for _, y, _ in data]
            self.plot.plot(xs, ys, pen=pg.mkPen(colour, width=2), name=result.model,
                           symbol="o", symbolSize=4, symbolBrush=colour, symbolPen=None)
            for x, y, row in data:
                points.append((x, math.log10(y) if log else y))
                names.append((row.name, result.model, y))
                owner.append(i)
        self.plot.addItem(self.marker)
        self.marker.setData([])
        if points:  # now, not at the next paint: a hidden tab is never painted
            self.plot.getPlotItem().vb.autoRange(padding=0.04)
        self.points = np.array(points).reshape(-1, 2)
        self.names, self.owner = names, owner
        self.summary = self._summary(results)
        self.status.setText(self.summary)

    @staticmethod
    def _summary(results) -> str:
        if not results:
            return ("Measure: one backward pass through the model shown and a second one: "
                    "where does the gradient shrink or grow?")
        parts = []
        for r in results:
            try:
                ratio = f"first/last conv gradient {r.first_over_last():.2g}"
            except ValueError:
                ratio = "no two convolutions with a gradient"
            parts.append(f"{r.model}: {ratio}")
        first = results[0]
        shape = "×".join(map(str, first.input_shape))
        return (f"{first.mode} mode, {shape} random inputs, {first.labels} labels, seed "
                f"{first.seed} — " + "; ".join(parts))

    # ------------------------------------------------------------------ the mouse
    def nearest(self, scene_pos) -> int | None:
        """The point nearest the mouse, within 12 pixels."""
        if not len(self.points):
            return None
        box = self.plot.getPlotItem().vb
        if not box.sceneBoundingRect().contains(scene_pos):
            return None
        (x0, x1), (y0, y1) = box.viewRange()
        width, height = box.width() or 1, box.height() or 1
        here = box.mapSceneToView(scene_pos)
        dx = (self.points[:, 0] - here.x()) / max(x1 - x0, 1e-12) * width
        dy = (self.points[:, 1] - here.y()) / max(y1 - y0, 1e-12) * height
        distance = np.hypot(dx, dy)
        best = int(np.argmin(distance))
        return best if distance[best] <= 12 else None

    def _moved(self, scene_pos) -> None:
        index = self.nearest(scene_pos)
        if index is None:
            self.marker.setData([])
            self.status.setText(self.summary)
            return
        self.show_point(index)

    def show_point(self, index: int) -> None:
        name, model, value = self.names[index]
        x, y = self.points[index]
        self.marker.setData([x], [y])
        click = " (click: select it)" if self.owner[index] == 0 else ""
        self.hover.setText(f"{name} in {model}: {MEASURES[self.measure_key()][0]} "
                           f"{value:.3g}{click}")

    def _clicked(self, event) -> None:
        index = self.nearest(event.scenePos())
        if index is not None and self.owner[index] == 0:
            self.layerChosen.emit(self.names[index][0])
