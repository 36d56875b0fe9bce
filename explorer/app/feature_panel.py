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
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..inference.render import as_chw, channel_grid, channel_stats, top_channels

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
MAX_CHANNELS = 256
MAX_SIDE = 1024  # grids are shown downsampled beyond this; hover still reads full values


def grid_columns(n: int, h: int, w: int, aspect: float) -> int:
    """Columns that make ``n`` maps of h x w fill a panel ``aspect`` times as wide as
    high (a wide, short dock gets long rows instead of a small square in its middle)."""
    return max(1, min(n, round(np.sqrt(n * h / max(w, 1) * max(aspect, 0.05)))))


def compute_maps(act, sort: bool, scale: str, aspect: float = 1.0) -> dict:
    """Everything the panel draws, computed off the UI thread: VGG-16's first layers
    (64 maps of 224x224) took over 100 ms of numpy work on the UI thread."""
    a = as_chw(np.asarray(act, dtype=np.float32))
    n = a.shape[0]
    order = top_channels(a, min(n, MAX_CHANNELS)) if sort or n > MAX_CHANNELS else np.arange(n)
    grid, cols = channel_grid(a, order, scale,
                              columns=grid_columns(len(order), a.shape[1], a.shape[2], aspect))
    full = grid.shape
    step = max(1, int(np.ceil(max(full) / MAX_SIDE)))
    hist, edges = np.histogram(a.reshape(-1), bins=60)
    return {"act": a, "order": order, "grid": np.nan_to_num(grid[::step, ::step], nan=-0.05),
            "full": full, "cols": cols, "hist": (hist, edges), "stats": channel_stats(a)}


EMPTY = "Drop an image on the window to see what each layer computes."


class FeaturePanel(QWidget):
    def __init__(self, compute=None, parent=None) -> None:
        """``compute(job, callback)`` runs ``compute_maps(*job)`` in the background and
        hands the result to ``callback``; without it the maps are computed here."""
        super().__init__(parent)
        self.compute = compute
        self.act: np.ndarray | None = None
        self.order: np.ndarray | None = None
        self.cols = 1
        self.cell = (1, 1)
        self.title = QLabel(EMPTY)
        self.title.setWordWrap(True)
        self.scale = QComboBox()
        self.scale.addItem("scale per channel", "channel")
        self.scale.addItem("one shared scale", "shared")
        self.scale.currentIndexChanged.connect(self.redraw)
        self.sort = QCheckBox("sort by activation")
        self.sort.toggled.connect(self.redraw)
        self.hover = QLabel("")  # its text changes as the mouse moves: no minimum from it
        self.hover.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
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
        self.stats = QLabel("", wordWrap=True)
        self.layer_hist = pg.PlotWidget(title="layer activation histogram")

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.channel_view, 1)
        rl.addWidget(self.stats)
        rl.addWidget(self.layer_hist, 1)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.grid_view)
        split.addWidget(right)
        split.setSizes([600, 300])
        split.setStretchFactor(0, 3)  # the grid is the panel's main thing
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addLayout(controls)
        layout.addWidget(split, 1)  # the grid gets the panel's whole height

    def clear(self) -> None:
        """Nothing to show (a new model): no maps, no readout of the old one."""
        self.act, self.order, self.name = None, None, ""
        self.title.setText(EMPTY)
        self.hover.setText("")
        self.stats.setText("")
        self.grid_image.clear()
        self.channel_image.clear()
        self.channel_hist.clear()
        self.layer_hist.clear()

    def show_activation(self, name: str, act) -> None:
        self.name = name
        size = self.grid_view.size()
        job = (act, self.sort.isChecked(), self.scale.currentData(),
               size.width() / max(1, size.height()))
        if self.compute is not None:
            self.compute(job, self.show_maps)
        else:
            self.show_maps(compute_maps(*job))

    def show_maps(self, maps: dict) -> None:
        a = maps["act"]
        self.act, self.order, self.cols, self.stats_all = (a, maps["order"], maps["cols"],
                                                           maps["stats"])
        self.title.setText(f"<b>{self.name}</b> — {a.shape[0]} channels of "
                           f"{a.shape[1]}×{a.shape[2]}"
                           + (f" (the {MAX_CHANNELS} most active shown)"
                              if a.shape[0] > MAX_CHANNELS else ""))
        hist, edges = maps["hist"]
        self.layer_hist.clear()
        self.layer_hist.plot(edges, hist, stepMode="center", fillLevel=0,
                             brush=(47, 109, 181, 120))
        self.cell = (a.shape[1] + 1, a.shape[2] + 1)
        self.grid_image.setImage(maps["grid"], levels=(-0.05, 1.0))
        h, w = maps["full"]
        self.grid_image.setRect(0, 0, w, h)  # view units stay full-resolution pixels
        self.grid_box.autoRange()
        self.show_channel(int(self.order[0]) if len(self.order) else 0)

    def redraw(self) -> None:
        if self.act is not None:
            self.show_activation(self.name, self.act)

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
        stats = self.stats_all
        self.stats.setText(f"channel {ch}: mean {stats['mean'][ch]:.4g}, max "
                           f"{stats['max'][ch]:.4g}, min {stats['min'][ch]:.4g}, "
                           f"sparsity {100 * stats['sparsity'][ch]:.1f}%")
        self.current_channel = ch
