"""Weights for the live model, as jobs on the inference worker: a file, a cached
published set, the shipped demo, or back to random. Mixed into InferenceController."""

from __future__ import annotations

import json
from pathlib import Path

from ...viewstate import LiveModel, Weights
from .results import WeightsLoaded, WeightsSaved

NO_WEIGHTS = ("The model runs with random init: there are no weights to save yet (train it "
              "or load some).")


class WeightsJobs:
    def load_weights(self, path: str, then=None, label: str | None = None) -> int | None:
        from ...export.weights_file import saved_labels
        from ...inference.weights import load_weights
        from ...training.run import run_options

        def load(key, module) -> WeightsLoaded:
            report = load_weights(module, path)
            # the classes they were trained to tell: saved with them, or in their run.json
            labels = saved_labels(path) or (run_options(Path(path)) or ({}, None))[1]
            live = LiveModel(key, module, Weights(label or Path(path).name, str(path), labels))
            return WeightsLoaded(live, f"Loaded {report.loaded} tensors from "
                                       f"{Path(path).name}", report.warning)

        return self._weights_job(load, then)

    def load_set(self, ws) -> int | None:
        """Load a cached published set into the current model (built with its options)."""
        from ...inference.download import load_published

        def load(key, module) -> WeightsLoaded:
            loaded = load_published(ws, model=module)
            live = LiveModel(key, loaded.model, Weights(ws.label, str(loaded.path)))
            return WeightsLoaded(live, f"Loaded {ws.label} ({ws.metrics_text()})")

        self.status.emit(f"Loading {ws.label}…")
        return self._weights_job(load)

    def _weights_job(self, load, then=None) -> int | None:
        """``load(key, module)`` on the worker, into the live model of the current key
        (built there when there is none yet); ``then`` runs once the weights are in."""
        if self.state.model is None:
            return None
        key, model, _ = self._live_for_job()
        name, options = self.state.model.name, dict(self.state.model.options)
        self.after_weights = then

        def job(progress):
            progress.check("loading weights", 0.2)
            return load(key, model if model is not None else _build(name, options))

        return self.runner.submit(job)

    def save_weights(self, path: str, inputs: list[str] = ()) -> int | None:
        """The live weights (trained here, loaded or downloaded) to a .safetensors file,
        written on the worker; never over one of ``inputs`` (the files being read)."""
        from ...export.files import check_destination, protecting
        from ...export.weights_file import save_weights

        live = self.state.live
        if live is None or live.key != self.state.key:
            self.failed.emit(ValueError(NO_WEIGHTS))
            return None
        try:
            with protecting(inputs):
                check_destination(path)
        except (OSError, ValueError) as exc:
            self.failed.emit(exc)
            return None

        def job(progress):
            progress.check("saving weights", 0.2)
            save_weights(live.module, path, live.weights.label, live.weights.labels)
            return WeightsSaved(path, live.weights.label)

        self.status.emit(f"Saving weights to {Path(path).name}…")
        return self.save_runner.submit(job)

    def _saved(self, generation: int, result, note: str) -> None:
        if isinstance(result, WeightsSaved):
            self.status.emit(f"Saved the weights ({result.label}) to {result.path}")

    def random_init(self) -> None:
        """Back to untrained weights: the next run builds a fresh model."""
        self.state.set_live(None)
        self.status.emit("Random init")
        if self.state.image is not None:
            self.run()

    def _note_weights(self) -> None:
        """Say plainly when an image ran through untrained weights; offer the published."""
        from ...inference import catalogue

        if self.state.weights.trained:
            self.predictions.show_weights_note(False, None)
            return
        sets = catalogue.weight_sets(self.state.model.name)
        offer, detail = None, ""
        if sets:
            ws = sets[0]
            offer = f"Use {ws.name}"
            detail = (f"{ws.metrics_text()}; "
                      + ("cached" if ws.is_cached() else f"download {ws.size_text()}"))
        from ...inference.next_steps import next_steps

        self.predictions.show_weights_note(True, offer, detail,
                                           next_steps(self.state.model.name))

    def _demo_meta(self) -> dict | None:
        from ...assets import RESOURCES

        meta = RESOURCES / "demo" / "demo.json"
        return json.loads(meta.read_text()) if meta.exists() else None

    def load_demo(self, open_model, keep_image: bool = True) -> None:
        """The shipped U-Net trained on shapes: a first overlay that means something. The
        person's own image stays if there is one and ``keep_image``; else a sample of
        the shapes runs."""
        from ...assets import RESOURCES

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
                              then=None if keep_image and self.state.image is not None
                              else lambda: self.open_image(sample))

        self.state.events.model.connect(after_model)
        open_model(meta["model"], options, (1, options["in_channels"], size, size))


def _build(name: str, options: dict):
    from ... import zoo

    return zoo.build(name, **options)


def published_set(model: str, weights: Weights):
    """The published WeightSet the live weights came from, or None (random, a file, the
    demo): found by its cache path, so the state holds the weights once."""
    from ...inference import catalogue

    if not weights.trained:
        return None
    return next((ws for ws in catalogue.weight_sets(model)
                 if str(ws.cache_path()) == weights.path), None)
