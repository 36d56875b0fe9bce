"""Images through the current model, off the UI thread: the live model (with its weights
and device), the last run's activations, and the two panels that show them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from .feature_panel import FeaturePanel
from .prediction_panel import PredictionPanel
from .workers import Runner

BUDGET_MB = 1024


def _oom_errors() -> tuple[type, ...]:
    import torch

    return (torch.cuda.OutOfMemoryError, torch.OutOfMemoryError) if hasattr(
        torch, "OutOfMemoryError") else (torch.cuda.OutOfMemoryError,)


class InferenceController(QObject):
    ran = Signal()  # a result is shown
    mapsShown = Signal()  # the feature-map panel shows the selected node
    weightsChanged = Signal(str)

    def __init__(self, window, pool) -> None:
        super().__init__(window)
        from ..inference.devices import choose_device

        self.window = window
        self.runner = Runner(self, pool=pool)  # same worker thread as tracing
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.maps_runner = Runner(self, pool=pool)
        self.maps_runner.finished.connect(self._maps_ready)
        self.features = FeaturePanel(compute=self._compute_maps)
        self.predictions = PredictionPanel()
        self.predictions.gradcamRequested.connect(self.grad_cam)
        self.device = choose_device()
        self.live: dict[str, Any] | None = None  # key, model, weights
        self.image: Image.Image | None = None
        self.image_name = ""
        self.result = None
        self.errors: list[str] = []
        self.after_weights = None

    # ------------------------------------------------------------------ state
    def key(self) -> tuple | None:
        p = self.window.prepared
        if p is None:
            return None
        return (p.name, tuple(sorted(p.options.items())), tuple(p.input_shape))

    @property
    def weights_label(self) -> str:
        if self.live is None or self.live["key"] != self.key() or not self.live["weights"]:
            return "random init"
        return Path(self.live["weights"]).name

    def _model_for_job(self):
        """(key, live model or None to build, weights) as the job should start from."""
        key = self.key()
        if self.live is not None and self.live["key"] == key:
            return key, self.live["model"], self.live["weights"]
        return key, None, None

    # ------------------------------------------------------------------ images
    def open_image(self, path: str) -> bool:
        from ..inference.imaging import ImageError, load_image

        try:
            image = load_image(path)
        except ImageError as exc:
            self.error(str(exc))
            return False
        return self.set_image(image, Path(path).name)

    def set_image(self, image: Image.Image, name: str) -> bool:
        self.image, self.image_name = image, name
        self.run()
        return True

    def run(self) -> int | None:
        p = self.window.prepared
        if p is None or self.image is None:
            return None
        from ..inference.runner import run_image

        key, model, weights = self._model_for_job()
        info, graph, image, device = p.info, p.graph, self.image, self.device
        name, options = p.name, dict(p.options)

        def job(progress):
            progress.check("loading the model", 0.1)
            live = model if model is not None else _build(name, options)
            live.to(device)
            progress.check("running the image", 0.4)
            try:
                result = run_image(live, info, graph, image, "all", device,
                                   budget_mb=BUDGET_MB)
            except _oom_errors():
                return ("oom", key, live, weights, None)
            except RuntimeError as exc:
                raise RuntimeError(f"{name} cannot run this image at input "
                                   f"{'x'.join(map(str, graph.input_shape))}: "
                                   f"{str(exc).splitlines()[0]}") from None
            return ("result", key, live, weights, result)

        self.window.status_label.setText(f"Running {self.image_name} through {name}…")
        return self.runner.submit(job)

    def _finished(self, generation: int, result, note: str) -> None:
        if result is None or not self.runner.is_current(generation):
            return
        kind = result[0]
        if kind in ("result", "oom", "weights"):
            _, key, model, weights, payload = result
            if key == self.key():
                self.live = {"key": key, "model": model, "weights": weights}
        if kind == "oom":
            self._offer_cpu()
            return
        if kind == "weights":
            self.weightsChanged.emit(self.weights_label)
            self.window.status_label.setText(payload)
            follow, self.after_weights = self.after_weights, None
            if follow:
                follow()
            elif self.image is not None:
                self.run()
            return
        if kind == "cam":
            self.predictions.show_cam(result[1])
            return
        self.result = payload
        from ..inference.predictions import main_output

        classes = int(main_output(payload.capture.output).shape[1])
        labels = self.labels(classes)
        if payload.mask is not None:  # name the classes as the weights do (the demo's)
            from ..inference.predictions import class_shares

            payload.classes = class_shares(payload.mask, labels)
        self.predictions.show_result(payload, labels)
        node = self.window.selected_node
        self.show_node(node or self._default_node())
        self.window.status_label.setText(
            f"{self.image_name} through {self.key()[0]} on {self.device} "
            f"in {payload.capture.seconds * 1000:.0f} ms ({self.weights_label})")
        self.ran.emit()

    def labels(self, classes: int) -> tuple[str, ...]:
        from ..inference.predictions import load_labels

        demo = self._demo_meta()
        p = self.window.prepared
        if demo and self.weights_label == demo["weights"] and len(demo["classes"]) == classes:
            return tuple(demo["classes"])
        return load_labels(p.info.labels, classes)

    def _default_node(self) -> str | None:
        g = self.window.prepared.graph
        convs = [n for n in g.nodes() if len(g.node(n).get("out_shape", ())) == 4
                 and g.node(n)["kind"] == "module"]
        return convs[min(3, len(convs) - 1)] if convs else None

    def show_node(self, node: str | None) -> None:
        """The feature maps of a graph node (a folded block shows its output)."""
        if node is None or self.result is None or self.window.prepared is None:
            return
        try:
            target = self.window.prepared.graph.resolve(node)
            act = self.result.capture.get(target)
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
        p = self.window.prepared
        if p is None:
            return None
        from ..inference.weights import load_weights

        key, model, _ = self._model_for_job()
        name, options = p.name, dict(p.options)
        self.after_weights = then

        def job(progress):
            progress.check("loading weights", 0.2)
            live = model if model is not None else _build(name, options)
            report = load_weights(live, path)
            return ("weights", key, live, path,
                    f"Loaded {report.loaded} tensors from {Path(path).name}")

        return self.runner.submit(job)

    def _demo_meta(self) -> dict | None:
        from ..assets import RESOURCES

        meta = RESOURCES / "demo" / "demo.json"
        return json.loads(meta.read_text()) if meta.exists() else None

    def load_demo(self) -> None:
        """The shipped U-Net trained on shapes, with a sample image: a first overlay that
        means something."""
        from ..assets import RESOURCES

        meta = self._demo_meta()
        if meta is None:
            self.error("The demo weights are missing from resources/demo.")
            return
        demo = RESOURCES / "demo"
        size = meta["input_size"]
        options = meta["options"]

        def after_model(_name: str) -> None:
            self.window.shown.disconnect(after_model)
            self.load_weights(str(demo / meta["weights"]),
                              then=lambda: self.open_image(str(demo / "shapes_1.png")))

        self.window.shown.connect(after_model)
        self.window.open_model(meta["model"], options, (1, options["in_channels"], size, size))

    # ------------------------------------------------------------------ devices, Grad-CAM
    def set_device(self, name: str) -> None:
        from ..inference.devices import choose_device

        try:
            self.device = choose_device(name)
        except ValueError as exc:
            self.error(str(exc))
            return
        self.run()

    def _offer_cpu(self) -> None:
        answer = QMessageBox.question(
            self.window, "Out of memory",
            f"The {self.device} device ran out of memory for this image.\nRun it on the CPU?")
        if answer == QMessageBox.Yes:
            self.set_device("cpu")

    def grad_cam(self, class_index: int) -> None:
        if self.result is None or self.live is None:
            return
        from ..inference.predictions import grad_cam

        layer = self._cam_layer()
        model, x, device = self.live["model"], self.result.x, self.device

        def job(progress):
            cam, _ = grad_cam(model, x.to(device), layer, class_index)
            return ("cam", cam)

        self.runner.submit(job)

    def _cam_layer(self) -> str:
        """The last module whose output is still a spatial map."""
        g = self.window.prepared.graph
        maps = [g.node(n)["path"] for n in g.nodes() if g.node(n)["kind"] == "module"
                and len(g.node(n).get("out_shape", ())) == 4
                and min(g.node(n)["out_shape"][2:]) > 1]
        return maps[-1]

    # ------------------------------------------------------------------ errors, exports
    def _failed(self, generation: int, message: str) -> None:
        if generation != self.runner.generation:
            return
        self.after_weights = None
        self.error(message.split(": ", 1)[-1] if message.startswith(("WeightsError",
                                                                       "RuntimeError"))
                   else message)

    def error(self, message: str) -> None:
        self.errors.append(message)
        self.window.status_label.setText(message.splitlines()[0][:200])
        QMessageBox.warning(self.window, "Architecture Explorer", message)

    def export(self, what: str, path: str) -> bool:
        from ..inference.render import channel_grid, grid_image

        if what == "features" and self.features.act is not None:
            grid, _ = channel_grid(self.features.act, self.features.order,
                                   self.features.scale.currentData())
            image = grid_image(grid, max(1, 512 // max(grid.shape)))
        elif what == "overlay":
            image = self.predictions.composed()
        elif what == "side-by-side":
            image = self.predictions.side_by_side()
        else:
            image = None
        if image is None:
            self.error("Nothing to export yet: run an image first.")
            return False
        image.save(path)
        return True


def _build(name: str, options: dict):
    from .. import zoo

    return zoo.build(name, **options)
