"""Diagram exports: what you see is what you get.

The PNG is the scene itself, rendered with the legend painted under it. The SVG of the
whole graph is the core writer's, drawn from the very Layout the scene shows with the
same style table and font, because an SVG written through QSvgGenerator places every
line of text by Qt's font metrics: another renderer with another font shifts it (and
Qt's generator has no legend). The two are compared pixel by pixel in the tests."""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsScene

from ...export.files import write_atomic, write_text_atomic
from ...export.graph_export import MARGIN, canvas_size, graph_svg, legend_rows
from ...export.image_size import check_size
from .scene import pen_for


def export_extent(scene: QGraphicsScene, view_rect: QRectF | None) -> tuple[float, float]:
    """The size in scene units of what an export draws: the whole graph with its legend,
    or ``view_rect``."""
    rect = _whole(scene)[0] if view_rect is None else view_rect
    return rect.width(), rect.height()


def _whole(scene: QGraphicsScene) -> tuple[QRectF, list]:
    """The canvas of a whole-graph export (graph, margins and legend), in scene units."""
    lay = getattr(scene, "layout", None)
    if lay is None:
        return scene.sceneRect(), []
    width, height = canvas_size(lay)
    return QRectF(-MARGIN, -MARGIN, width, height), legend_rows(lay)


def export_png(scene: QGraphicsScene, path: str | Path, rect: QRectF | None = None,
               scale: float = 2.0, transparent: bool = False) -> QSize:
    """Render ``rect`` of the scene (the whole graph with its legend by default) at
    ``scale`` pixels per unit, on white unless ``transparent``."""
    rows: list = []
    if rect is None:
        rect, rows = _whole(scene)
    check_size("png", rect.width(), rect.height(), scale)  # what common tools open
    size = QSize(max(1, round(rect.width() * scale)), max(1, round(rect.height() * scale)))
    image = QImage(size, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent if transparent else QColor("white"))
    painter = QPainter(image)
    painter.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
    plain = getattr(scene, "plain", contextlib.nullcontext)
    with plain():  # no selection, Find halos or dark-canvas ink on paper
        scene.render(painter, QRectF(0, 0, size.width(), size.height()), rect)
    if rows:
        painter.scale(scale, scale)  # canvas units from here on: the SVG's coordinates
        painter.setFont(scene.font)
        for row in rows:
            painter.setPen(pen_for(row.kind))
            painter.drawLine(QLineF(row.x, row.y, row.x + 30, row.y))
            painter.setPen(QColor("black"))
            painter.drawText(QPointF(row.text_x, row.y + 4), row.text)
    painter.end()

    def save(tmp: Path) -> None:  # beside the target, renamed over it: whole or not at all
        if not image.save(str(tmp), "PNG"):
            raise OSError(f"cannot write {path}")

    write_atomic(path, save)
    return size


def export_svg(scene: QGraphicsScene, path: str | Path, rect: QRectF | None = None,
               title: str = "", transparent: bool = False, scale: float = 1.0) -> None:
    """Vector output; text stays text, centred by the SVG itself. ``rect`` (scene units)
    keeps only that area, without the legend; ``scale`` sets the size it declares."""
    view, lay = getattr(scene, "view_graph", None), getattr(scene, "layout", None)
    if view is None or lay is None:
        _export_scene_svg(scene, path, rect or scene.sceneRect(), title)
        return
    crop = None if rect is None else (rect.x(), rect.y(), rect.width(), rect.height())
    check_size("svg", *export_extent(scene, rect), scale)
    write_text_atomic(path, graph_svg(view, lay, transparent=transparent, crop=crop,
                                      title=title, scale=scale))


def _export_scene_svg(scene: QGraphicsScene, path, rect: QRectF, title: str) -> None:
    """An empty scene (no model yet): Qt's own generator is all there is to draw."""
    write_atomic(path, lambda tmp: _render_scene_svg(scene, tmp, rect, title))


def _render_scene_svg(scene: QGraphicsScene, path: Path, rect: QRectF, title: str) -> None:
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(round(rect.width()), round(rect.height())))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    generator.setTitle(title)
    painter = QPainter(generator)
    painter.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
    scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    painter.end()
