"""The Layer dock, the Model info dialog and Find's highlighting, driven offscreen."""

from __future__ import annotations

import pytest
import torch
from apphelpers import TIMEOUT, gradient_png, load, wait_idle


def _inspected(qtbot, window, node):
    window.select_node(node)
    ins = window.inspector
    qtbot.waitUntil(lambda: ins.info is not None and ins.info.node == node
                    and ins.status.text().startswith("weights:"), timeout=TIMEOUT)
    return ins


def test_conv1_of_resnet18_shows_its_attributes_and_true_weight_statistics(qtbot, window):
    load(qtbot, window, "resnet18")
    ins = _inspected(qtbot, window, "conv1")
    f = ins.fields
    assert (f["kernel_size"], f["stride"], f["padding"]) == ("7×7", "2×2", "3×3")
    assert f["receptive field"] == "7 px, stride 2"
    assert ins.tensors.rowCount() == 1
    assert ins.tensors.item(0, 0).text() == "weight\n64×3×7×7"
    w = window.state.live.module.conv1.weight.detach().double()  # the weights images use
    cells = [float(v) for c in (1, 2) for v in ins.tensors.item(0, c).text().split("\n")]
    expected = [w.min(), w.max(), w.mean(), w.std(correction=0)]
    assert cells == pytest.approx([float(v) for v in expected], rel=1e-3, abs=1e-6)
    stats = ins.info.tensors[0].stats
    assert stats.std == pytest.approx(float(w.std(correction=0)), rel=1e-9)
    assert ins.weight_hist.isVisible() and sum(stats.histogram.counts) == 9408
    grid = ins.filters.grid
    assert grid.rgb and grid.shown == 64 and ins.filters.isVisible()
    assert ins.filters.image.image.shape == (63, 63, 3)
    assert "Convolution" in ins.about.text() and "lesson:stacked-3x3" in ins.about.text()
    assert "conv.py" in ins.source.text() and not ins.open_button.isVisible()


def test_the_tensor_statistics_are_seen_in_a_narrow_dock(qtbot, window):
    """Was: min/max/mean/std sat behind a horizontal scroll even at 390 px."""
    from PySide6.QtCore import Qt

    load(qtbot, window, "resnet18")
    ins = _inspected(qtbot, window, "bn1")
    window.resizeDocks([window.docks["inspector"]], [250], Qt.Horizontal)
    qtbot.waitUntil(lambda: ins.width() <= 300)
    table = ins.tensors
    assert table.rowCount() == 5  # weight, bias, running mean and variance, batches
    for row in range(table.rowCount()):
        for column in range(table.columnCount()):
            rect = table.visualRect(table.model().index(row, column))
            assert table.viewport().rect().contains(rect), (row, column)
            lines = table.item(row, column).text().split("\n")
            width = max(table.fontMetrics().horizontalAdvance(line) for line in lines)
            assert width <= rect.width(), (row, column, lines)


def test_a_depthwise_conv_of_mobilenet_v2_says_depthwise(qtbot, window):
    load(qtbot, window, "mobilenet_v2")
    graph = window.state.model.graph
    node = next(n for n in graph.nodes("Conv2d") if graph.node(n)["attrs"]["groups"] > 1)
    window.reveal(node)
    wait_idle(qtbot, window)
    ins = _inspected(qtbot, window, node)
    assert ins.fields["groups"] == ins.fields["in_channels"] == ins.fields["out_channels"]
    assert "depthwise" in ins.about.text().lower()
    assert not ins.filters.grid.rgb  # one channel per filter: grey tiles


def test_activation_statistics_after_an_image_ran(qtbot, window, tmp_path):
    load(qtbot, window, "resnet18")
    window.inference.open_image(str(gradient_png(tmp_path / "g.png")))
    qtbot.waitUntil(lambda: window.state.result is not None, timeout=TIMEOUT)
    ins = _inspected(qtbot, window, "relu")
    qtbot.waitUntil(lambda: ins.info.activation is not None, timeout=TIMEOUT)
    act = window.state.result.capture.get("relu").double()
    assert ins.info.activation.zeros == pytest.approx(float((act == 0).double().mean()))
    assert ins.info.activation.max == pytest.approx(float(act.max()))
    assert "zeros" in ins.activation.text() and ins.activation_hist.isVisible()


