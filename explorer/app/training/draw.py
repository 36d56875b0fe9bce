"""The Draw panel: a person draws a digit with the mouse; while they draw, the drawing is
made into the digits' 8×8 form (explorer.training.drawn) and handed to the image pipeline
like any image, so that the worker runs it through the live model (off the UI thread, a
newer stroke superseding an older run) and the Image and Feature maps docks follow. The
panel shows the prediction from the state's result; "Use the trained LeNet-5" opens
LeNet-5 with its shipped weights in one click."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

SIDE = 224
PEN = 28
THROTTLE_MS = 80  # a stroke's updates at most this often


class Canvas(QWidget):
    """White ink on black; ``changed`` while the mouse draws."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFixedSize(SIDE, SIDE)
        self.setCursor(Qt.CrossCursor)
        self.image = QImage(SIDE, SIDE, QImage.Format_Grayscale8)
        self.image.fill(0)
        self._last: QPoint | None = None

    def clear(self) -> None:
        self.image.fill(0)
        self.update()
        self.changed.emit()

    def gray(self) -> np.ndarray:
        ptr = self.image.constBits()
        rows = np.frombuffer(ptr, np.uint8, self.image.sizeInBytes())
        return rows.reshape(SIDE, self.image.bytesPerLine())[:, :SIDE].copy()

    def is_blank(self) -> bool:
        return not self.gray().any()

    def stroke(self, a: QPoint, b: QPoint) -> None:
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(QColor(255, 255, 255), PEN, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        painter.drawLine(a, b)
        painter.end()
        self.update()
        self.changed.emit()

    def mousePressEvent(self, event) -> None:  # noqa: N802  (Qt's name)
        self._last = event.position().toPoint()
        self.stroke(self._last, self._last)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._last is not None:
            point = event.position().toPoint()
            self.stroke(self._last, point)
            self._last = point

    def mouseReleaseEvent(self, _event) -> None:  # noqa: N802
        self._last = None

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.drawImage(0, 0, self.image)
        painter.setPen(QColor(90, 90, 90))
        painter.drawRect(0, 0, SIDE - 1, SIDE - 1)


class DrawPanel(QWidget):
    useLenet = Signal()
    drawn = Signal(object)  # the PIL image to run

    def __init__(self, state, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.canvas = Canvas()
        self.timer = QTimer(self, singleShot=True, interval=THROTTLE_MS)
        self.canvas.changed.connect(self.timer.start)
        self.timer.timeout.connect(self.submit)
        self.preview = QLabel(alignment=Qt.AlignCenter)
        self.preview.setFixedSize(64, 64)
        self.preview.setToolTip("What the network sees: the 8×8 counts of the UCI digits, "
                                "scaled up as in training")
        self.answer = QLabel("Draw a digit (white on black) with the mouse.", wordWrap=True)
        self.answer.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.clear = QPushButton("Clear")
        self.clear.clicked.connect(self.canvas.clear)
        self.use = QPushButton("Use the trained LeNet-5")
        self.use.setToolTip("LeNet-5 trained on the shipped UCI digits")
        self.use.clicked.connect(self.useLenet)
        side = QVBoxLayout()
        side.addWidget(self.preview)
        side.addWidget(self.clear)
        side.addWidget(self.use)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.canvas)
        row.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.answer)
        layout.addStretch(1)
        state.events.result.connect(self._show_result)

    def submit(self) -> None:
        from ...training.drawn import digit_image

        if self.canvas.is_blank():
            self.preview.clear()
            return
        image = digit_image(self.canvas.gray())
        small = image.resize((64, 64))
        data = small.tobytes()
        self.preview.setPixmap(_pixmap(data, 64))
        self.drawn.emit(image)

    def _show_result(self, result) -> None:
        if result is None or self.state.image_name != "drawn digit":
            return
        top = getattr(result, "top_k", None) or []
        if not top:
            return
        best = top[0]
        rest = ", ".join(f"{t['label']} {t['prob']:.0%}" for t in top[1:3])
        self.answer.setText(f"<b>{best['label']}</b> ({best['prob']:.0%}); then {rest}")


def _pixmap(data: bytes, side: int):
    from PySide6.QtGui import QPixmap

    image = QImage(data, side, side, side, QImage.Format_Grayscale8)
    return QPixmap.fromImage(image.copy())
