"""Images through the current model, off the UI thread, and the two panels that show
the results. What is shown (the image, the live model with its weights, the result) is
held by the ViewState; this controller turns intents into jobs and results into state.

An image is decoded on the worker (its header is judged at once, here); until it has run
through the model once, the image and result before it are kept, so a failure leaves
the state as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from ...viewstate import LiveModel, ModelKey, ViewState, Weights
from ..docks.feature_panel import FeaturePanel
from ..docks.prediction_panel import PredictionPanel
from .inference_weights import WeightsJobs, _build, published_set
from .results import CamReady, DeviceFailed, ImageDecoded, ImageRan, WeightsLoaded
from .workers import Runner


class InferenceController(WeightsJobs, QObject):
    ran = Signal()  # a result is shown
    mapsShown = Signal()  # the feature-map panel shows the selected node
    status = Signal(str)
    failed = Signal(object)  # the exception, for the window's one error handler

    def __init__(self, state: ViewState, pool, parent=None) -> None:
        super().__init__(parent)
        from ...inference.devices import choose_device

        self.state = state
        self.image_path = ""  # the image file last opened (exports may not replace it)
        self.runner = Runner(self, pool=pool)  # same worker thread as tracing
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.maps_runner = Runner(self, pool=pool)
        self.maps_runner.finished.connect(self._maps_ready)
        self.image_runner = Runner(self, pool=pool)  # a newer image supersedes, nothing else
        self.save_runner = Runner(self, pool=pool)  # File ▸ Save weights…
        self.save_runner.finished.connect(self._saved)
        self.save_runner.failed.connect(lambda _g, exc: self.failed.emit(exc))
        self.image_runner.finished.connect(self._decoded)
        self.image_runner.failed.connect(self._failed_image)
        self._before = None  # (image, name, result, key) until a new image has run once
        self.features = FeaturePanel(compute=self._compute_maps)
        self.predictions = PredictionPanel()
        self.predictions.gradcamRequested.connect(self.grad_cam)
        self.predictions.camLayerChosen.connect(self._cam_layer_chosen)
        self.device = choose_device()
        self.after_weights = None
        state.events.model.connect(self._model_shown)
        state.events.selection.connect(self.show_node)
        state.events.selection.connect(self._target_clicked)

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
        from ...inference.cam_targets import cam_targets, default_cam_target

        self.features.clear()
        self.predictions.clear()
        graph = self.state.model.graph
        self.predictions.set_cam_targets(cam_targets(graph), default_cam_target(graph))
        if self.state.image is not None:
            self.run()

    def _live_for_job(self) -> tuple[ModelKey, Any, Weights]:
        """(key, live module or None to build, weights) as a job should start from."""
        state = self.state
        if state.live is not None and state.live.key == state.key:
            return state.key, state.live.module, state.live.weights
        return state.key, None, Weights.of(state.model.name)

    # ------------------------------------------------------------------ images
    def open_image(self, path: str) -> bool:
        """False (and a message) when the file or its header is refused; the decoding
        itself, which can take seconds, runs on the worker."""
        from ...inference.imaging import ImageError, check_image, load_image

        try:
            check_image(path)
        except (ImageError, OSError) as exc:
            self.failed.emit(exc)  # the image shown before stays
            return False
        name = Path(path).name
        self.image_path = path
        self.status.emit(f"Opening {name}…")
        self.image_runner.submit(lambda progress: ImageDecoded(load_image(path), name))
        return True

    def _decoded(self, generation: int, result, note: str) -> None:
        if isinstance(result, ImageDecoded) and self.image_runner.is_current(generation):
            self.set_image(result.image, result.name)

    def _failed_image(self, generation: int, exc: BaseException) -> None:
        if self.image_runner.is_current(generation):
            self.failed.emit(exc)

    def set_image(self, image: Image.Image, name: str) -> bool:
        s = self.state
        if s.model is not None:  # kept until the new image has run once
            self._before = self._before or (s.image, s.image_name, s.result, s.key)
        s.set_image(image, name)
        self.run()
        return True

    def _drop_new_image(self) -> None:
        """The new image failed: the image and result before it come back."""
        if self._before is None:
            return
        image, name, result, key = self._before
        self._before = None
        self.state.set_image(image, name)
        if result is not None and key == self.state.key:
            self.state.set_result(result)

    def run(self) -> int | None:
        p = self.state.model
        if p is None or self.state.image is None:
            return None
        from ...inference.failures import device_failure, move_model
        from ...inference.runner import run_image

        key, model, weights = self._live_for_job()
        info, graph, image, device = p.info, p.graph, self.state.image, self.device
        name, options = p.name, dict(p.options)
        ws = published_set(name, weights)  # published weights bring their own recipe
        recipe, labels = (ws.recipe, ws.labels) if ws is not None else (None, weights.labels)

        def job(progress):
            progress.check("loading the model", 0.1)
            live = LiveModel(key, model if model is not None else _build(name, options),
                             weights)
            try:
                move_model(live.module, device)
                progress.check("running the image", 0.4)
                return ImageRan(live, run_image(live.module, info, graph, image, "all",
                                                device, recipe=recipe, labels=labels))
            except (RuntimeError, MemoryError) as exc:  # a full card, a broken driver
                failure = device_failure(exc, device)
                if failure is None:
                    raise
                return DeviceFailed(live, failure)

        self.status.emit(f"Running {self.state.image_name} through {name}…")
        return self.runner.submit(job)

    def _finished(self, generation: int, result, note: str) -> None:
        if result is None or not self.runner.is_current(generation):
            return
        match result:
            case ImageRan(live=live, result=payload):
                self._before = None
                self.state.set_live(live)
                self._show_result(payload)
            case DeviceFailed(live=live, error=error):
                self.state.set_live(live)
                self._offer_cpu(error)
            case WeightsLoaded(live=live, message=message, warning=warning):
                self.state.set_live(live)
                self.status.emit(message)
                if warning:
                    self.failed.emit(UserWarning(warning))
                follow, self.after_weights = self.after_weights, None
                if follow:
                    follow()
                elif self.state.image is not None:
                    self.run()
            case CamReady(cam=cam, class_label=label, layer=layer):
                self.predictions.show_cam(cam, label, layer)

    def _show_result(self, payload) -> None:
        from ...inference.predictions import class_shares, main_output

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
            f"in {payload.capture.seconds * 1000:.0f} ms ({self.weights_label}); "
            f"{payload.geometry.text()}")
        self.ran.emit()

    def labels(self, classes: int) -> tuple[str, ...]:
        from ...inference.predictions import load_labels

        ws = published_set(self.state.model.name, self.state.weights)
        if ws is not None:
            return load_labels(ws.labels, classes)
        if self.state.weights.labels:  # trained here: the data's classes
            return load_labels(self.state.weights.labels, classes)
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
        from ..docks.feature_panel import compute_maps

        self._maps_callback = callback
        self.maps_runner.submit(lambda progress: compute_maps(*job))

    def _maps_ready(self, generation: int, maps, note: str) -> None:
        if maps is not None and self.maps_runner.is_current(generation):
            self._maps_callback(maps)
            self.mapsShown.emit()

    # ------------------------------------------------------------------ devices, Grad-CAM
    def set_device(self, name: str) -> None:
        from ...inference.devices import choose_device

        try:
            self.device = choose_device(name)
        except ValueError as exc:
            self.failed.emit(exc)
            return
        self.run()

    def _offer_cpu(self, error) -> None:
        """Out of memory or a failed driver (inference.failures): on a GPU, offer the CPU;
        on the CPU itself there is nowhere else to go, so it is a plain error."""
        from ...inference.failures import OutOfMemory, on_gpu

        if not on_gpu(error):
            self._drop_new_image()
            self.failed.emit(error)
            return
        title = "Out of memory" if isinstance(error, OutOfMemory) else "The device failed"
        answer = QMessageBox.question(self.features.window(), title,
                                      f"{error}\nRun it on the CPU?")
        if answer == QMessageBox.Yes:
            self.set_device("cpu")
        else:
            self._drop_new_image()

    def grad_cam(self, class_index: int) -> None:
        """Grad-CAM for ``class_index`` at the layer the Image dock names (the last stage
        unless a person chose another there or clicked one in the diagram)."""
        if self.state.result is None or self.state.live is None:
            return
        from ...inference.cam_targets import default_cam_target
        from ...inference.failures import DeviceError, OutOfMemory, on_device
        from ...inference.predictions import grad_cam

        target = self.predictions.cam_target() or default_cam_target(self.state.model.graph)
        if target is None:
            self.failed.emit(ValueError(f"{self.state.model.name} has no layer whose output "
                                        "is still a map: Grad-CAM has nowhere to look"))
            return
        live, x, device = self.state.live, self.state.result.x, self.device
        label = next((p["label"] for p in self.state.result.top_k
                      if p["index"] == class_index), str(class_index))

        def job(progress):
            try:
                with on_device(device):
                    cam, _ = grad_cam(live.module, x.to(device), target.module, class_index,
                                      call=target.call)
            except (OutOfMemory, DeviceError) as exc:
                return DeviceFailed(live, exc)
            return CamReady(cam, label, target.node)

        self.runner.submit(job)

    def _target_clicked(self, node: str | None) -> None:
        """A layer clicked in the diagram becomes Grad-CAM's layer when it can be one."""
        from ...inference.cam_targets import cam_target

        if node is None or self.state.model is None:
            return
        target = cam_target(self.state.model.graph, node)
        if target is not None:
            self.predictions.choose_cam_target(target)

    def _cam_layer_chosen(self) -> None:
        """Another layer while a Grad-CAM is shown: computed again there."""
        if self.predictions.cam is not None:
            self.predictions.request_cam()

    # ------------------------------------------------------------------ errors
    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self.runner.generation:
            return
        self.after_weights = None
        self._drop_new_image()
        self.failed.emit(exc)


