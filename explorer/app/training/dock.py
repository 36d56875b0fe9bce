"""The Training dock: live curves of the run in the TrainingLog (pyqtgraph), one colour
per model: training error (solid) and test error (dashed) per epoch on the left, the
running training loss every few steps on the right; the run's state, Cancel, and where
its files are. While it runs, "Show weights now" asks for a copy of the model being
trained (the one picked when two are), for the window's images, feature maps and Flow
dock; "after each epoch" asks for one at every epoch end."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...training.log import TrainingLog

ERRORS = "error % per epoch (solid: training, dashed: test)"
SEGMENTATION = ("mean IoU % per epoch (solid: training, dashed: test), "
                "test boundary F1 % (dotted)")
@dataclass(frozen=True)
class Curve:
    plot: pg.PlotWidget
    name: str
    x: list
    y: list
    style: dict


COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def _plot(title: str, left: str) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    plot.setBackground(None)
    plot.setTitle(title, size="9pt")
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", left)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMouseEnabled(x=False, y=False)
    return plot  # no legend inside: six entries covered the last epochs' curves


def key_html(labels, colours=None) -> str:
    """The models' key under the plots: each model's colour and name (the title says which
    line style is which measure)."""
    colours = colours or COLOURS * 2
    return "&nbsp;&nbsp;&nbsp;".join(
        f"<span style='color:{c}; font-weight:bold'>━━</span>&nbsp;{escape(label)}"
        for label, c in zip(labels, colours))


class TrainingDock(QWidget):
    cancelRequested = Signal()
    refreshRequested = Signal(str)  # the label of the model whose weights to show now
    everyEpochToggled = Signal(bool)
    modelPicked = Signal(str)  # the label of the model the window is to follow

    def __init__(self, log: TrainingLog, parent=None) -> None:
        super().__init__(parent)
        self.log = log
        self.status = QLabel("Model ▸ Train… trains the current model; a second model can be "
                             "trained beside it on the same data order.", wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.cancel = QPushButton("Cancel", visible=False)
        self.cancel.clicked.connect(self.cancelRequested)
        self.refresh = QPushButton("Show weights now", visible=False)
        self.refresh.setToolTip("Run the image, its feature maps and the Flow dock's pass on "
                                "a copy of the weights as they are at the next training "
                                "step; the training goes on")
        self.refresh.clicked.connect(lambda: self.refreshRequested.emit(self.which.currentText()))
        self.which = QComboBox(visible=False)
        self.which.setToolTip("the model whose weights the window shows")
        self.which.currentTextChanged.connect(lambda text: text and self.modelPicked.emit(text))
        self.every_epoch = QCheckBox("after each epoch", visible=False)
        self.every_epoch.setToolTip("show the weights again at the end of every epoch")
        self.every_epoch.toggled.connect(self.everyEpochToggled)
        self.errors = _plot(ERRORS, "%")
        self.losses = _plot("training loss (running mean)", "loss")
        plots = QHBoxLayout()
        plots.addWidget(self.errors, 1)
        plots.addWidget(self.losses, 1)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        for widget in (self.which, self.refresh, self.every_epoch, self.cancel):
            top.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(plots, 1)
        self.key = QLabel(objectName="training_key", visible=False)
        layout.addWidget(self.key)
        self.errors.setYRange(0, 100, padding=0.02)
        self._items: list = []
        self._keys: list = []
        self._title, self._epochs = ERRORS, -1
        self.render()

    def render(self) -> None:
        """Draw the log as it stands (called after each report)."""
        log = self.log
        curves = [curve for label, colour in zip(log.labels, COLOURS * 2)
                  for curve in self._curves(label, colour)]
        seg = any(m.mean_iou is not None for h in log.history.values() for m in h)
        self._draw(curves, SEGMENTATION if seg else ERRORS)
        self._show_controls(log)
        self.key.setText(key_html(log.labels))
        self.key.setVisible(bool(log.labels))
        text = log.message
        if log.running and log.labels:
            text = f"{log.message} — {log.progress_text()}"
        if log.folder:
            text += f"<br><small>files: {log.folder}</small>"
        self.status.setText(text)
        self.cancel.setVisible(log.running)

    def _curves(self, label: str, colour: str) -> list[Curve]:
        """One model's curves: error (or, for segmentation, mean IoU and the boundary F1)
        per epoch, and its running training loss. None before its first epoch: no legend
        entry that could name the wrong measure."""
        history = self.log.history.get(label, [])
        epochs = [m.epoch for m in history]
        steps = self.log.steps.get(label, [])
        loss = Curve(self.losses, label, [x for x, _ in steps], [y for _, y in steps],
                     dict(pen=pg.mkPen(colour, width=2)))
        dashed = dict(pen=pg.mkPen(colour, width=1.5, style=Qt.DashLine))
        if not history:
            return [loss]
        if any(m.mean_iou is not None for m in history):
            dots = dict(symbol="o", symbolSize=4, symbolBrush=colour)
            series = (
                ("training mean IoU", [m.train_miou or 0.0 for m in history],
                 dict(pen=pg.mkPen(colour, width=2.5), **dots)),
                ("test mean IoU", [m.mean_iou or 0.0 for m in history], {**dashed, **dots}),
                ("boundary F1", [m.boundary_f1 or 0.0 for m in history],
                 dict(pen=pg.mkPen(colour, width=1.5, style=Qt.DotLine), **dots)))
        else:
            series = (
                ("training", [m.train_error for m in history],
                 dict(pen=pg.mkPen(colour, width=2.5), symbol="o", symbolSize=5,
                      symbolBrush=colour)),
                ("test", [m.test_error for m in history], dashed))
        return [*(Curve(self.errors, f"{label} {name}", epochs, [100 * v for v in values],
                        style) for name, values, style in series), loss]

    def _draw(self, curves: list[Curve], title: str) -> None:
        """Give existing curves their new points; rebuild the plots only when the set of
        curves changes. PySide6 6.12 on Python 3.11 drops a reference to None on each void
        call, and clearing and re-plotting at every report made hundreds of them: a long
        run ended in 'Fatal Python error: none_dealloc'."""
        keys = [(id(c.plot), c.name) for c in curves]
        if keys != self._keys:
            for plot in (self.errors, self.losses):
                plot.clear()
            self._items = [c.plot.plot(c.x, c.y, name=c.name, **c.style) for c in curves]
            self._keys = keys
        else:
            for item, c in zip(self._items, curves):
                if (list(item.xData if item.xData is not None else []),
                        list(item.yData if item.yData is not None else [])) != (c.x, c.y):
                    item.setData(c.x, c.y)
        if title != self._title:
            self.errors.setTitle(title, size="9pt")
            self._title = title
        if self.log.epochs != self._epochs:
            for plot in (self.errors, self.losses):
                plot.setXRange(0, self.log.epochs or 1, padding=0.02)
            self._epochs = self.log.epochs

    def _show_controls(self, log: TrainingLog) -> None:
        running = log.running and bool(log.labels)
        for widget in (self.refresh, self.every_epoch):
            widget.setVisible(running)
        if [self.which.itemText(i) for i in range(self.which.count())] != list(log.labels):
            self.which.clear()
            self.which.addItems(list(log.labels))
        self.which.setVisible(running and len(log.labels) > 1)
