"""The window shows the truth after ordinary actions: one test per symptom of issue 13,
each failing on the window as it was before the ViewState (noted per test)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from apphelpers import TIMEOUT, gradient_png, load, wait_idle  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QKeySequence, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication, QGraphicsSimpleTextItem, QMessageBox  # noqa: E402

from explorer.app.docks.catalogue import PARAMS  # noqa: E402


def node_text(w, node: str) -> str:
    item = w.panel.scene.nodes[node]
    return " ".join(c.text() for c in item.childItems()
                    if isinstance(c, QGraphicsSimpleTextItem))


def rebuild_with(qtbot, w, **changes):
    for key, value in changes.items():
        widget = w.options.widgets[key]
        if hasattr(widget, "setChecked"):
            widget.setChecked(value)
        elif hasattr(widget, "findData"):
            widget.setCurrentIndex(widget.findData(value))
        else:
            widget.setValue(value)
    w.options.apply_now()
    qtbot.waitUntil(lambda: all(w.prepared.options.get(k) == v for k, v in changes.items())
                    and not w.progress.isVisible(), timeout=TIMEOUT)


def test_1_labels_follow_an_option_change(qtbot, window):
    """Was: vgg16 with 2000 classes still showed 1000 on classifier.6 (layout cache)."""
    load(qtbot, window, "vgg16")
    assert "1000" in node_text(window, "classifier.6")
    rebuild_with(qtbot, window, num_classes=2000)
    assert "2000" in node_text(window, "classifier.6")
    assert "1000" not in node_text(window, "classifier.6")


def test_2_a_click_selects_without_moving_the_view(qtbot, window):
    """Was: the first click re-centred and zoomed, so a double-click hit another block."""
    load(qtbot, window, "resnet34")
    view = window.panel.view
    node = next(n for n, d in window.prepared.view.nx.nodes(data=True) if d.get("folded"))
    item = window.panel.scene.nodes[node]
    view.centerOn(item)
    before = (view.transform(), view.horizontalScrollBar().value(),
              view.verticalScrollBar().value())
    pos = view.mapFromScene(item.sceneBoundingRect().center())
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=pos)
    assert window.state.selection == node
    assert (view.transform(), view.horizontalScrollBar().value(),
            view.verticalScrollBar().value()) == before
    qtbot.mouseDClick(view.viewport(), Qt.LeftButton, pos=pos)
    wait_idle(qtbot, window)
    assert node not in window.panel.scene.nodes  # the block under the pointer opened


def test_3_panels_forget_the_previous_model(qtbot, window, tmp_path):
    """Was: the Layer panel and the feature maps kept the previous model's node."""
    load(qtbot, window, "resnet18")
    with qtbot.waitSignals([window.inference.ran, window.inference.mapsShown],
                           timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "a.png")))
    window.select_node("conv1")
    assert "conv1" in window.inspector.toPlainText()
    seen = []  # what the panels show the moment the new model arrives
    window.state.events.model.connect(lambda _p: seen.append(
        (window.inspector.toPlainText(), window.inference.features.act,
         window.inference.predictions.result)))
    load(qtbot, window, "lenet5")
    assert window.state.selection is None
    assert seen == [("", None, None)]


def test_4_the_window_paints_before_torch_is_imported(qtbot, tmp_path):
    """Was: a black frame for seconds while torch loaded."""
    from PySide6.QtCore import QSettings

    from explorer.app.main import paint_first_frame
    from explorer.app.window import MainWindow

    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    w.show()
    paint_first_frame(QApplication.instance(), w)
    assert not w.core_loaded and w.status_label.text() == "Loading PyTorch…"
    assert w.progress.isVisible() and w.progress.maximum() == 0  # a busy indicator
    menus = [a.text() for a in w.menuBar().actions()]
    assert menus[:3] == ["&File", "&View", "&Model"] and not w.menuBar().isEnabled()
    image = w.grab().toImage()
    light = sum(QApplication.palette().window().color().lightness() > 100
                and image.pixelColor(x, y).lightness() > 100
                for x in range(0, image.width(), 37) for y in range(0, image.height(), 37))
    assert light > 10


