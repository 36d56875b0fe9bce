"""The diagram coloured by gradient RMS: each box's fill from a log-scale ramp (blue
where the gradient is smallest, red where it is largest), and the ramp as a legend under
the graph. Off, every box takes back its style-table colour."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QLinearGradient, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ...graph.style import NODE_STYLES, category

# a diverging ramp (Moreland's cool-warm): small gradients blue, large red
RAMP = ((0.0, (59, 76, 192)), (0.5, (221, 221, 221)), (1.0, (180, 4, 38)))
NO_GRADIENT = "#f4f4f4"  # a box without a weight layer


def ramp_colour(t: float) -> QColor:
    t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in zip(RAMP, RAMP[1:]):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            return QColor(*(round(a + (b - a) * f) for a, b in zip(c0, c1)))
    return QColor(*RAMP[-1][1])


def scale_of(values: dict[str, float]) -> tuple[float, float]:
    """The log10 range the ramp spans (whole orders of magnitude around the values)."""
    logs = [math.log10(v) for v in values.values() if v > 0]
    if not logs:
        return 0.0, 1.0
    lo, hi = math.floor(min(logs)), math.ceil(max(logs))
    return float(lo), float(max(hi, lo + 1))


def colour_boxes(scene, values: dict[str, float] | None) -> tuple[float, float] | None:
    """Fill each box of ``scene`` by its value on the ramp (None: the style colours);
    returns the log10 range used."""
    if values is None:
        for item in scene.nodes.values():
            item.setBrush(QBrush(QColor(NODE_STYLES[category(item.data)][0])))
        return None
    lo, hi = scale_of(values)
    for n, item in scene.nodes.items():
        value = values.get(n)
        colour = (ramp_colour((math.log10(value) - lo) / (hi - lo)) if value
                  else QColor(NO_GRADIENT))
        item.setBrush(QBrush(colour))
    return lo, hi


class GradientBar(QWidget):
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        gradient = QLinearGradient(0, 0, self.width(), 0)
        for t, rgb in RAMP:
            gradient.setColorAt(t, QColor(*rgb))
        painter.fillRect(self.rect(), gradient)
        painter.end()


class GradientLegend(QWidget):
    """'gradient RMS  1e-4 [ramp] 1e8' under the graph while the boxes are coloured."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.title = QLabel("boxes coloured by gradient RMS (geometric mean in a block):")
        self.low, self.high = QLabel(), QLabel()
        self.bar = GradientBar()
        self.bar.setFixedSize(160, 12)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 2)
        for widget in (self.title, self.low, self.bar, self.high):
            row.addWidget(widget, 0, Qt.AlignVCenter)
        row.addStretch(1)
        self.hide()

    def show_scale(self, scale: tuple[float, float] | None) -> None:
        if scale is None:
            self.hide()
            return
        self.low.setText(f"1e{scale[0]:.0f}")
        self.high.setText(f"1e{scale[1]:.0f}")
        self.show()

    def text(self) -> str:
        return f"{self.low.text()} … {self.high.text()}"
