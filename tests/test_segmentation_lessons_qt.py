"""The segmentation lessons in the window: the Training dock draws mean IoU and the
boundary F1 (not an error) for a segmentation run, and the lessons dialog names the
narrowed options and the number of scenes it trains on."""

from __future__ import annotations

from explorer.app.training.dock import SEGMENTATION, TrainingDock
from explorer.training.log import TrainingLog
from explorer.training.metrics import EpochMetrics


def seg_epoch(epoch: int, miou: float) -> EpochMetrics:
    return EpochMetrics(epoch, 0.5, 0.1, 0.6, 0.2, miou, 0.1, 1.0, miou + 0.1, miou / 2)


def test_the_dock_draws_mean_iou_and_boundary_f1(qtbot):
    log = TrainingLog()
    log.start(("fcn32s", "fcn8s"), 8, "shapes-seg", "")
    for label, miou in (("fcn32s", 0.2), ("fcn8s", 0.3)):
        for e in (1, 2):
            log.add_epoch(label, seg_epoch(e, miou))
    dock = TrainingDock(log)
    qtbot.addWidget(dock)
    dock.render()
    items = dock.errors.getPlotItem().listDataItems()
    assert len(items) == 6  # training and test mean IoU, boundary F1, per model
    values = {item.name(): list(item.yData) for item in items}
    assert values["fcn8s test mean IoU"] == [30.0, 30.0]
    assert values["fcn8s boundary F1"] == [15.0, 15.0]
    assert values["fcn32s training mean IoU"] == [100 * (0.2 + 0.1)] * 2
    assert dock.errors.getPlotItem().titleLabel.text == SEGMENTATION


def test_the_lessons_dialog_names_the_narrow_options(qtbot):
    from explorer.app.training.lessons_dialog import TrainingLessonsDialog
    from explorer.training.lessons import load_training_lessons

    lessons = [x for x in load_training_lessons() if x.id == "fcn-skips"]
    dialog = TrainingLessonsDialog(lessons, lambda lesson: None)
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert "fcn32s (base_width=4, batch_norm=True) and fcn8s (base_width=4" in text
    assert "shapes-seg (300 training images)" in text and "8 epochs" in text


def test_a_report_updates_the_curves_without_rebuilding_them(qtbot):
    # PySide6 6.12 on Python 3.11 loses a reference to None on each void call: clearing
    # and re-plotting at every report crashed a lesson's run in the window.
    log = TrainingLog()
    log.start(("unet_padded", "segnet"), 8, "shapes-seg", "")
    for label in log.labels:
        log.add_epoch(label, seg_epoch(1, 0.2))
    dock = TrainingDock(log)
    qtbot.addWidget(dock)
    before = dock.errors.getPlotItem().listDataItems()
    log.add_epoch("segnet", seg_epoch(2, 0.25))
    dock.render()
    after = dock.errors.getPlotItem().listDataItems()
    assert [id(i) for i in after] == [id(i) for i in before]
    assert list(after[-1].yData) == [10.0, 12.5]  # segnet's boundary F1, epochs 1 and 2


def test_six_curves_leave_the_plot_clear_the_models_named_under_it(qtbot):
    """Was: a legend of six entries ("unet_padded training mean IoU", …) in the plot's
    top right, over the last epochs' curves (already four covered epochs 3-5 of a
    classification run). Colour names the model, the line style the measure (the title
    says which): one key under the plots."""
    log = TrainingLog()
    log.start(("unet_padded", "segnet"), 8, "shapes-seg", "")
    for label in log.labels:
        for e in (1, 2, 3):
            log.add_epoch(label, seg_epoch(e, 0.2 * e))
    dock = TrainingDock(log)
    qtbot.addWidget(dock)
    dock.render()
    assert len(dock.errors.getPlotItem().listDataItems()) == 6
    for plot in (dock.errors, dock.losses):
        assert plot.getPlotItem().legend is None  # nothing drawn over the curves
    key = dock.key.text()
    assert "unet_padded" in key and "segnet" in key
    assert "#1f77b4" in key and "#d62728" in key  # each model's colour beside its name
    assert not dock.key.isHidden()