def test_5_find_and_the_table_filter_look_inside_folded_blocks(qtbot, window):
    """Was: ResNet-50 "downsample": 0 found."""
    from explorer.graph import FoldSpec

    load(qtbot, window, "resnet50", spec=FoldSpec(depth=1))
    window.search.box.setText("downsample")
    assert window.search.count.text().strip() == "8 found"
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        assert window.find_next() == "layer1.0.downsample.0"
    assert window.state.selection == "layer1.0.downsample.0"
    assert window.panel.scene.nodes["layer1.0.downsample.0"].isSelected()
    window.search.box.setText("")
    load(qtbot, window, "resnet50", spec=FoldSpec(depth=1))
    window.table.filter.setText("downsample")
    names = {window.table.model.rows[window.table.proxy.mapToSource(
        window.table.proxy.index(r, 0)).row()].name for r in range(window.table.proxy.rowCount())}
    assert {"layer1", "layer2", "layer3", "layer4"} <= names


def test_6_the_dark_theme_changes_what_is_seen(qtbot, window):
    """Was: View ▸ Theme ▸ Dark was checked and saved but nothing changed."""
    window.set_theme("dark")
    try:
        assert QApplication.palette().color(QPalette.Window).lightness() < 80
        assert window.panel.view.backgroundBrush().color().lightness() < 80
        assert window.settings.value("theme") == "dark"
    finally:
        window.set_theme("light")
    assert QApplication.palette().color(QPalette.Window).lightness() > 150


def test_7_the_form_follows_demo_weights_and_asks_before_dropping_them(
        qtbot, window, tmp_path, monkeypatch):
    """Was: Options showed in channels 1 / base width 64 under the demo's 3x128x128 model;
    an option edit dropped the weights silently; the demo replaced the person's image."""
    load(qtbot, window, "resnet18")
    window.inference.open_image(str(gradient_png(tmp_path / "mine.png")))
    monkeypatch.setattr(window, "demo_choice", lambda current: "image")  # see test_demo…
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.load_demo()
    qtbot.waitUntil(lambda: window.state.weights.trained, timeout=TIMEOUT)
    p = window.prepared
    values = window.options.values()
    assert values["in_channels"] == p.options["in_channels"] == p.input_shape[1]
    assert values["base_width"] == p.options["base_width"]
    assert window.state.image_name == "mine.png"  # the person's image stayed
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.No)
    before = window.runner.generation
    window.options.widgets["base_width"].setValue(values["base_width"] * 2)
    window.options.apply_now()
    assert asked and "weights" in asked[0]
    assert window.runner.generation == before and window.state.weights.trained
    assert window.options.values()["base_width"] == p.options["base_width"]  # put back


def test_8_expand_all_shows_the_start_of_the_graph(qtbot, window):
    """Was: Expand all kept the old scroll position (a column cut off at the edge)."""
    load(qtbot, window, "inception_v3")
    view = window.panel.view
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.expand_all()
    top = view.mapToScene(view.viewport().rect().topLeft()).y()
    assert top <= window.panel.scene.sceneRect().top() + 1


def test_9_a_failing_model_file_names_its_line_and_stays_out_of_recent(
        qtbot, window, tmp_path):
    """Was: no file line, the failed file in Open recent, the catalogue still showing
    the previous model, an Options header "tiny.py (0)"."""
    load(qtbot, window, "resnet18")
    bad = tmp_path / "raising.py"
    bad.write_text("from torch import nn\n\nclass Net(nn.Module):\n"
                   "    def __init__(self):\n        super().__init__()\n"
                   "        self.fc = nn.Linear(3, 2)\n\n"
                   "    def forward(self, x):\n        raise ValueError('no')\n")
    window.open_model_file(str(bad), "Net", (1, 3, 8, 8))
    qtbot.waitUntil(lambda: len(window.warnings) > 0, timeout=TIMEOUT)
    assert f"{bad}:9" in window.warnings[-1]
    assert str(bad) not in (window.settings.value("recent") or [])
    good = tmp_path / "tiny.py"
    good.write_text("from torch import nn\n\nclass Tiny(nn.Module):\n"
                    "    def __init__(self):\n        super().__init__()\n"
                    "        self.conv = nn.Conv2d(3, 4, 3)\n\n"
                    "    def forward(self, x):\n        return self.conv(x)\n")
    window.open_model_file(str(good), "Tiny", (1, 3, 16, 16))
    qtbot.waitUntil(lambda: window.prepared.name.endswith("tiny.py:Tiny"), timeout=TIMEOUT)
    assert str(good) in window.settings.value("recent")
    assert not window.catalogue.tree.selectionModel().selectedRows()
    header = window.options.form.itemAt(0).widget().text()
    assert "(0)" not in header


