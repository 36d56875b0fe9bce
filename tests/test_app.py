"""The desktop app, driven offscreen with pytest-qt."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("pytestqt")
from apphelpers import TIMEOUT, drop, gradient_png, load, wait_idle  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

from explorer import zoo  # noqa: E402
from explorer.app.docks.catalogue import PARAMS  # noqa: E402
from explorer.graph import default_spec, fold, trace_zoo  # noqa: E402


def _one_model_per_family() -> list[str]:
    seen: dict[str, str] = {}
    for name in zoo.list_models():  # every model is traced and folded by the core tests
        seen.setdefault(zoo.get_info(name).family, name)
    return sorted(seen.values())


@pytest.mark.parametrize("name", _one_model_per_family())
def test_a_model_of_each_family_shows_its_folded_graph(qtbot, window, name):
    load(qtbot, window, name)
    graph = trace_zoo(name)
    expected = fold(graph, default_spec(graph))
    assert len(window.panel.scene.nodes) == len(expected)
    assert len(window.panel.scene.edges) == expected.nx.number_of_edges()
    assert window.windowTitle() == f"Architecture Explorer — {name} (random init)"


def test_the_catalogue_counts_every_model_in_the_background(qtbot, window):
    window._count_sizes()
    names = zoo.list_models()
    qtbot.waitUntil(lambda: all(window.catalogue.items[n][PARAMS].text() for n in names),
                    timeout=TIMEOUT)
    assert window.catalogue.items["resnet18"][PARAMS].data(Qt.UserRole) == 11_689_512


def test_a_name_cut_short_in_a_narrow_catalogue_is_whole_in_its_tooltip(qtbot, window):
    """At 1024×640 the Models dock read "preact_…1_cifar" and "preact_…0_cifar"
    (preact_resnet1001_cifar, preact_resnet110_cifar): the tooltip names the model first."""
    for name in ("preact_resnet1001_cifar", "preact_resnet110_cifar", "resnet18"):
        assert window.catalogue.items[name][0].toolTip().splitlines()[0] == name


def test_double_click_folds_and_unfolds(qtbot, window):
    load(qtbot, window, "resnet34")
    before = len(window.panel.scene.nodes)
    view = window.panel.view
    item = window.panel.scene.nodes["layer2.0"]
    view.centerOn(item)
    pos = view.mapFromScene(item.sceneBoundingRect().center())
    qtbot.mouseDClick(view.viewport(), Qt.LeftButton, pos=pos)
    wait_idle(qtbot, window)
    assert "layer2.0" not in window.panel.scene.nodes
    assert "layer2.0.conv1" in window.panel.scene.nodes
    assert len(window.panel.scene.nodes) == before - 1 + 8
    assert any(e.kind == "residual" for e in window.panel.scene.edges)
    # double-click a layer inside it: the block folds again
    window.toggle_block("layer2.0.conv1")
    wait_idle(qtbot, window)
    assert "layer2.0" in window.panel.scene.nodes
    assert len(window.panel.scene.nodes) == before


def test_selection_syncs_graph_inspector_and_table(qtbot, window):
    load(qtbot, window, "googlenet")
    view = window.panel.view
    item = window.panel.scene.nodes["inception3a.branch2"]
    view.centerOn(item)
    qtbot.mouseClick(view.viewport(), Qt.LeftButton,
                     pos=view.mapFromScene(item.sceneBoundingRect().center()))
    assert "inception3a.branch2" in window.inspector.toPlainText()
    current = window.table.proxy.mapToSource(window.table.view.currentIndex()).row()
    assert window.table.model.rows[current].name == "inception3a.branch2"
    # and a table row selects its node
    row = window.table.model.row_of("maxpool1")
    window.table.view.selectRow(window.table.proxy.mapFromSource(
        window.table.model.index(row, 0)).row())
    assert window.panel.scene.nodes["maxpool1"].isSelected()
    assert window.state.selection == "maxpool1"
    assert "maxpool1" in window.inspector.toPlainText()


def test_option_change_rebuilds_the_graph(qtbot, window):
    load(qtbot, window, "resnet34")
    assert window.prepared.table.total["params"] == 21_797_672
    window.options.widgets["plain"].setChecked(True)
    window.options.apply_now()
    qtbot.waitUntil(lambda: window.prepared.options.get("plain") is True
                    and not window.progress.isVisible(), timeout=TIMEOUT)
    assert window.prepared.table.total["params"] == 21_623_848
    assert not any("motifs" in window.prepared.view.nx.nodes[n]
                   for n in window.prepared.view.nx)
    window.options.widgets["plain"].setChecked(False)
    window.options.widgets["shortcut"].setCurrentText("A")
    window.options.apply_now()
    qtbot.waitUntil(lambda: window.prepared.options.get("shortcut") == "A"
                    and not window.progress.isVisible(), timeout=TIMEOUT)
    assert window.prepared.table.total["params"] == 21_623_848
    # option A's shortcut pads and strides: no projection, not an identity either
    assert window.prepared.view.nx.nodes["layer2.0"]["motifs"] == {"residual": 1,
                                                                    "padded": 1}


def test_search_walks_through_matches(qtbot, window):
    load(qtbot, window, "vgg16")
    window.search.box.setText("conv2d")
    first = window.find_next()
    second = window.find_next()
    assert first == "features.0" and second == "features.2"
    assert window.panel.scene.nodes[second].isSelected()
    assert window.search.count.text().strip() == "2/13"


def test_open_model_file_and_syntax_error(qtbot, window, tmp_path):
    good = tmp_path / "mine.py"
    good.write_text("import torch\nfrom torch import nn\n\n"
                    "class Mine(nn.Module):\n"
                    "    def __init__(self):\n"
                    "        super().__init__()\n"
                    "        self.conv = nn.Conv2d(3, 4, 3)\n"
                    "        self.fc = nn.Linear(4, 2)\n\n"
                    "    def forward(self, x):\n"
                    "        return self.fc(self.conv(x).mean((2, 3)))\n")
    window.open_model_file(str(good), "Mine", (1, 3, 32, 32))
    qtbot.waitUntil(lambda: window.prepared is not None and "mine.py" in window.prepared.name,
                    timeout=TIMEOUT)
    assert {"conv", "mean", "fc"} <= set(window.panel.scene.nodes)
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\n\nclass Broken(:\n    pass\n")
    assert window.open_model_file(str(bad), "Broken", (1, 3, 32, 32)) is None
    assert window.warnings and f"{bad}:3: syntax error" in window.warnings[-1]
    raising = tmp_path / "raising.py"
    raising.write_text("from torch import nn\n\nclass Net(nn.Module):\n"
                       "    def __init__(self):\n        super().__init__()\n"
                       "        self.fc = nn.Linear(3, 2)\n\n"
                       "    def forward(self, x):\n        return self.fc(x)\n")
    window.open_model_file(str(raising), "Net", (1, 3, 32, 32))  # wrong input shape for fc
    qtbot.waitUntil(lambda: len(window.warnings) == 2, timeout=TIMEOUT)
    assert "cannot trace" in window.warnings[-1]
    load(qtbot, window, "resnet18")  # the app keeps working


def test_exports_png_and_svg(qtbot, window, tmp_path):
    load(qtbot, window, "resnet18")
    png, svg = tmp_path / "d.png", tmp_path / "d.svg"
    window.export_diagram(str(png), whole=True, scale=1.5)
    image = QImage(str(png))
    window.export_diagram(str(tmp_path / "one.png"), whole=True, scale=1.0)
    one = QImage(str(tmp_path / "one.png"))
    rect = window.panel.scene.sceneRect()
    assert one.height() >= rect.height() - 40  # the whole graph (and its legend)
    assert abs(image.width() - 1.5 * one.width()) <= 1
    assert abs(image.height() - 1.5 * one.height()) <= 1
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 5
    window.export_diagram(str(tmp_path / "visible.png"), whole=False, transparent=True)
    assert QImage(str(tmp_path / "visible.png")).hasAlphaChannel()
    window.export_diagram(str(svg))
    root = ET.parse(svg).getroot()
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for label in ("conv1", "layer1.0.conv1", "7×7 conv, 64, /2", "fc"):
        assert label in texts


def test_model_work_runs_on_the_worker_and_results_arrive_queued(qtbot, window, monkeypatch):
    """The UI thread never runs model code: building, tracing and laying out happen in
    the job on the worker thread, and the result comes back through a queued signal to a
    slot on the UI thread. (How long the UI waits is measured in benchmarks/ui_bench.py.)"""
    import explorer.session as session

    ui_thread = threading.get_ident()
    job_threads, slot_threads = [], []
    real_prepare = session.prepare
    monkeypatch.setattr(session, "prepare",
                        lambda *a, **k: job_threads.append(threading.get_ident())
                        or real_prepare(*a, **k))
    window.state.events.model.connect(lambda _p: slot_threads.append(threading.get_ident()))
    load(qtbot, window, "densenet121")
    assert job_threads and ui_thread not in job_threads
    assert slot_threads == [ui_thread]  # the result reached the state on the UI thread


def test_image_work_runs_on_the_worker(qtbot, window, tmp_path, monkeypatch):
    import explorer.inference.runner as runner

    ui_thread = threading.get_ident()
    job_threads = []
    real_run = runner.run_image
    monkeypatch.setattr(runner, "run_image",
                        lambda *a, **k: job_threads.append(threading.get_ident())
                        or real_run(*a, **k))
    load(qtbot, window, "resnet18")
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "v.png")))
    assert job_threads and ui_thread not in job_threads


def _finished_with(generation):
    return lambda g, *_: g == generation


def test_cancel_and_supersede(qtbot, window):
    load(qtbot, window, "resnet18")
    shown = []
    original = window.panel.scene.show_layout
    window.panel.scene.show_layout = lambda v, l: (shown.append(v.model), original(v, l))
    with qtbot.waitSignal(window.runner.finished, timeout=TIMEOUT) as cancelled:
        generation = window.open_model("densenet201")
        window.cancel()
    assert cancelled.args[0] == generation and cancelled.args[1] is None
    assert window.prepared.name == "resnet18" and shown == []
    assert window.status_label.text() == "Cancelled"
    window.open_model("vgg19")
    with qtbot.waitSignal(window.runner.finished, timeout=TIMEOUT,
                          check_params_cb=_finished_with(window.open_model("resnet50"))):
        pass  # resnet50 supersedes vgg19 before vgg19 is shown
    # one worker thread, queued signals in order: vgg19's result came before resnet50's
    assert window.prepared.name == "resnet50" and shown == ["resnet50"]


def test_settings_remember_the_last_model(qtbot, window):
    load(qtbot, window, "unet")
    assert window.settings.value("last_model") == "unet"
    window.close()
    assert window.settings.value("geometry") is not None


# ---------------------------------------------------------------------- images (part 2)
def test_drop_an_image_fills_feature_maps_and_selection_switches_them(qtbot, window, tmp_path):
    load(qtbot, window, "resnet18")
    with qtbot.waitSignals([window.inference.ran, window.inference.mapsShown],
                           timeout=TIMEOUT):
        drop(window, gradient_png(tmp_path / "in.png"))
    from PySide6.QtWidgets import QProgressBar

    inf = window.inference
    assert inf.features.act is not None
    bars = [b for b in inf.predictions.bars.findChildren(QProgressBar)
            if b.objectName() == "top_k"]
    assert len(bars) == 5
    generation = inf.runner.generation
    with qtbot.waitSignal(inf.mapsShown, timeout=TIMEOUT):
        window.select_node("layer1.0.add")  # a functional node: the residual sum
    assert "layer1.0.add" in inf.features.title.text() and inf.features.act.shape[0] == 64
    with qtbot.waitSignal(inf.mapsShown, timeout=TIMEOUT):
        window.reveal("layer4.1.conv2")  # inside a folded block: unfolds to it
    assert "layer4.1.conv2" in inf.features.title.text() and inf.features.act.shape[0] == 512
    assert inf.runner.generation == generation  # from the cache, the model did not run again
    inf.features.show_channel(3)
    assert "channel 3" in inf.features.stats.text()


def test_segmentation_overlay_has_the_images_size(qtbot, window, tmp_path):
    load(qtbot, window, "unet_padded", options={"base_width": 4, "in_channels": 3},
         input_shape=(1, 3, 64, 64))
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "seg.png", 150, 100)))
    result = window.inference.result
    assert result.mask.shape == (100, 150)
    assert window.inference.predictions.composed().size == (150, 100)
    window.inference.predictions.mask_only.setChecked(True)
    assert window.inference.predictions.composed().size == (150, 100)
    assert window.inference.predictions.legend.count() >= 1
    assert window.export_image("side-by-side", str(tmp_path / "sbs.png"))


def test_loading_weights_changes_predictions_and_title(qtbot, window, tmp_path):
    import torch

    load(qtbot, window, "resnet18")
    assert window.windowTitle().endswith("(random init)")
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "a.png")))
    before = [p["index"] for p in window.inference.result.top_k]
    torch.manual_seed(123)
    other = zoo.build("resnet18")
    with torch.no_grad():
        other.fc.bias.zero_()
        other.fc.bias[999] = 100.0  # these weights answer class 999 whatever the image
    torch.save(other.state_dict(), tmp_path / "mine.pth")
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.load_weights(str(tmp_path / "mine.pth"))
    after = [p["index"] for p in window.inference.result.top_k]
    assert after != before and after[0] == 999
    assert window.windowTitle().endswith("(mine.pth)")


def test_bad_image_and_wrong_weights_show_errors_and_the_app_keeps_working(
        qtbot, window, tmp_path):
    import torch

    load(qtbot, window, "resnet18")
    (tmp_path / "broken.jpg").write_text("not an image at all")
    assert not window.inference.open_image(str(tmp_path / "broken.jpg"))
    assert "broken.jpg: not an image" in window.warnings[-1]
    torch.save(zoo.build("lenet5").state_dict(), tmp_path / "lenet.pth")
    window.inference.load_weights(str(tmp_path / "lenet.pth"))
    qtbot.waitUntil(lambda: any("does not fit this model" in w for w in window.warnings),
                    timeout=TIMEOUT)
    assert window.windowTitle().endswith("(random init)")
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "good.png")))
    assert len(window.inference.result.top_k) == 5


def test_demo_weights_make_a_meaningful_overlay(qtbot, window):
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.load_demo()
    result = window.inference.result
    labels = {c["label"] for c in result.classes}
    assert "background" in labels and labels & {"circle", "square", "triangle"}
    assert window.windowTitle().endswith("(unet_shapes.safetensors)")


def test_open_with_an_image_runs_it_once_the_model_is_built(qtbot, window, tmp_path,
                                                            monkeypatch):
    import explorer.app.main as app_main
    from explorer.cli import main

    seen = []
    monkeypatch.setattr(app_main, "launch", lambda argv: seen.append(argv) or 0)
    image = gradient_png(tmp_path / "open-with.png")
    assert main([str(image)]) == 0 and seen == [[str(image)]]  # the desktop's "Open with"
    window.inference.open_image(str(image))  # before any model: kept until one is built
    assert window.inference.result is None
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.open_model("resnet18")
    assert len(window.inference.result.top_k) == 5


def test_the_progress_bar_follows_the_job(qtbot, window):
    seen = []
    window.models.progressed.connect(seen.append)
    load(qtbot, window, "resnet18")
    assert seen and seen == sorted(seen) and window.progress.value() == seen[-1] == 100


def test_the_table_and_status_count_layers_alike(qtbot, window):
    """Was: LeNet-5 read "14 layers" in the status bar (input and output counted) and "12
    layers" over the table; ResNet-34's table said "21 layers" for 21 rows, most of them
    folded blocks."""
    load(qtbot, window, "lenet5")
    assert window.status_label.text().startswith("lenet5: 12 layers,")
    assert window.table.totals.text().startswith("12 layers ·")
    load(qtbot, window, "resnet34")
    assert window.status_label.text().startswith("resnet34: 125 layers,")
    text = window.table.totals.text()
    assert text.startswith("21 rows (") and "folded" in text and "21 layers" not in text
