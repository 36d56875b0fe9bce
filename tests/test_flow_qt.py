"""The Flow dock: plain-20 and ResNet-20 measured on the worker, drawn on one log plot,
the layer under the mouse named, a click selecting it in the diagram, and the diagram's
boxes coloured by gradient with a legend of the scale."""

from __future__ import annotations

from apphelpers import TIMEOUT, load
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from explorer.app.flow.colouring import NO_GRADIENT
from explorer.app.flow.controller import twin
from explorer.graph.style import NODE_STYLES, category


def measured(qtbot, w, name="resnet20_cifar_plain"):
    load(qtbot, w, name)
    flow = w.flow
    assert flow.panel.overlay_name() == twin(name, flow.names) == "resnet20_cifar"
    flow.panel.batch.setValue(2)
    flow.measure()
    qtbot.waitUntil(lambda: w.state.flow is not None, timeout=TIMEOUT)
    return flow


def test_two_models_on_one_log_plot_hover_and_click(qtbot, window):
    w = window
    flow = measured(qtbot, w)
    results = w.state.flow
    assert [r.model for r in results] == ["resnet20_cifar_plain", "resnet20_cifar"]
    assert [r.input_shape for r in results] == [(2, 3, 32, 32)] * 2
    curves = [c for c in flow.panel.plot.getPlotItem().listDataItems() if c.name()]
    assert [c.name() for c in curves] == ["resnet20_cifar_plain", "resnet20_cifar"]
    assert flow.panel.plot.getPlotItem().ctrl.logYCheck.isChecked()
    assert "first/last conv gradient" in flow.panel.status.text()
    # hover: the point nearest the mouse names its layer; a click selects it
    box = flow.panel.plot.getPlotItem().vb
    qtbot.waitUntil(lambda: flow.panel.isVisible() and box.width() > 100, timeout=TIMEOUT)
    qtbot.wait(50)  # the view box's range follows its new size
    index = flow.panel.names.index(("layer2.0.conv1", "resnet20_cifar_plain",
                                    results[0].layer("layer2.0.conv1").grad_rms))
    x, y = flow.panel.points[index]
    scene_pos = box.mapViewToScene(QPointF(x, y))
    assert flow.panel.nearest(scene_pos) == index
    flow.panel._moved(scene_pos)
    assert flow.panel.hover.text().startswith("layer2.0.conv1 in resnet20_cifar_plain")
    flow.panel.layerChosen.emit(flow.panel.names[index][0])
    qtbot.waitUntil(lambda: w.state.selection == "layer2.0.conv1", timeout=TIMEOUT)
    # another measure redraws from the same state
    flow.panel.measure.setCurrentIndex(flow.panel.measure.findData("zero_fraction"))
    assert not flow.panel.plot.getPlotItem().ctrl.logYCheck.isChecked()


def test_the_diagram_coloured_by_gradient_and_back(qtbot, window):
    w = window
    flow = measured(qtbot, w)
    scene = w.panel.scene
    flow.panel.colour.setChecked(True)
    assert flow.legend.isVisible() and flow.legend.text().startswith("1e")
    conv = scene.nodes["conv1"]
    assert conv.brush().color() != QColor(NODE_STYLES[category(conv.data)][0])
    assert scene.nodes["input"].brush().color() == QColor(NO_GRADIENT)
    flow.panel.colour.setChecked(False)
    assert conv.brush().color() == QColor(NODE_STYLES[category(conv.data)][0])
    assert not flow.legend.isVisible()
    # a new model takes the measurement away
    flow.panel.colour.setChecked(True)
    load(qtbot, w, "resnet20_cifar")
    assert w.state.flow is None and not flow.legend.isVisible()
    assert flow.panel.overlay_name() == "resnet20_cifar_plain"


def test_a_pair_opens_and_measures(qtbot, window):
    w = window
    w.flow.panel.batch.setValue(2)
    w.flow.open_pair("resnet20_cifar", "resnet20_cifar_plain")
    qtbot.waitUntil(lambda: w.state.flow is not None, timeout=TIMEOUT)
    assert [r.model for r in w.state.flow] == ["resnet20_cifar", "resnet20_cifar_plain"]
    assert w.flow.dock.isVisible()


def test_a_flow_lesson_opens_the_flow_dock_on_its_two_models(qtbot, window):
    from explorer.app.dialogs.compare import LessonsDialog

    w = window
    w.flow.panel.batch.setValue(2)
    dialog = LessonsDialog(w)
    ids = [lesson.id for lesson in dialog.lessons]
    dialog.list.setCurrentRow(ids.index("flow-plain-vs-residual-20"))
    assert dialog.open_button.text() == "Show their gradient flow"
    qtbot.waitUntil(lambda: "holds" in dialog.text.toPlainText() or "✔" in
                    dialog.text.toPlainText(), timeout=TIMEOUT)
    assert "e+0" in dialog.text.toPlainText()  # figures as 1.2e+02, computed
    dialog._compare()
    qtbot.waitUntil(lambda: w.state.flow is not None, timeout=TIMEOUT)
    assert [r.model for r in w.state.flow] == ["resnet20_cifar_plain", "resnet20_cifar"]


def test_the_second_model_follows_the_model_shown_until_a_person_picks_one(qtbot, window):
    """Was: the first model's twin (resnet34_plain) stayed the second model for every model
    opened after it: resnet20_cifar was measured against an ImageNet network at 224×224."""
    w = window
    load(qtbot, w, "resnet34")
    assert w.flow.panel.overlay_name() == "resnet34_plain"
    load(qtbot, w, "resnet20_cifar")
    assert w.flow.panel.overlay_name() == "resnet20_cifar_plain"
    load(qtbot, w, "lenet5")
    assert w.flow.panel.overlay_name() is None  # no twin: none, not the last one's
    w.flow.panel.set_overlay("vgg11")  # a person's choice stays
    w.flow.panel.overlay.activated.emit(w.flow.panel.overlay.currentIndex())
    load(qtbot, w, "resnet20_cifar")
    assert w.flow.panel.overlay_name() == "vgg11"


def test_random_weights_after_an_image_are_measured_with_the_papers_init(qtbot, window,
                                                                          tmp_path):
    """Was: once an image had run, the live model (random init with zero_init_last) was
    measured: "resnet20_cifar: no two convolutions with a gradient", one dot on the plot."""
    from apphelpers import gradient_png, wait_idle

    w = window
    load(qtbot, w, "resnet20_cifar")
    w.inference.open_image(str(gradient_png(tmp_path / "g.png")))
    qtbot.waitUntil(lambda: w.state.live is not None and w.state.result is not None,
                    timeout=TIMEOUT)
    wait_idle(qtbot, w)
    assert not w.state.weights.trained
    w.flow.panel.set_overlay(None)
    w.flow.panel.batch.setValue(2)
    w.flow.measure()
    qtbot.waitUntil(lambda: w.state.flow is not None, timeout=TIMEOUT)
    assert "no two convolutions" not in w.flow.panel.status.text()
    assert "first/last conv gradient" in w.flow.panel.status.text()