def test_10_the_graph_gets_most_of_the_window(qtbot, window):
    """Was: the graph had about 800x370 px of a 1600x1000 window (18 %)."""
    window.resize(1600, 1000)
    load(qtbot, window, "resnet18")
    view = window.panel.view
    area = view.width() * view.height()
    assert area > 2 * 800 * 370, f"the graph has {view.width()}x{view.height()}"
    docks = [d.width() * d.height() for d in window.docks.values() if d.isVisible()]
    assert area > 2 * max(docks)  # the main thing, by far
    assert window.docks["image"].visibleRegion().isEmpty()  # no image yet: a closed tab


def test_11_menus_shortcuts_export_defaults_and_back_forward(qtbot, window):
    """Was: four modal prompts and diagram.png; Export image results below Quit; Ctrl+W
    loaded weights; no Back/Forward."""
    from explorer.app.dialogs.export import ExportDialog

    load(qtbot, window, "resnet18")
    file_menu = window.menuBar().actions()[0].menu()
    texts = [a.text() for a in file_menu.actions() if a.text()]
    assert texts.index("Export image results") < texts.index("Quit")
    by_key = {a.shortcut().toString(): a.text() for m in window.menuBar().actions()
              for a in m.menu().actions() if not a.shortcut().isEmpty()}
    assert by_key[QKeySequence(QKeySequence.Close).toString()] == "Close window"
    assert by_key["Alt+Left"] == "Back" and by_key["Alt+Right"] == "Forward"
    dialog = ExportDialog("resnet18", "svg", "/tmp")
    assert dialog.request().path == "/tmp/resnet18.svg"
    depth = window.prepared.spec.depth
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.collapse_all()
    assert window.prepared.spec.depth == 1 and window.back_action.isEnabled()
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.go_back()
    assert window.prepared.spec.depth == depth and window.forward_action.isEnabled()
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.go_forward()
    assert window.prepared.spec.depth == 1


def test_15_the_encoder_decoder_layout_can_be_switched_to_a_column(qtbot, window):
    """Issue 15: U-Net opens as a U (auto); View ▸ Encoder–decoder U / column switches."""
    load(qtbot, window, "unet")

    def spread():
        xs = [b.x for b in window.prepared.layout.boxes.values()]
        return max(xs) - min(xs)

    u_width = spread()
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.toggle_arrangement()
    assert window.state.arrangement == "column" and spread() < u_width
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.toggle_arrangement()
    assert window.state.arrangement == "u" and spread() == pytest.approx(u_width)


