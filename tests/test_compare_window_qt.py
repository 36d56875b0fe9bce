"""Model ▸ Compare with…: the split view, driven offscreen with pytest-qt."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("pytestqt")
from apphelpers import TIMEOUT, load  # noqa: E402

from explorer.diffstate import DiffState, model_text, prepare_diff, toggled_spec  # noqa: E402


def _open(qtbot, window, a, b, claim=""):
    window.open_compare(a, b, claim)
    cw = window.compare_window
    qtbot.addWidget(cw)
    qtbot.waitUntil(lambda: cw.state.prepared is not None, timeout=TIMEOUT)
    return cw


def test_compare_with_opens_the_current_model_beside_another(qtbot, window):
    load(qtbot, window, "resnet34", options={"shortcut": "A"})
    window.ask_compare()
    cw = window.compare_window
    qtbot.addWidget(cw)
    qtbot.waitUntil(lambda: cw.state.prepared is not None, timeout=TIMEOUT)
    assert cw.a.currentText() == "resnet34:shortcut=A"
    assert cw.panes["a"].title.text() == "resnet34:shortcut=A"
    assert cw.panes["b"].title.text() == "resnet34"
    # shortcut A against B: the three blocks with a projection are what differs, the
    # first of them open (zero padding against a 1x1 conv and its BN)
    halos = {n: s for n, s in cw.panes["a"].halos.items() if isinstance(n, str)}
    assert halos == {"layer2.0.downsample": "changed", "layer3.0": "changed",
                     "layer4.0": "changed"}
    assert {n for n in cw.panes["b"].halos if isinstance(n, str)} == set(halos)
    change = cw.state.prepared.diff.node_for("a", "layer2.0.downsample").changes
    assert change["operator"] == ("ZeroPadShortcut", "Sequential")
    cw.close()


def test_both_panes_colour_and_align_the_difference(qtbot, window):
    cw = _open(qtbot, window, "vgg16", "vgg19")
    pa, pb = cw.panes["a"], cw.panes["b"]
    assert sorted(n for n, s in pb.halos.items() if s == "only_b" and isinstance(n, str)) == [
        "features.16", "features.17", "features.25", "features.26", "features.34",
        "features.35"]
    assert not [n for n, s in pa.halos.items() if isinstance(n, str)]
    assert cw.rows.topLevelItemCount() == 6  # the differences only
    # matched nodes sit at one height in both scenes
    p = cw.state.prepared
    for x, y in p.diff.a_to_b.items():
        assert pa.scene.nodes[x].pos().y() == pytest.approx(pb.scene.nodes[y].pos().y())
    # scrolling one pane scrolls the other to the same height
    pa.view.centerOn(0, 2000)
    centre = pb.view.mapToScene(pb.view.viewport().rect().center()).y()
    assert centre == pytest.approx(2000, abs=40)
    pb.view.set_zoom(0.5)
    assert pa.view.zoom == pytest.approx(pb.view.zoom)
    cw.only_differences.setChecked(False)
    assert cw.rows.topLevelItemCount() == len(p.diff.nodes)
    cw.close()


def test_a_click_goes_to_both_and_shows_the_two_layers(qtbot, window):
    cw = _open(qtbot, window, "resnet50", "resnet50_v1", )
    spec_nodes = cw.state.prepared.diff.differences()
    target = next(i for i, d in enumerate(spec_nodes) if d.a and d.a.endswith("conv1")
                  and "stride" in d.changes)
    cw.state.select(target)
    node = cw.state.selection
    assert cw.panes["a"].scene.nodes[node.a].isSelected()
    assert cw.panes["b"].scene.nodes[node.b].isSelected()
    html = cw.detail.toHtml()
    assert "stride" in html and "resnet50_v1" in html
    assert cw.rows.currentItem().text(0) == node.a
    # a click in pane B selects the pair too
    other = next(d for d in spec_nodes if d.b and d.b.endswith("conv2"))
    cw.panes["b"].scene.clearSelection()  # as a click does
    cw.panes["b"].scene.nodes[other.b].setSelected(True)
    qtbot.waitUntil(lambda: cw.state.selection == other, timeout=TIMEOUT)
    cw.close()


def test_unfolding_in_one_pane_unfolds_its_match(qtbot, window):
    cw = _open(qtbot, window, "resnet34", "resnet34_plain")
    assert cw.state.prepared.diff.a.node("layer2.1").get("folded")
    cw.panes["a"].view.nodeActivated.emit("layer2.1")
    qtbot.waitUntil(lambda: "layer2.1.conv1" in cw.panes["b"].scene.nodes, timeout=TIMEOUT)
    assert "layer2.1.conv1" in cw.panes["a"].scene.nodes
    assert cw.panes["a"].halos.get("layer2.1.add") == "only_a"
    cw.panes["b"].view.nodeActivated.emit("layer2.1.conv1")  # a layer: fold its block
    qtbot.waitUntil(lambda: "layer2.1" in cw.panes["a"].scene.nodes, timeout=TIMEOUT)
    assert "layer2.1" in cw.panes["b"].scene.nodes
    cw.expand_all()
    p = cw.state.prepared
    qtbot.waitUntil(lambda: len(cw.panes["a"].scene.nodes) == len(p.graph_a), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: len(cw.panes["b"].scene.nodes) == len(p.graph_b), timeout=TIMEOUT)
    cw.panes["a"].view.fit()
    assert cw.panes["b"].view.zoom == pytest.approx(cw.panes["a"].view.zoom)
    cw.close()


def test_a_lesson_opens_as_a_split_view_with_its_claim(qtbot, window):
    from explorer.app.dialogs.compare import LessonsDialog

    dialog = LessonsDialog(window)
    qtbot.addWidget(dialog)
    ids = [lesson.id for lesson in dialog.lessons]
    dialog.list.setCurrentRow(ids.index("plain-vs-residual"))
    dialog._compare()
    cw = window.compare_window
    qtbot.addWidget(cw)
    qtbot.waitUntil(lambda: cw.state.prepared is not None, timeout=TIMEOUT)
    lesson = dialog.lessons[ids.index("plain-vs-residual")]
    assert lesson.claim in cw.claim_label.text()
    assert cw.panes["a"].title.text() == "resnet34_plain"
    cw.close()


def test_bad_model_text_is_one_message_and_the_window_stays(qtbot, window):
    cw = _open(qtbot, window, "resnet18", "resnet18_plain")
    before = cw.state.prepared
    cw.b.setCurrentText("nosuchnet")
    cw.compare()
    qtbot.waitUntil(lambda: "nosuchnet" in cw.status.text(), timeout=TIMEOUT)
    assert cw.state.prepared is before and cw.isVisible()
    cw.close()


def test_diff_state_without_qt():
    p = prepare_diff("resnet18", "resnet18_plain")
    state = DiffState()
    seen = []
    state.events.selection.connect(seen.append)
    state.show(p)
    state.select(0)
    assert seen == [p.diff.differences()[0]]
    folded = next(n for n in p.diff.b.nodes() if p.diff.b.node(n).get("folded"))
    spec = toggled_spec(p, "b", folded)
    assert {folded, p.diff.b_to_a[folded]} <= spec.expand
    assert model_text("resnet34", {"shortcut": "A"}) == "resnet34:shortcut=A"


def test_find_in_both_walks_the_rows_that_match(qtbot, window):
    cw = _open(qtbot, window, "vgg16", "vgg19")
    cw.find_box.setText("features.25")
    cw.find_next()
    first = cw.state.selection
    assert "features.25" in (first.a, first.b)
    cw.find_next()
    assert cw.state.selection != first and "features.25" in (
        cw.state.selection.a, cw.state.selection.b)
    assert cw.rows.currentItem().data(0, 0x0100) == cw.state.selection  # Qt.UserRole
    cw.find_box.setText("nothing like it")
    cw.find_next()
    assert "No layer" in cw.status.text()
    cw.close()


def test_export_writes_what_the_panes_show(qtbot, window, tmp_path, monkeypatch):
    from PIL import Image

    from explorer.export import image_size

    cw = _open(qtbot, window, "vgg16", "vgg19")
    cw.export_to(str(tmp_path / "d.svg"))
    svg = (tmp_path / "d.svg").read_text()
    assert svg.count('<rect class="diff only_b"') == 6 and "Wrote" in cw.status.text()
    cw.export_to(str(tmp_path / "d.txt"))
    assert "Could not write" in cw.status.text() and not (tmp_path / "d.txt").exists()
    monkeypatch.setitem(image_size.MAX_SIDE, "png", 1000)  # VGG-19's column is ~3,800 px
    cw.export_to(str(tmp_path / "d.png"))
    assert "at scale" in cw.status.text()
    with Image.open(tmp_path / "d.png") as img:
        assert max(img.size) <= 1000
    monkeypatch.setitem(image_size.MAX_SIDE, "svg", 1000)
    cw.export_to(str(tmp_path / "big.svg"))
    assert "fold more" in cw.status.text() and not (tmp_path / "big.svg").exists()
    cw.close()


def test_unfolding_stays_where_the_person_looks(qtbot, window):
    cw = _open(qtbot, window, "resnet34", "resnet34_plain")
    pa = cw.panes["a"]
    pa.view.center_on("layer3.4")
    cw.toggle("a", "layer3.4")
    qtbot.waitUntil(lambda: "layer3.4.conv1" in pa.scene.nodes, timeout=TIMEOUT)
    seen = pa.view.mapToScene(pa.view.viewport().rect()).boundingRect()
    assert seen.contains(pa.scene.nodes["layer3.4.conv1"].sceneBoundingRect().center())
    pb = cw.panes["b"]
    seen_b = pb.view.mapToScene(pb.view.viewport().rect()).boundingRect()
    assert seen_b.contains(pb.scene.nodes["layer3.4.conv1"].sceneBoundingRect().center())
    cw.close()


def test_export_never_lands_on_a_compared_models_file(qtbot, window, tmp_path):
    """Comparing a person's model file: a destination that is that file under another name
    (a hard link) is refused as the main window's exports refuse it."""
    source = tmp_path / "mine.py"
    source.write_text("import torch.nn as nn\n\n\nclass Net(nn.Sequential):\n"
                      "    def __init__(self):\n"
                      "        super().__init__(nn.Conv2d(3, 6, 5), nn.ReLU(),\n"
                      "                         nn.AdaptiveAvgPool2d(1), nn.Flatten(),\n"
                      "                         nn.Linear(6, 10))\n")
    before = source.read_bytes()
    cw = _open(qtbot, window, f"{source}:Net", "lenet5")
    os.link(source, tmp_path / "diagram.svg")
    cw.export_to(str(tmp_path / "diagram.svg"))
    assert "Could not write" in cw.status.text() and "being read" in cw.status.text()
    assert source.read_bytes() == before
    cw.close()