def test_user_model_source_opens_in_the_editor(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    path = tmp_path / "tiny.py"
    path.write_text("import torch.nn as nn\n\n\nclass Gate(nn.Module):\n"
                    "    def __init__(self):\n        super().__init__()\n"
                    "        self.scale = 2\n\n    def forward(self, x):\n"
                    "        return x * self.scale\n\n\n"
                    "def Tiny():\n    return nn.Sequential(nn.Conv2d(3, 8, 3), Gate())\n")
    load(qtbot, window, f"{path}:Tiny")
    ins = _inspected(qtbot, window, "1")
    assert ins.fields["scale"] == "2" and ins.open_button.isVisibleTo(ins)
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url))
    ins.open_button.click()
    assert opened and opened[0].toLocalFile() == str(path.resolve())


def test_model_info_dialog_and_menu(qtbot, window):
    load(qtbot, window, "resnet18")
    action = next(a for m in window.menuBar().actions() for a in m.menu().actions()
                  if a.text() == "Model info…")
    action.trigger()
    dialog = window.inspector.model_info_dialog
    qtbot.addWidget(dialog)
    o = dialog.overview
    assert o.weight_depth == 18 and o.op_counts["Conv2d"] == 20
    assert "18 weight layers" in dialog.text.toPlainText()
    dialog.close()


def test_attribute_search_highlights_every_match_in_graph_and_table(qtbot, window):
    load(qtbot, window, "mobilenet_v2")
    window.search.box.setText("groups>1")
    assert window.search.count.text().strip() == "17 found"
    lit = window.highlighter.lit
    assert lit and all(window.panel.scene.nodes[n].halo.isVisible() for n in lit)
    rows = [i for i, r in enumerate(window.table.model.rows) if r.name in lit]
    assert rows and window.table.model.item(rows[0], 0).background().color().isValid()
    window.search.box.setText("groups>")
    assert "value is missing" in window.search.count.text()
    window.search.box.setText("")
    assert not window.highlighter.lit
    assert not any(getattr(i, "halo", None) and i.halo.isVisible()
                   for i in window.panel.scene.nodes.values())


def test_inspector_weights_follow_loaded_weights(qtbot, window, tmp_path):
    load(qtbot, window, "lenet5")
    ins = _inspected(qtbot, window, window.state.model.graph.nodes("Conv2d")[0])
    module = window.state.live.module
    state = {k: torch.full_like(v, 0.5) for k, v in module.state_dict().items()}
    torch.save(state, tmp_path / "half.pt")
    window.inference.load_weights(str(tmp_path / "half.pt"))
    qtbot.waitUntil(lambda: ins.info.tensors and ins.info.tensors[0].stats is not None
                    and ins.info.tensors[0].stats.mean == 0.5, timeout=TIMEOUT)


def test_a_long_weights_label_wraps_in_a_narrow_dock(qtbot, window):
    """Was: 'weights: trained 20 epochs on UCI digits, test accuracy 97.2%' on one line
    held the Layer dock's content 390 px wide: in the left column the operator's text
    and the filters were cut at the dock's edge (no horizontal scroll there)."""
    from PySide6.QtCore import Qt

    window.training.load_trained_lenet()
    qtbot.waitUntil(lambda: window.prepared is not None and window.state.weights.trained,
                    timeout=TIMEOUT)
    ins = _inspected(qtbot, window, "features.0")
    assert "UCI digits" in ins.status.text()
    window.resizeDocks([window.docks["inspector"]], [250], Qt.Horizontal)
    qtbot.waitUntil(lambda: ins.width() <= 300)
    assert ins.widget().minimumSizeHint().width() <= ins.viewport().width()
