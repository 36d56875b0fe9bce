"""Feature maps of the selected layer (pyqtgraph): a channel grid with a shared or
per-channel scale, hover for channel and value, click a channel for it large (in the
grid's place, with its colour scale and statistics, and a way back), sort channels by
activation; the channel's and the layer's histograms in tabs beside it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...inference.render import as_chw, channel_grid, channel_stats, top_channels

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
SIDE_PLOT_HEIGHT = 80  # below this a histogram's axes leave no room for its bars


def histogram_plot() -> pg.PlotWidget:
    """A histogram readable at a bottom dock's height: no title (its tab names it),
    major ticks only on the count axis (the minor ones overlapped)."""
    plot = pg.PlotWidget()
    plot.setMinimumHeight(SIDE_PLOT_HEIGHT)
    plot.setMouseEnabled(x=True, y=False)
    plot.getAxis("left").setStyle(maxTickLevel=0)
    plot.getAxis("left").setWidth(42)
    return plot


def image_view(with_scale: bool = False):
    """(widget, view box, image item[, colour bar]) for a map shown at its aspect."""
    widget = pg.GraphicsLayoutWidget()
    widget.ci.setContentsMargins(2, 2, 2, 2)  # pyqtgraph's default 10 px of a short dock
    box = widget.addViewBox(lockAspect=True, invertY=True)
    image = pg.ImageItem()
    image.setColorMap(pg.colormap.get("viridis"))
    box.addItem(image)
    if not with_scale:
        return widget, box, image
    bar = pg.ColorBarItem(values=(0, 1), width=14, colorMap=pg.colormap.get("viridis"),
                          interactive=False)
    bar.setImageItem(image)
    widget.addItem(bar, row=0, col=1)
    return widget, box, image, bar


def grid_lut() -> np.ndarray:
    """Viridis with its lowest entry black: the grid's gaps and empty cells (NaN, drawn
    at -0.05) are background, not the purple of a channel that is zero (was)."""
    lut = pg.colormap.get("viridis").getLookupTable(nPts=256)
    lut[0] = (0, 0, 0)
    return lut


class FeaturePanel(QWidget):
    def __init__(self, compute=None, parent=None) -> None:
        """``compute(job, callback)`` runs ``compute_maps(*job)`` in the background and
        hands the result to ``callback``; without it the maps are computed here."""
        super().__init__(parent)
        self.compute = compute
        self.act: np.ndarray | None = None
        self.order: np.ndarray | None = None
        self.name = ""
        self.cols = 1
        self.cell = (1, 1)
        self.current_channel = 0
        self.shown_name = ""
        self.aspect = 1.0  # of the grid's view when the shown grid was arranged
        # a grid arranged for another shape of panel (its tab was hidden, the dock was
        # resized) is arranged again: tiles of ~7 px left most of a wide dock black
        self.refit_timer = QTimer(self, singleShot=True, interval=200)
        self.refit_timer.timeout.connect(self._refit)
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
        self.grid_view, self.grid_box, self.grid_image = image_view()
        self.grid_image.setLookupTable(grid_lut())
        self.grid_view.scene().sigMouseMoved.connect(self._hovered)
        self.grid_view.scene().sigMouseClicked.connect(self._clicked)
        # one channel large, in the grid's place: a person inspects one map at a time
        self.detail_view, self.detail_box, self.detail_image, self.detail_bar = image_view(
            with_scale=True)
        self.detail_view.scene().sigMouseMoved.connect(self._hovered_detail)
        self.back = QPushButton("◀ All channels")
        self.back.setToolTip("Back to the grid of every channel (Esc)")
        self.back.clicked.connect(self.show_grid)
        # Esc within this panel only: elsewhere it belongs to the focused widget
        QShortcut(QKeySequence(Qt.Key_Escape), self, self.show_grid,
                  context=Qt.WidgetWithChildrenShortcut)
        self.detail_title = QLabel("")
        self.back.hide()
        self.detail_title.hide()
        controls = QHBoxLayout()  # the grid's controls, or the way back from one channel
        for widget in (self.back, self.detail_title, self.scale, self.sort):
            controls.addWidget(widget)
        controls.addWidget(self.hover, 1)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.grid_view)
        self.pages.addWidget(self.detail_view)

        self.channel_hist = histogram_plot()
        self.layer_hist = histogram_plot()
        self.side_tabs = QTabWidget()
        self.side_tabs.setDocumentMode(True)
        # short names: the side column can be narrow (the tab bar scrolled at 900 px)
        self.side_tabs.addTab(self.channel_hist, "Channel")
        self.side_tabs.addTab(self.layer_hist, "Layer")
        self.side_tabs.setTabToolTip(0, "Histogram of the chosen channel's values")
        self.side_tabs.setTabToolTip(1, "Histogram of the whole layer's activations")
        self.stats = QLabel("", wordWrap=True)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.side_tabs, 1)
        rl.addWidget(self.stats)
        # the histograms do not set the dock's least height: at 1024x640 the bottom docks
        # get ~130 px so that the graph keeps half the window; a short dock squeezes them
        right.setMinimumHeight(1)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.pages)
        split.addWidget(right)
        split.setSizes([600, 300])
        split.setStretchFactor(0, 3)  # the maps are the panel's main thing
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        split.setMinimumHeight(48)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addLayout(controls)
        layout.addWidget(split, 1)  # the maps get the panel's whole height

    def side_plots(self) -> list[pg.PlotWidget]:
        return [self.channel_hist, self.layer_hist]

    def clear(self) -> None:
        """Nothing to show (a new model): no maps, no readout of the old one."""
        self.act, self.order, self.name = None, None, ""
        self.title.setText(EMPTY)
        self.hover.setText("")
        self.stats.setText("")
        self.grid_image.clear()
        self.detail_image.clear()
        self.show_grid()
        self.channel_hist.clear()
        self.layer_hist.clear()

    def grid_aspect(self) -> float:
        size = self.grid_view.size()
        return size.width() / max(1, size.height())

    def _refit(self) -> None:
        if (self.act is not None and self.grid_view.isVisible()
                and abs(np.log(self.grid_aspect() / self.aspect)) > 0.25):
            self.redraw()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.refit_timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refit_timer.start()

    def show_activation(self, name: str, act) -> None:
        self.name = name
        self.aspect = self.grid_aspect()
        job = (act, self.sort.isChecked(), self.scale.currentData(), self.aspect)
        if self.compute is not None:
            self.compute(job, self.show_maps)
        else:
            self.show_maps(compute_maps(*job))

    def show_maps(self, maps: dict) -> None:
        # a re-sort or re-scale of the layer keeps the channel open; another layer's
        # channel of that number is another thing: back to its grid
        keep = self.detail_open() and maps["act"].shape[0] == len(self.act) and (
            self.shown_name == self.name)
        self.shown_name = self.name
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
        if keep:
            self.open_channel(self.current_channel)
        else:
            self.show_grid()
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
        if event.button() != Qt.LeftButton:
            return  # the right button opens pyqtgraph's menu
        p = self.grid_box.mapSceneToView(event.scenePos())
        ch = self.channel_at(p.x(), p.y())
        if ch is not None:
            self.open_channel(ch)

    def _hovered_detail(self, pos) -> None:
        if self.act is None or not self.detail_open():
            return
        p = self.detail_box.mapSceneToView(pos)
        y, x, ch = int(p.y()), int(p.x()), self.current_channel
        inside = 0 <= y < self.act.shape[1] and 0 <= x < self.act.shape[2]
        self.hover.setText(f"channel {ch}  ({x}, {y}) = {self.act[ch, y, x]:.4g}"
                           if inside else "")

    def show_channel(self, ch: int) -> None:
        """``ch``'s histogram and statistics beside the maps (the grid stays)."""
        if self.act is None:
            return
        m = self.act[ch]
        hist, edges = np.histogram(m.reshape(-1), bins=40)
        self.channel_hist.clear()
        self.channel_hist.plot(edges, hist, stepMode="center", fillLevel=0,
                               brush=(214, 39, 40, 120))
        self.stats.setText(f"channel {ch}: {self.stats_text(ch)}")
        self.current_channel = ch

    def stats_text(self, ch: int) -> str:
        s = self.stats_all
        return (f"mean {s['mean'][ch]:.4g}, max {s['max'][ch]:.4g}, min {s['min'][ch]:.4g}, "
                f"sparsity {100 * s['sparsity'][ch]:.1f}%")

    def open_channel(self, ch: int) -> None:
        """``ch`` large in the grid's place, on its own colour scale, its histogram in
        the side tab; Back (or Esc) returns to the grid."""
        if self.act is None:
            return
        self.show_channel(ch)
        m = self.act[ch]
        lo, hi = float(np.nanmin(m)), float(np.nanmax(m))
        self.detail_bar.setLevels((lo, hi if hi > lo else lo + 1e-6))
        self.detail_image.setImage(m)
        self.detail_box.autoRange(padding=0.02)
        self.detail_title.setText(f"<b>channel {ch}</b> ({m.shape[1]}×{m.shape[0]})")
        self.pages.setCurrentWidget(self.detail_view)
        self._show_controls(detail=True)
        self.side_tabs.setCurrentWidget(self.channel_hist)

    def detail_open(self) -> bool:
        return self.pages.currentWidget() is self.detail_view

    def show_grid(self) -> None:
        self.pages.setCurrentWidget(self.grid_view)
        self._show_controls(detail=False)

    def _show_controls(self, detail: bool) -> None:
        """One channel has its own scale and no order: the grid's controls give their
        row to the way back (the maps keep the panel's height)."""
        self.back.setVisible(detail)
        self.detail_title.setVisible(detail)
        self.scale.setVisible(not detail)
        self.sort.setVisible(not detail)
