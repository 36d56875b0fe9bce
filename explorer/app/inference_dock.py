"""Images through the current model, off the UI thread, and the two panels that show
the results. What is shown (the image, the live model with its weights, the result) is
held by the ViewState; this controller turns intents into jobs and results into state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from ..viewstate import LiveModel, ModelKey, ViewState, Weights
from .feature_panel import FeaturePanel
from .prediction_panel import PredictionPanel
from .results import CamReady, ImageRan, OutOfMemoryOn, WeightsLoaded
from .workers import Runner


class InferenceController(QObject):
    ran = Signal()  # a result is shown
    mapsShown = Signal()  # the feature-map panel shows the selected node
    status = Signal(str)
    failed = Signal(object)  # the exception, for the window's one error handler

    def __init__(self, state: ViewState, pool, parent=None) -> None:
        super().__init__(parent)
        from ..inference.devices import choose_device

        self.state = state
        self.runner = Runner(self, pool=pool)  # same worker thread as tracing
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.maps_runner = Runner(self, pool=pool)
        self.maps_runner.finished.connect(self._maps_ready)
        self.features = FeaturePanel(compute=self._compute_maps)
        self.predictions = PredictionPanel()
        self.predictions.gradcamRequested.connect(self.grad_cam)
        self.device = choose_device()
        self.after_weights = None
        state.events.model.connect(self._model_shown)
        state.events.selection.connect(self.show_node)

    # ------------------------------------------------------------------ state
    @property
    def result(self):
        return self.state.result

    @property
    def image(self):
        return self.state.image

    @property
    def weights_label(self) -> str:
        return self.state.weights.label

    def _model_shown(self, _prepared) -> None:
        """A new model: the panels forget the old one; a loaded image runs through it."""
        self.features.clear()
        self.predictions.clear()
        if self.state.image is not None:
            self.run()

    def _live_for_job(self) -> tuple[ModelKey, Any, Weights]:
        """(key, live module or None to build, weights) as a job should start from."""
        state = self.state
        if state.live is not None and state.live.key == state.key:
            return state.key, state.live.module, state.live.weights
        return state.key, None, Weights()

    # ------------------------------------------------------------------ images
    def open_image(self, path: str) -> bool:
        from ..inference.imaging import ImageError, load_image

        try:
            image = load_image(path)
        except ImageError as exc:
            self.failed.emit(exc)  # the image shown before stays
            return False
        return self.set_image(image, Path(path).name)

    def set_image(self, image: Image.Image, name: str) -> bool:
        self.state.set_image(image, name)
        self.run()
        return True

    def run(self) -> int | None:
        p = self.state.model
        if p is None or self.state.image is None:
            return None
        from ..inference.runner import out_of_memory, run_image

        key, model, weights = self._live_for_job()
        info, graph, image, device = p.info, p.graph, self.state.image, self.device
        name, options = p.name, dict(p.options)
        ws = published_set(name, weights)  # published weights bring their own recipe
        recipe, labels = (ws.recipe, ws.labels) if ws is not None else (None, None)

        def job(progress):
            progress.check("loading the model", 0.1)
            live = LiveModel(key, model if model is not None else _build(name, options),
                             weights)
            live.module.to(device)
            progress.check("running the image", 0.4)
            try:
                return ImageRan(live, run_image(live.module, info, graph, image, "all",
                                                device, recipe=recipe, labels=labels))
            except Exception as exc:
                oom = out_of_memory(exc, device)
                if oom is None:
                    raise
                return OutOfMemoryOn(live, oom)

        self.status.emit(f"Running {self.state.image_name} through {name}…")
        return self.runner.submit(job)

    def _finished(self, generation: int, result, note: str) -> None:
        if result is None or not self.runner.is_current(generation):
            return
        match result:
            case ImageRan(live=live, result=payload):
                self.state.set_live(live)
                self._show_result(payload)
            case OutOfMemoryOn(live=live, error=error):
                self.state.set_live(live)
                self._offer_cpu(error)
            case WeightsLoaded(live=live, message=message):
                self.state.set_live(live)
                self.status.emit(message)
                follow, self.after_weights = self.after_weights, None
                if follow:
                    follow()
                elif self.state.image is not None:
                    self.run()
            case CamReady(cam=cam):
                self.predictions.show_cam(cam)

    def _show_result(self, payload) -> None:
        from ..inference.predictions import class_shares, main_output

        classes = int(main_output(payload.capture.output).shape[1])
        labels = self.labels(classes)
        if payload.mask is not None:  # name the classes as the weights do (the demo's)
            payload.classes = class_shares(payload.mask, labels)
        self.state.set_result(payload)
        self.predictions.show_result(payload, labels)
        self._note_weights()
        self.show_node(self.state.selection or self._default_node())
        self.status.emit(
            f"{self.state.image_name} through {self.state.model.name} on {self.device} "
            f"in {payload.capture.seconds * 1000:.0f} ms ({self.weights_label})")
        self.ran.emit()

    def labels(self, classes: int) -> tuple[str, ...]:
        from ..inference.predictions import load_labels

        ws = published_set(self.state.model.name, self.state.weights)
        if ws is not None:
            return load_labels(ws.labels, classes)
        demo = self._demo_meta()
        if demo and self.weights_label == demo["weights"] and len(demo["classes"]) == classes:
            return tuple(demo["classes"])
        return load_labels(self.state.model.info.labels, classes)

    def _default_node(self) -> str | None:
        g = self.state.model.graph
        convs = [n for n in g.nodes() if len(g.node(n).get("out_shape", ())) == 4
                 and g.node(n)["kind"] == "module"]
        return convs[min(3, len(convs) - 1)] if convs else None

    def show_node(self, node: str | None) -> None:
        """The feature maps of a graph node (a folded block shows its output)."""
        if node is None or self.state.result is None or self.state.model is None:
            return
        try:
            target = self.state.model.graph.resolve(node)
            act = self.state.result.capture.get(target)
        except KeyError:
            return
        self.features.show_activation(node, act.numpy())

    def _compute_maps(self, job: tuple, callback) -> None:
        from .feature_panel import compute_maps

        self._maps_callback = callback
        self.maps_runner.submit(lambda progress: compute_maps(*job))

    def _maps_ready(self, generation: int, maps, note: str) -> None:
        if maps is not None and self.maps_runner.is_current(generation):
            self._maps_callback(maps)
            self.mapsShown.emit()

    # ------------------------------------------------------------------ weights
    def load_weights(self, path: str, then=None) -> int | None:
        if self.state.model is None:
            return None
        from ..inference.weights import load_weights

        key, model, _ = self._live_for_job()
        name, options = self.state.model.name, dict(self.state.model.options)
        self.after_weights = then

        def job(progress):
            progress.check("loading weights", 0.2)
            module = model if model is not None else _build(name, options)
            report = load_weights(module, path)
            live = LiveModel(key, module, Weights(Path(path).name, str(path)))
            return WeightsLoaded(live, f"Loaded {report.loaded} tensors from "
                                       f"{Path(path).name}")

        return self.runner.submit(job)

    def load_set(self, ws) -> int | None:
        """Load a cached published set into the current model (built with its options)."""
        if self.state.model is None:
            return None
        from ..inference.download import load_published

        key, model, _ = self._live_for_job()
        name, options = self.state.model.name, dict(self.state.model.options)
        self.after_weights = None

        def job(progress):
            progress.check("loading weights", 0.2)
            module = model if model is not None else _build(name, options)
            loaded = load_published(ws, model=module)
            live = LiveModel(key, loaded.model, Weights(ws.label, str(loaded.path)))
            return WeightsLoaded(live, f"Loaded {ws.label} ({ws.metrics_text()})")

        self.status.emit(f"Loading {ws.label}…")
        return self.runner.submit(job)

    def random_init(self) -> None:
        """Back to untrained weights: the next run builds a fresh model."""
        self.state.set_live(None)
        self.status.emit("Random init")
        if self.state.image is not None:
            self.run()

    def _note_weights(self) -> None:
        """Say plainly when an image ran through untrained weights; offer the published."""
        from ..inference import catalogue

        if self.state.weights.trained:
            self.predictions.show_weights_note(False, None)
            return
        sets = catalogue.weight_sets(self.state.model.name)
        offer = None
        if sets:
            ws = sets[0]
            offer = (f"Use {ws.name} ({ws.metrics_text()}; "
                     + ("cached)" if ws.is_cached() else f"download {ws.size_text()})"))
        self.predictions.show_weights_note(True, offer)

    def _demo_meta(self) -> dict | None:
        from ..assets import RESOURCES

        meta = RESOURCES / "demo" / "demo.json"
        return json.loads(meta.read_text()) if meta.exists() else None

    def load_demo(self, open_model) -> None:
        """The shipped U-Net trained on shapes: a first overlay that means something. The
        person's own image stays if there is one; else a sample of the shapes runs."""
        from ..assets import RESOURCES

        meta = self._demo_meta()
        if meta is None:
            self.failed.emit(FileNotFoundError(2, "missing", "resources/demo/demo.json"))
            return
        demo = RESOURCES / "demo"
        size = meta["input_size"]
        options = meta["options"]

        def after_model(_prepared) -> None:
            self.state.events.model.disconnect(after_model)
            sample = str(demo / "shapes_1.png")
            self.load_weights(str(demo / meta["weights"]),
                              then=None if self.state.image is not None
                              else lambda: self.open_image(sample))

        self.state.events.model.connect(after_model)
        open_model(meta["model"], options, (1, options["in_channels"], size, size))

    # ------------------------------------------------------------------ devices, Grad-CAM
    def set_device(self, name: str) -> None:
        from ..inference.devices import choose_device

        try:
            self.device = choose_device(name)
        except ValueError as exc:
            self.failed.emit(exc)
            return
        self.run()

    def _offer_cpu(self, error: BaseException) -> None:
        answer = QMessageBox.question(
            self.features.window(), "Out of memory",
            f"{error}\nRun it on the CPU?" if str(self.device) != "cpu" else str(error),
            QMessageBox.Yes | QMessageBox.No if str(self.device) != "cpu" else QMessageBox.Ok)
        if answer == QMessageBox.Yes:
            self.set_device("cpu")

    def grad_cam(self, class_index: int) -> None:
        if self.state.result is None or self.state.live is None:
            return
        from ..inference.predictions import grad_cam

        layer = self._cam_layer()
        model, x, device = self.state.live.module, self.state.result.x, self.device

        def job(progress):
            cam, _ = grad_cam(model, x.to(device), layer, class_index)
            return CamReady(cam)

        self.runner.submit(job)

    def _cam_layer(self) -> str:
        """The last module whose output is still a spatial map."""
        g = self.state.model.graph
        maps = [g.node(n)["path"] for n in g.nodes() if g.node(n)["kind"] == "module"
                and len(g.node(n).get("out_shape", ())) == 4
                and min(g.node(n)["out_shape"][2:]) > 1]
        return maps[-1]

    # ------------------------------------------------------------------ errors
    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self.runner.generation:
            return
        self.after_weights = None
        self.failed.emit(exc)


def _build(name: str, options: dict):
    from .. import zoo

    return zoo.build(name, **options)


def published_set(model: str, weights: Weights):
    """The published WeightSet the live weights came from, or None (random, a file, the
    demo): found by its cache path, so the state holds the weights once."""
    from ..inference import catalogue

    if not weights.trained:
        return None
    return next((ws for ws in catalogue.weight_sets(model)
                 if str(ws.cache_path()) == weights.path), None)
