"""Training from the window: Model ▸ Train… asks what to train on, the run goes to a
worker thread of its own (a run takes minutes; the model and image jobs must not queue
behind it), its reports come back as queued signals into the TrainingLog that the
Training dock draws, Cancel stops it between two steps, and when it ends the trained
weights become the live ones (the title says how they were trained). While it runs, the
dock's "Show weights now" (or "after each epoch") has the training thread copy the model
at its next step or epoch boundary (training.snapshot); the copy becomes the live model,
and the image, its feature maps and a measured Flow pass run again on it, on the window's
worker, while the training goes on."""

from __future__ import annotations

import json
import time
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal
from PySide6.QtWidgets import QApplication, QDialog, QDockWidget

from ...training.log import TrainingLog
from ...training.snapshot import SnapshotRequests
from ...viewstate import LiveModel, Weights
from ..controllers.results import TrainedModel, TrainingDone
from ..controllers.workers import Runner
from .dialog import TrainDialog, TrainRequest
from .dock import TrainingDock
from .draw import DrawPanel

CURVES_HEIGHT = 300  # px: curves that read (the bottom docks start short), as the Flow dock


def runs_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)
    return Path(base or Path.home() / ".explorer") / "runs"


def _add_dock(window, key: str, title: str, widget, area) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(f"dock_{key}")
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    window.docks[key] = dock
    return dock


