"""Feature maps of the selected layer (pyqtgraph): a channel grid with a shared or
per-channel scale, hover for channel and value, click a channel for it large with its
histogram and statistics, sort channels by activation, and the layer's histogram."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..inference.render import as_chw, channel_grid, channel_stats, top_channels

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
MAX_CHANNELS = 256


class FeaturePanel(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.act: np.ndarray | None = None
        self.order: np.ndarray | None = None
        self.cols = 1
        self.cell = (1, 1)
        self.title = QLabel("Drop an image on the window to see what each layer computes.")
        self.title.setWordWrap(True)
        self.scale = QComboBox()
        self.scale.addItem("scale per channel", "channel")
        self.scale.addItem("one shared scale", "shared")
        self.scale.currentIndexChanged.connect(self.redraw)
        self.sort = QCheckBox("sort by activation")
        self.sort.toggled.connect(self.redraw)
        self.hover = QLabel("")
        controls = QHBoxLayout()
        controls.addWidget(self.scale)
        controls.addWidget(self.sort)
        controls.addWidget(self.hover, 1)

        self.grid_view = pg.GraphicsLayoutWidget()
        self.grid_box = self.grid_view.addViewBox(lockAspect=True, invertY=True)
        self.grid_image = pg.ImageItem()
        self.grid_image.setColorMap(pg.colormap.get("viridis"))
        self.grid_box.addItem(self.grid_image)
        self.grid_view.scene().sigMouseMoved.connect(self._hovered)
        self.grid_view.scene().sigMouseClicked.connect(self._clicked)

        self.channel_view = pg.GraphicsLayoutWidget()
        self.channel_box = self.channel_view.addViewBox(lockAspect=True, invertY=True)
        self.channel_image = pg.ImageItem()
        self.channel_image.setColorMap(pg.colormap.get("viridis"))
        self.channel_box.addItem(self.channel_image)
        self.channel_hist = self.channel_view.addPlot(row=1, col=0, title="channel values")
        self.channel_hist.setMaximumHeight(130)
        self.stats = QLabel("")
        self.layer_hist = pg.PlotWidget(title="layer activation histogram")
        self.layer_hist.setMaximumHeight(150)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.channel_view, 1)
        rl.addWidget(self.stats)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.grid_view)
        split.addWidget(right)
        split.setSizes([600, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addLayout(controls)
        layout.addWidget(split, 1)
        layout.addWidget(self.layer_hist)

    def show_activation(self, name: str, act) -> None:
        a = as_chw(np.asarray(act, dtype=np.float32))
        self.act = a
        self.title.setText(f"<b>{name}</b> — {a.shape[0]} channels of {a.shape[1]}×{a.shape[2]}"
                           + (f" (the {MAX_CHANNELS} most active shown)"
                              if a.shape[0] > MAX_CHANNELS else ""))
        values = a.reshape(-1)
        hist, edges = np.histogram(values, bins=60)
        self.layer_hist.clear()
        self.layer_hist.plot(edges, hist, stepMode="center", fillLevel=0,
                             brush=(47, 109, 181, 120))
        self.redraw()
        self.show_channel(int(self.order[0]) if self.order is not None and len(self.order) else 0)

    def redraw(self) -> None:
        if self.act is None:
            return
        n = self.act.shape[0]
        if self.sort.isChecked() or n > MAX_CHANNELS:
            self.order = top_channels(self.act, min(n, MAX_CHANNELS))
        else:
            self.order = np.arange(n)
        grid, self.cols = channel_grid(self.act, self.order, self.scale.currentData())
        self.cell = (self.act.shape[1] + 1, self.act.shape[2] + 1)
        self.grid_image.setImage(np.nan_to_num(grid, nan=-0.05), levels=(-0.05, 1.0))
        self.grid_box.autoRange()

    def channel_at(self, x: float, y: float) -> int | None:
        if self.act is None or x < 0 or y < 0:
            return None
        row, col = int(y // self.cell[0]), int(x // self.cell[1])
        if col >= self.cols:
            return None
        i = row * self.cols + col
        return int(self.order[i]) if i < len(self.order) else None

    def _hovered(self, pos) -> None:
        p = self.grid_box.mapSceneToView(pos)
        ch = self.channel_at(p.x(), p.y())
        if ch is None:
            self.hover.setText("")
            return
        y, x = int(p.y() % self.cell[0]), int(p.x() % self.cell[1])
        if y < self.act.shape[1] and x < self.act.shape[2]:
            self.hover.setText(f"channel {ch}  ({x}, {y}) = {self.act[ch, y, x]:.4g}")

    def _clicked(self, event) -> None:
        p = self.grid_box.mapSceneToView(event.scenePos())
        ch = self.channel_at(p.x(), p.y())
        if ch is not None:
            self.show_channel(ch)

    def show_channel(self, ch: int) -> None:
        if self.act is None:
            return
        m = self.act[ch]
        self.channel_image.setImage(m)
        self.channel_box.autoRange()
        hist, edges = np.histogram(m.reshape(-1), bins=40)
        self.channel_hist.clear()
        self.channel_hist.plot(edges, hist, stepMode="center", fillLevel=0,
                               brush=(214, 39, 40, 120))
        stats = channel_stats(self.act)
        self.stats.setText(f"channel {ch}: mean {stats['mean'][ch]:.4g}, max "
                           f"{stats['max'][ch]:.4g}, min {stats['min'][ch]:.4g}, "
                           f"sparsity {100 * stats['sparsity'][ch]:.1f}%")
        self.current_channel = ch
