"""Diagram exports from the scene itself: what you see is what you get."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsScene

MAX_PIXELS = 400_000_000


def export_png(scene: QGraphicsScene, path: str | Path, rect: QRectF | None = None,
               scale: float = 2.0, transparent: bool = False) -> QSize:
    """Render ``rect`` of the scene (all of it by default) at ``scale`` pixels per unit."""
    rect = rect or scene.sceneRect()
    size = QSize(max(1, round(rect.width() * scale)), max(1, round(rect.height() * scale)))
    if size.width() * size.height() > MAX_PIXELS:
        raise ValueError(f"{size.width()}x{size.height()} pixels is too large; lower the scale")
    image = QImage(size, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent if transparent else QColor("white"))
    painter = QPainter(image)
    painter.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
    scene.render(painter, QRectF(0, 0, size.width(), size.height()), rect)
    painter.end()
    if not image.save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")
    return size


def export_svg(scene: QGraphicsScene, path: str | Path, rect: QRectF | None = None,
               title: str = "") -> None:
    """Vector output; text stays text."""
    rect = rect or scene.sceneRect()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(round(rect.width()), round(rect.height())))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    generator.setTitle(title)
    painter = QPainter(generator)
    painter.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
    scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    painter.end()