def test_10_feature_maps_fill_their_panel(qtbot):
    """Was: the 64 maps of a grid fit in about 110 px of a wide, short panel."""
    import numpy as np

    from explorer.app.docks.feature_panel import FeaturePanel

    panel = FeaturePanel()
    qtbot.addWidget(panel)
    panel.resize(1200, 260)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_activation("layer", np.random.rand(64, 56, 56).astype(np.float32))
    rows = -(-64 // panel.cols)
    assert panel.cols >= 2 * rows  # long rows in a wide panel, not an 8x8 square
    assert panel.grid_view.height() > 0.7 * panel.height()  # nothing stacked below it


def test_feature_tiles_are_arranged_again_for_the_docks_shape(qtbot):
    """Was: 240 channels arranged for a hidden tab's shape, tiles of ~7 px in a corner
    of a wide dock that stayed black."""
    import numpy as np

    from explorer.app.docks.feature_panel import FeaturePanel

    panel = FeaturePanel()
    qtbot.addWidget(panel)
    panel.resize(260, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_activation("layer", np.random.rand(240, 14, 14).astype(np.float32))
    tall = panel.cols
    panel.resize(1400, 260)

    def filled() -> float:
        view, box = panel.grid_view, panel.grid_box
        shown = view.mapFromScene(box.mapViewToScene(panel.grid_image.boundingRect())
                                  ).boundingRect()
        return shown.width() * shown.height() / (view.width() * view.height())

    qtbot.waitUntil(lambda: panel.cols > 2 * tall and filled() > 0.5, timeout=5000)


def test_a_grid_cell_without_a_channel_is_background_not_a_dead_map(qtbot):
    """Was: the last row's empty cells were drawn in the colour map's lowest purple, as a
    channel that is zero everywhere is: 19 channels looked like 24, five of them dead."""
    import numpy as np
    from PySide6.QtGui import QColor

    from explorer.app.docks.feature_panel import FeaturePanel

    panel = FeaturePanel()
    qtbot.addWidget(panel)
    panel.resize(900, 260)
    panel.show()
    qtbot.waitExposed(panel)
    act = np.random.rand(5, 8, 8).astype(np.float32)
    act[0] = 0.0  # a dead channel
    panel.show_activation("layer", act)
    cols = panel.cols
    assert 5 % cols  # the last row has an empty cell
    panel.grid_image.render()
    image = panel.grid_image.qimage

    def colour(cell: int) -> QColor:
        r, c = divmod(cell, cols)
        return QColor(image.pixel(c * 9 + 4, r * 9 + 4))  # the middle of a cell (pad 1)

    dead, empty = colour(0), colour(5)
    assert empty.name() != dead.name()
    assert empty.lightness() < 20 and dead.lightness() > 20  # the black background


def test_12_the_first_screen_of_se_resnet50_shows_its_gate(qtbot, window):
    """Was: the view opened at the input, the gate a screen and a half below, so that
    SE-ResNet-50 looked like ResNet-50 until scrolled."""
    load(qtbot, window, "se_resnet50")
    view = window.panel.view
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    for node in ("layer1.0.se.sigmoid", "layer1.0.se.mul", "layer1.0.add"):
        assert seen.contains(window.panel.scene.nodes[node].sceneBoundingRect()), node
    load(qtbot, window, "resnet50")
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    assert seen.contains(window.panel.scene.nodes["input"].sceneBoundingRect())


def test_13_the_legend_names_only_the_edges_drawn(qtbot, window):
    """Was: every kind of edge listed under every graph (gate, skip and index under
    LeNet-5), so the legend did not say which structures a network has."""
    load(qtbot, window, "lenet5")
    assert window.panel.legend.shown_kinds() == ["data"]
    load(qtbot, window, "unet")
    assert window.panel.legend.shown_kinds() == ["data", "skip"]
    load(qtbot, window, "se_resnet50")
    assert window.panel.legend.shown_kinds() == ["data", "residual", "gate"]
    # and the colours of the boxes drawn (QA: the box colours were explained nowhere)
    assert window.panel.legend.shown_boxes() == ["conv", "norm", "activation", "pool",
                                                 "linear", "merge", "block"]
    load(qtbot, window, "lenet5")
    assert window.panel.legend.shown_boxes() == ["conv", "activation", "pool", "linear"]


def test_14_the_side_docks_keep_their_widths(qtbot, window):
    """Was: the legend's words set the graph panel's minimum width, squeezing the Models
    dock to 135-173 px, its sizes cut off."""
    load(qtbot, window, "se_resnet50")
    qtbot.waitUntil(lambda: window.docks["catalogue"].width() >= 230, timeout=TIMEOUT)
    window.state.select("conv1")  # the Layer dock shows with its first content
    qtbot.waitUntil(lambda: window.docks["inspector"].isVisible(), timeout=TIMEOUT)
    assert window.docks["inspector"].width() >= 230
    tree = window.catalogue.tree
    assert tree.columnViewportPosition(PARAMS) + tree.columnWidth(PARAMS) <= \
        tree.viewport().width()  # the size column is whole


def test_15_a_failed_option_change_puts_the_form_back(qtbot, window):
    """Was: after "input height 20" failed, the form kept 20 (the graph still at 299)
    and every later change failed again with the same message."""
    load(qtbot, window, "inception_v3")
    form = window.options
    form.height_box.setValue(20)  # too small for Inception v3's stem
    qtbot.waitUntil(lambda: len(window.warnings) == 1, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.options.height_box.value() == 299
    assert window.prepared.input_shape[2] == 299
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.options.widgets["aux_logits"].setChecked(False)
    assert window.prepared.options["aux_logits"] is False
    assert len(window.warnings) == 1


def test_16_the_options_title_is_whole(qtbot, window):
    """Was: the paper's title under the model's name cut to "Deep Residual Learning for"
    (a form row does not give a wrapped label the height it needs)."""
    load(qtbot, window, "resnet50")
    title = window.options.form.itemAt(0).widget()
    assert "Recognition" in title.text()
    qtbot.waitUntil(lambda: title.width() > 50, timeout=TIMEOUT)
    assert title.height() >= title.heightForWidth(title.width())


def test_17_the_overview_of_a_tall_graph_follows_the_view(qtbot, window):
    """Was: fully expanded DenseNet-121 (12,000 px) a one-pixel line in the overview."""
    from explorer.app.graph.view import MIN_OVERVIEW

    load(qtbot, window, "densenet121")
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.expand_all()
    view, overview = window.panel.view, window.panel.overview
    assert overview.transform().m11() >= MIN_OVERVIEW
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    seen = overview.mapToScene(overview.viewport().rect()).boundingRect()
    assert seen.contains(view.mapToScene(view.viewport().rect().center()))
    load(qtbot, window, "lenet5")  # a short graph: all of it
    seen = overview.mapToScene(overview.viewport().rect()).boundingRect()
    assert seen.contains(window.panel.scene.sceneRect().adjusted(2, 2, -2, -2))


def test_18_a_u_net_opens_whole(qtbot, window):
    """The U is the idea: U-Net opens fitted (zoom 0.6 or more), not cut at 0.8."""
    load(qtbot, window, "unet")
    view = window.panel.view
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    assert view.zoom >= 0.6
    for node in ("input", "output", "enc5", "dec4.up"):
        assert seen.contains(window.panel.scene.nodes[node].sceneBoundingRect()), node


def test_19_find_lights_found_blocks_open_folded_or_in_a_run(qtbot, window):
    """Was: a found block lit nothing when open (Mixed_5b in the first view) or inside a
    run ×N (Mixed_6d in "Mixed_6c … Mixed_6d ×2"); Next on such a run left a one-shot
    "centre on it" waiting for a layout that never came."""
    load(qtbot, window, "inception_v3")
    window.search.box.setText("Inception")
    qtbot.waitUntil(lambda: bool(window.highlighter.lit), timeout=TIMEOUT)
    lit = window.highlighter.lit
    assert "Mixed_6c" in lit  # the run holding Mixed_6d
    assert "Mixed_5b.branch1x1" in lit  # a layer of the open Mixed_5b
    waiting = len(window.state.events.view._handlers)
    window.reveal("Mixed_6d")
    assert window.state.selection == "Mixed_6c"
    assert len(window.state.events.view._handlers) == waiting


def test_20_the_window_can_get_narrow_after_an_image_runs(qtbot, window, tmp_path):
    """Was: 1381 px minimum width once an image had run (long labels in the Image dock,
    then the Layer table's one-line totals), so a half screen could not hold it."""
    load(qtbot, window, "resnet18")
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "a.png")))
    assert window.minimumSizeHint().width() <= 900
    window.resize(900, 600)
    qtbot.waitUntil(lambda: window.width() <= 900, timeout=TIMEOUT)


def test_21_the_newest_reveal_wins(qtbot, window):
    """Was: Next, Next quickly: the first Next's re-layout arrived last and selected its
    own match over the one chosen since."""
    load(qtbot, window, "inception_v3")
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.reveal("Mixed_5c.branch1x1")  # inside a folded block: a re-layout
        window.reveal("Conv2d_1a_3x3")  # drawn already: selected at once
    assert "Mixed_5c.branch1x1" in window.state.model.view.nx  # the unfolding still came
    assert window.state.selection == "Conv2d_1a_3x3"