def test_the_counts_line_never_widens_the_window(qtbot, window):
    cw = _open(qtbot, window, "resnet34", "resnet34_plain")
    import re

    only_b = re.search(r"only in resnet34_plain: (\d+) layers, (\d+) connections",
                       cw.legend.text())
    assert only_b and only_b[1] == "0" and int(only_b[2]) > 0  # its own edges, counted
    assert cw.legend.minimumSizeHint().width() < 400
    cw.close()


def test_enter_in_a_model_box_compares_and_the_list_says_only_in_a(qtbot, window):
    """Was: Enter after typing a name in the B box did nothing (only the button compared),
    and the status column read the diff's identifiers ("only_a", "only_b")."""
    from PySide6.QtCore import Qt

    cw = _open(qtbot, window, "resnet20_cifar", "resnet34")
    cw.b.setCurrentText("resnet20_cifar_plain")
    first = cw.state.prepared
    qtbot.keyClick(cw.b.lineEdit(), Qt.Key_Return)
    qtbot.waitUntil(lambda: cw.state.prepared is not first
                    and cw.state.prepared.graph_b.model == "resnet20_cifar_plain",
                    timeout=TIMEOUT)
    statuses = {cw.rows.topLevelItem(i).text(2) for i in range(cw.rows.topLevelItemCount())}
    assert "only in A" in statuses and not {"only_a", "only_b"} & statuses
    # "what differs" is cut at the list's edge ("inside: shortc…"): its tooltip is whole
    rows = [cw.rows.topLevelItem(i) for i in range(cw.rows.topLevelItemCount())]
    assert any(r.text(5) for r in rows)
    assert all(r.toolTip(5) == r.text(5) for r in rows)
    cw.close()


def test_compare_with_offers_a_model_of_the_same_kind(qtbot, window):
    """Was: ResNet-34 beside every model (resnet20_cifar against a 224×224 ImageNet
    network): now its plain twin, else one of its family."""
    load(qtbot, window, "resnet20_cifar")
    window.ask_compare()
    cw = window.compare_window
    qtbot.addWidget(cw)
    assert cw.b.currentText() == "resnet20_cifar_plain"
    qtbot.waitUntil(lambda: cw.state.prepared is not None, timeout=TIMEOUT)
    cw.close()
    load(qtbot, window, "densenet121")
    window.ask_compare()
    cw = window.compare_window
    qtbot.addWidget(cw)
    assert cw.b.currentText().startswith("densenet") and cw.b.currentText() != "densenet121"
    qtbot.waitUntil(lambda: cw.state.prepared is not None, timeout=TIMEOUT)
    cw.close()
