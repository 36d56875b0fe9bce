"""The app's diagram exports: the SVG shows what the PNG (the scene itself) shows,
pixel for pixel within a tolerance, with centred text, the legend and a background."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from explorer.app.graph.exports import export_png, export_svg
from explorer.app.graph.scene import GraphScene
from explorer.app.graph.view import GraphPanel
from explorer.graph import default_spec, fold, layout, trace_zoo
from explorer.graph.style import EDGE_STYLES, measure_text


def _shown(scene: GraphScene, name: str) -> None:
    fm = QFontMetricsF(scene.font)
    sample = "layer3.12.conv2 BatchNorm2d 1024×14×14"
    measure = functools.partial(measure_text, line_height=14.0,
                                char_width=fm.horizontalAdvance(sample) / len(sample) * 1.12)
    graph = trace_zoo(name)
    view = fold(graph, default_spec(graph))
    scene.show_layout(view, layout(view.nx, measure=measure))


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format_RGBA8888)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    # a copy: the array must not outlive the converted image's buffer
    return data.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, :image.width(), :3].copy()


def _render_svg(path, width: int, height: int) -> QImage:
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    image = QImage(width, height, QImage.Format_ARGB32_Premultiplied)
    image.fill(QColor("#ff00ff"))  # magenta shows wherever the SVG paints no background
    painter = QPainter(image)
    painter.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
    renderer.render(painter, QRectF(0, 0, width, height))
    painter.end()
    return image


def _blur(a: np.ndarray) -> np.ndarray:
    """A 3×3 box blur: sub-pixel differences in anti-aliasing and glyph placement fade,
    a missing line of text or a shifted box does not."""
    p = np.pad(a.astype(np.float32), ((1, 1), (1, 1), (0, 0)), mode="edge")
    return sum(p[i:i + a.shape[0], j:j + a.shape[1]] for i in range(3) for j in range(3)) / 9


def _difference(png: QImage, svg: QImage) -> float:
    """The share of pixels that differ noticeably after blurring both."""
    a, b = _blur(_pixels(png)), _blur(_pixels(svg))
    return float((np.abs(a - b).max(axis=2) > 40).mean())


@pytest.mark.parametrize("name", ["resnet34", "unet", "se_resnet50"])
def test_svg_equals_the_png_export(qtbot, tmp_path, name):
    scene = GraphScene()
    _shown(scene, name)
    size = export_png(scene, tmp_path / "d.png", scale=1.0)
    export_svg(scene, tmp_path / "d.svg", title=name)
    text = (tmp_path / "d.svg").read_text()
    assert 'text-anchor="middle"' in text and 'fill="white"' in text
    kinds = {e.kind for e in scene.layout.edges}
    for kind in kinds:  # the legend, with its text
        assert f">{EDGE_STYLES[kind][3]}<" in text
    png = QImage(str(tmp_path / "d.png"))
    svg = _render_svg(tmp_path / "d.svg", size.width(), size.height())
    assert (png.width(), png.height()) == (svg.width(), svg.height())
    assert _difference(png, svg) < 0.002


def test_the_comparison_can_fail(qtbot, tmp_path):
    scene = GraphScene()
    _shown(scene, "unet")
    size = export_png(scene, tmp_path / "d.png", scale=1.0)
    # shift every node's text a little, as a renderer with another font would
    text_items = [c for n in scene.nodes.values() for c in n.childItems()
                  if hasattr(c, "text")]
    for item in text_items:
        item.moveBy(-6, 0)
    export_png(scene, tmp_path / "shifted.png", scale=1.0)
    png = QImage(str(tmp_path / "d.png"))
    shifted = QImage(str(tmp_path / "shifted.png"))
    assert _difference(png, shifted) > 0.002
    assert (size.width(), size.height()) == (shifted.width(), shifted.height())


def test_transparent_svg_and_view_crop(qtbot, tmp_path):
    scene = GraphScene()
    _shown(scene, "resnet34")
    size = export_png(scene, tmp_path / "o.png", scale=1.0)
    export_svg(scene, tmp_path / "t.svg", transparent=True)
    image = _render_svg(tmp_path / "t.svg", size.width(), size.height())
    assert _pixels(image)[2, 2].tolist() == [255, 0, 255]  # nothing painted in the margin
    export_svg(scene, tmp_path / "o.svg")
    image = _render_svg(tmp_path / "o.svg", size.width(), size.height())
    assert _pixels(image)[2, 2].tolist() == [255, 255, 255]
    export_svg(scene, tmp_path / "crop.svg", rect=QRectF(0, 0, 100, 80))
    crop = (tmp_path / "crop.svg").read_text()
    assert 'width="100" height="80"' in crop and "data flow" not in crop
    export_png(scene, tmp_path / "t.png", scale=1.0, transparent=True)
    assert QImage(str(tmp_path / "t.png")).pixelColor(0, 0).alpha() == 0


def test_panel_toggles_the_arrangement(qtbot):
    panel = GraphPanel()
    qtbot.addWidget(panel)
    _shown(panel.scene, "unet")
    assert panel.scene.layout.arrangement == "u"
    with qtbot.waitSignal(panel.arrangementChanged) as signal:
        assert panel.toggle_arrangement() == "column"
    assert signal.args == ["column"]
    with pytest.raises(ValueError):
        panel.set_arrangement("spiral")


def test_the_png_is_drawn_as_on_paper(qtbot, tmp_path):
    """Was: the selection outline, Find's yellow halos and (in the dark theme) light
    data edges went into the PNG, which the SVG never had."""
    from PySide6.QtGui import QPen
    from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

    scene = GraphScene()
    _shown(scene, "resnet34")
    export_png(scene, tmp_path / "clean.png", scale=1.0)
    scene.select_node("conv1")
    item = scene.nodes["layer1.0.conv1"]
    item.halo = QGraphicsPathItem(item.path(), item)  # as Find's highlighter lights it
    item.halo.setPen(QPen(QColor("#ffd400"), 7))
    item.halo.setFlag(QGraphicsItem.ItemStacksBehindParent)
    scene.set_data_ink("#a9afb9")
    export_png(scene, tmp_path / "busy.png", scale=1.0)
    clean, busy = QImage(str(tmp_path / "clean.png")), QImage(str(tmp_path / "busy.png"))
    assert np.array_equal(_pixels(clean), _pixels(busy))
    # and the view is as it was
    assert scene.nodes["conv1"].isSelected() and scene.nodes["conv1"].pen().width() == 3
    assert item.halo.isVisible()
    data = next(e for e in scene.edges if e.kind == "data")
    assert data.pen().color() == QColor("#a9afb9")


def _luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF()))


def test_data_edges_read_on_the_dark_canvas(qtbot):
    """Was: #555 data edges on the #23252a canvas, 1.3:1, the arrows all but invisible."""
    from explorer.app.theme import CANVAS

    panel = GraphPanel()
    qtbot.addWidget(panel)
    _shown(panel.scene, "lenet5")
    for theme in ("light", "dark"):
        panel.set_canvas(theme)
        edge = next(e for e in panel.scene.edges if e.kind == "data")
        ink, canvas = edge.pen().color(), QColor(CANVAS[theme])
        light, dark = sorted((_luminance(ink), _luminance(canvas)), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, theme  # WCAG's contrast for text


def test_segnet_bottleneck_draws_both_lines(qtbot, tmp_path):
    scene = GraphScene()
    _shown(scene, "segnet")
    edge = next(e for e in scene.edges if (e.source, e.target) == ("enc5", "dec5.unpool"))
    assert [kind for kind, _ in edge.under] == ["data"]
    size = export_png(scene, tmp_path / "d.png", scale=1.0)
    export_svg(scene, tmp_path / "d.svg")
    assert 'stroke="#555555" stroke-width="1.2"/><polyline' in (tmp_path / "d.svg").read_text()
    svg = _render_svg(tmp_path / "d.svg", size.width(), size.height())
    # 0.27 % without the underlay: the dotted index links' dashes fall a pixel apart
    # between Qt and the SVG renderer; a missing line would be far more
    assert _difference(QImage(str(tmp_path / "d.png")), svg) < 0.003


@pytest.mark.parametrize("scale", [1.0, 2.0, 1.37])
def test_the_png_has_the_size_the_export_dialog_said(qtbot, tmp_path, scale):
    """Was: the dialog said 468 × 3,301 px and the file was 467×3300 (the dialog counted
    as the command line's writer does, the window's writer rounded)."""
    from explorer.app.graph.exports import export_extent
    from explorer.export.image_size import check_size

    scene = GraphScene()
    _shown(scene, "resnet20_cifar")
    said = check_size("png", *export_extent(scene, None), scale)
    size = export_png(scene, tmp_path / "d.png", scale=scale)
    written = QImage(str(tmp_path / "d.png"))
    assert (size.width(), size.height()) == (written.width(), written.height()) == said
