"""A conv's filters as one image (explorer.analysis.filter_grid does the
tiling): colour tiles for a first layer's RGB filters, grey ones otherwise."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

pg.setConfigOptions(imageAxisOrder="row-major")  # numpy rows are image rows


class FilterGridView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.caption = QLabel("", wordWrap=True)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setFixedHeight(200)
        self.canvas.setMinimumWidth(60)  # it follows the dock's width
        self.box = self.canvas.addViewBox(lockAspect=True, invertY=True)
        self.box.setMouseEnabled(False, False)
        # The box keeps the whole grid in sight by itself, on a new grid and on every
        # resize of its own (an autoRange() call would switch that off).
        self.box.setDefaultPadding(0.02)
        self.box.enableAutoRange()
        self.image = pg.ImageItem()
        self.box.addItem(self.image)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.canvas)
        self.grid = None

    def show_grid(self, grid) -> None:
        """``grid`` is a FilterGrid, or None to hide the view."""
        self.grid = grid
        self.setVisible(grid is not None)
        if grid is None:
            return
        pixels = (np.clip(grid.image, 0, 1) * 255).astype(np.uint8)
        self.image.setImage(pixels, levels=(0, 255))
        kh, kw = grid.tile
        kind = "RGB filters" if grid.rgb else "filters (first input channel)"
        more = f" (first {grid.shown} of {grid.total})" if grid.shown < grid.total else ""
        self.caption.setText(f"{grid.shown} {kh}×{kw} {kind}{more}, each scaled to its range")
