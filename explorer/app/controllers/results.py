"""What jobs send back across threads: one typed dataclass per kind of result, matched
by the controllers (never tagged tuples). Failures travel as the exception itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...viewstate import LiveModel, Place


@dataclass(frozen=True)
class ModelReady:
    prepared: Any  # session.Prepared


@dataclass(frozen=True)
class LayoutReady:
    spec: Any
    direction: str
    view: Any
    layout: Any
    table: Any
    came_from: Place | None
    select: str | None  # a layer to select once shown (Find unfolds to its match)
    restore: Place | None = None  # Back/Forward: the zoom to go back to once shown
    selected_before: str | None = None  # the selection when asked: a newer one wins


@dataclass(frozen=True)
class ImageDecoded:
    image: Any  # PIL RGB image, reduced to the working size
    name: str


@dataclass(frozen=True)
class ImageRan:
    live: LiveModel
    result: Any  # inference.runner.RunResult


@dataclass(frozen=True)
class DeviceFailed:
    live: LiveModel
    error: Any  # inference.failures.OutOfMemory or DeviceError (``device`` says where)


@dataclass(frozen=True)
class WeightsLoaded:
    live: LiveModel
    message: str
    warning: str | None = None  # NaN or infinite weights: loaded, and said so


@dataclass(frozen=True)
class WeightsSaved:
    path: str
    label: str  # the weights' label: "trained 5 epochs on shapes, test error 12.0%"


@dataclass(frozen=True)
class ModelFileProbed:
    probe: Any  # probe.ProbeResult: the file passed its child-process probe
    input_shape: tuple[int, ...]


@dataclass(frozen=True)
class CamReady:
    cam: Any
    class_label: str = ""  # the class the map is for
    layer: str = ""  # the layer it looked at


@dataclass(frozen=True)
class TrainedModel:
    name: str
    options: dict
    module: Any  # the trained nn.Module, on the CPU, in eval mode
    path: str  # its weights.safetensors in the run folder
    title: str  # "trained 5 epochs on shapes, test error 12.0%"
    label: str = ""  # how the run names it: "lenet5 (activation=relu)"
    labels: str | None = None  # the data's label set ("shapes"), when it has one


@dataclass(frozen=True)
class TrainingDone:
    models: tuple[TrainedModel, ...]  # the current model first
    folder: str


@dataclass(frozen=True)
class FlowReady:
    key: Any  # the ModelKey measured
    results: tuple  # analysis.flow.FlowResult: the current model's first, then the overlay