class TrainingController(QObject):
    started = Signal(int, object, int, str)  # generation, labels, epochs, data description
    epochDone = Signal(int, str, object)  # generation, label, EpochMetrics
    stepDone = Signal(int, str, object)  # generation, label, StepReport
    snapshotTaken = Signal(int, object)  # generation, training.snapshot.Snapshot

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window, self.state = window, window.state
        self.log = TrainingLog()
        self.lesson = None  # the training lesson being run, if any
        self.runs = runs_dir()
        self.runner = Runner(self)  # a worker of its own
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.started.connect(self._started)
        self.epochDone.connect(self._epoch)
        self.stepDone.connect(self._step)
        self.snapshotTaken.connect(self._snapshot)
        self.snapshots = SnapshotRequests()  # the run's; a new run gets its own
        self.panel = TrainingDock(self.log)
        self.panel.cancelRequested.connect(self.cancel)
        self.panel.refreshRequested.connect(self.refresh)
        self.panel.everyEpochToggled.connect(self.set_every_epoch)
        self.panel.modelPicked.connect(self.follow)
        # placed by docks/layout.py: Training among the bottom's tabs, Draw shown when asked
        self.dock = _add_dock(window, "training", "Training", self.panel,
                              Qt.BottomDockWidgetArea)
        self.draw = DrawPanel(self.state)
        self.draw.drawn.connect(lambda image: window.inference.set_image(image, "drawn digit"))
        self.draw.useLenet.connect(self.load_trained_lenet)
        self.draw_dock = _add_dock(window, "draw", "Draw", self.draw, Qt.RightDockWidgetArea)
        self.draw_dock.hide()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.cancel)

    # ------------------------------------------------------------------ intents
    def ask_train(self) -> None:
        from ... import zoo
        from ...inference.devices import available_devices

        p = self.state.model
        if p is None:
            return
        others = [n for n in zoo.list_models(task=p.info.task) if n != p.name]
        dialog = TrainDialog(p.name, dict(p.options), p.info.task, p.input_shape[1], others,
                             available_devices(), self.window)
        if dialog.exec() == QDialog.Accepted:
            self.start(dialog.request())

    def ask_lesson(self) -> None:
        from ...training.lessons import load_training_lessons
        from .lessons_dialog import TrainingLessonsDialog

        TrainingLessonsDialog(load_training_lessons(), self.run_lesson, self.window).exec()

    def run_lesson(self, lesson) -> int:
        """Train the lesson's models side by side; the verdict comes when the run ends."""
        from ...inference.devices import available_devices
        from ...training.recipes import get_recipe

        request = TrainRequest(lesson.dataset, lesson.models, lesson.preset,
                               get_recipe(lesson.preset).epochs, available_devices()[0],
                               lesson.train_size)
        generation = self.start(request)
        self.lesson = lesson
        return generation

    def start(self, request: TrainRequest) -> int:
        from ...training import get_recipe, load_dataset, prepare, train_side_by_side
        from ...training.run import LABEL_SETS, RunSpec, title, weights_name

        name = request.models[0][0]
        folder = self.runs / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
        spec = RunSpec(request.models, get_recipe(request.preset), request.epochs,
                       request.device)
        self.log.start(tuple(n for n, _ in request.models), request.epochs, request.dataset,
                       str(folder))
        self.log.state, self.log.message = "loading", f"loading {request.dataset}"
        self._render()
        generation = self.runner.generation + 1
        snapshots = self.snapshots = SnapshotRequests(every_epoch=self.snapshots.every_epoch)

        def copied(snapshot) -> None:  # on the training thread, at a boundary
            if snapshot is not None:
                self.snapshotTaken.emit(generation, snapshot)

        def on_step(c, report) -> None:
            copied(snapshots.at_step(contenders, c, report))
            if report.running_loss is not None:
                self.stepDone.emit(generation, c.label, report)

        def on_epoch(c, metrics) -> None:
            self.epochDone.emit(generation, c.label, metrics)
            copied(snapshots.at_epoch(contenders, c, metrics))

        contenders: list = []

        def job(progress):
            data = load_dataset(request.dataset, train_size=request.train_size,
                                cancel=progress.cancelled)
            contenders.extend(prepare(spec, data))
            self.started.emit(generation, tuple(c.label for c in contenders), spec.epochs,
                              data.describe())
            train_side_by_side(contenders, progress.cancelled, on_epoch=on_epoch,
                               on_step=on_step, out=folder)
            return TrainingDone(tuple(
                TrainedModel(c.name, c.options, c.model.to("cpu").eval(),
                             str(folder / weights_name(i, c)), title(c, data), c.label,
                             LABEL_SETS.get(data.name))
                for i, c in enumerate(contenders)), str(folder))

        self.dock.show()
        self.dock.raise_()
        if self.dock.height() < CURVES_HEIGHT and not self.dock.isFloating():
            self.window.resizeDocks([self.dock], [CURVES_HEIGHT], Qt.Vertical)
        self.lesson = None  # run_lesson sets it again for its own run
        return self.runner.submit(job)

    def refresh(self, label: str = "") -> None:
        """Show the weights of ``label`` (the run's first model by default) as they are at
        the next step or epoch boundary; the training goes on."""
        if not self.log.running:
            return
        self.snapshots.ask(label or None)
        self.window.status_label.setText(
            f"{label or self.log.labels[0] if self.log.labels else 'the model'}: "
            f"copying the weights at the next training step…")

    def follow(self, label: str) -> None:
        """Show the weights of the model picked in the dock (its copy at the next
        boundary); "after each epoch" follows it, and its trained weights go live."""
        shown = self.snapshots.label or (self.log.labels[0] if self.log.labels else None)
        if label != shown:
            self.refresh(label)

    def set_every_epoch(self, on: bool) -> None:
        """Show the training model's weights again at the end of every epoch."""
        self.snapshots.every_epoch = on

    def cancel(self) -> None:
        if self.log.running:
            self.runner.cancel()
            self.log.finish("cancelled", "cancelled; the run folder keeps the finished epochs")
            self._render()
            # the status bar too (was: the last epoch's figures stayed there)
            self.window.status_label.setText(f"Training {self.log.message}")

    # ------------------------------------------------------------------ reports
    def _render(self) -> None:
        self.panel.render()

    def _started(self, generation: int, labels, epochs: int, description: str) -> None:
        if self.runner.is_current(generation):
            self.log.labels, self.log.epochs = tuple(labels), epochs
            self.log.history = {label: [] for label in labels}
            self.log.steps = {label: [] for label in labels}
            self.log.state, self.log.message = "training", description
            self._render()

    def _epoch(self, generation: int, label: str, metrics) -> None:
        if self.runner.is_current(generation):
            self.log.add_epoch(label, metrics)
            self.window.status_label.setText(f"{label}: epoch {metrics.epoch}/{self.log.epochs}"
                                             f", {metrics.summary()}")
            self._render()

    def _step(self, generation: int, label: str, report) -> None:
        if self.runner.is_current(generation):
            self.log.add_step(label, report)
            self._render()

    def _snapshot(self, generation: int, snapshot) -> None:
        from ...training.run import LABEL_SETS

        if not self.runner.is_current(generation) or not self.log.running:
            return
        if not snapshot.asked and not self.shows(snapshot.name, snapshot.options):
            return  # "after each epoch" never takes the person away from another model
        self.make_live(snapshot.name, snapshot.options, snapshot.module,
                       Weights(snapshot.title(), self.log.folder,
                               LABEL_SETS.get(snapshot.dataset)),
                       f"{snapshot.label}: the window shows its weights {snapshot.title()}")

    def _finished(self, generation: int, result, _note: str) -> None:
        if result is None or not self.runner.is_current(generation):
            return
        match result:
            case TrainingDone(models=models, folder=folder):
                message = "; ".join(f"{m.label or m.name}: {m.title}" for m in models)
                if self.lesson is not None:
                    from ...training.lessons import verdict

                    message = f"{self.lesson.title}. {verdict(self.lesson, self.log.history)}"
                self.log.finish("done", message)
                self.log.folder = folder
                self._render()
                label = self.snapshots.label
                self.use_trained(next((m for m in models if m.label == label), models[0]))

    def _failed(self, generation: int, exc: BaseException) -> None:
        from ...training import TrainingCancelled

        if isinstance(exc, TrainingCancelled) or generation != self.runner.generation or \
                self.log.state == "cancelled":
            return
        from ..errors import describe

        self.log.finish("failed", describe(exc).splitlines()[0])
        self._render()
        self.window.show_error(exc)

    # ------------------------------------------------------------------ the trained weights
    def use_trained(self, trained: TrainedModel) -> None:
        """Make ``trained`` the live model (its title says how it was trained)."""
        self.make_live(trained.name, trained.options, trained.module,
                       Weights(trained.title, trained.path, trained.labels),
                       f"{trained.name}: {trained.title}")

    def make_live(self, name: str, options: dict, module, weights: Weights,
                  note: str) -> None:
        """``module`` becomes the live model: at once when the window shows ``name`` with
        those options, else after opening it (the data may have changed its classes).
        The image runs through it again, and the Flow dock measures it again if it showed
        a measurement."""
        def apply(_prepared=None) -> None:
            if _prepared is not None:
                self.state.events.model.disconnect(apply)
            measured = self.state.flow
            self.state.set_live(LiveModel(self.state.key, module, weights))
            self.window.status_label.setText(note)
            if self.state.image is not None:
                self.window.inference.run()
            if measured:  # the same pair; the overlay, a fresh build, is not measured again
                self.window.flow.measure(measured[1].model if len(measured) > 1 else "",
                                         show=False, known=tuple(measured[1:]))

        if self.shows(name, options):
            apply()
        else:
            self.state.events.model.connect(apply)
            self.window.open_model(name, options)

    def shows(self, name: str, options: dict) -> bool:
        """Whether the window shows zoo model ``name`` built with ``options``."""
        from ... import zoo

        p = self.state.model
        return p is not None and p.name == name and \
            zoo.get_info(p.name).resolve(p.options) == options

    # ------------------------------------------------------------------ LeNet-5 and drawing
    def show_draw(self) -> None:
        self.window._show_dock("draw")  # no longer waiting: a re-plan keeps it shown
        self.draw_dock.show()
        self.draw_dock.raise_()

    def shipped_lenet(self) -> dict | None:
        """resources/trained/lenet5_digits.json (explorer.training.shipped), or None."""
        from ...assets import RESOURCES

        meta = RESOURCES / "trained" / "lenet5_digits.json"
        return json.loads(meta.read_text()) if meta.exists() else None

    def load_trained_lenet(self) -> None:
        """Open LeNet-5 with the weights trained on the shipped digits, in one click."""
        from ...assets import RESOURCES

        meta = self.shipped_lenet()
        if meta is None:
            self.window.show_error(FileNotFoundError(2, "missing",
                                                     "resources/trained/lenet5_digits.json"))
            return
        path = str(RESOURCES / "trained" / meta["weights"])
        label = (f"trained {len(meta['history'])} epochs on UCI digits, test accuracy "
                 f"{meta['test_accuracy']:.1%}")
        if self.shows(meta["model"], meta["options"]):
            self.window.inference.load_weights(path, label=label)
            return

        def after_model(_prepared) -> None:
            self.state.events.model.disconnect(after_model)
            self.window.inference.load_weights(path, label=label)

        self.state.events.model.connect(after_model)
        self.window.open_model(meta["model"], meta["options"])
