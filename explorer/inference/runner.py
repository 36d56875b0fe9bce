"""One image through one model: what the CLI and the app's worker call."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..graph.layergraph import LayerGraph
from ..zoo.registry import ModelInfo
from .capture import Capture, capture
from .failures import OutOfMemory, on_device, out_of_memory  # noqa: F401  (re-exported)
from .imaging import load_image
from .limits import MEMORY_BUDGET, gb
from .predictions import (
    class_shares,
    load_labels,
    main_output,
    output_problem,
    segmentation_mask,
    top_k,
)
from .preprocess import Geometry, Recipe, preprocess, preprocess_recipe


class OutputError(ValueError):
    """The model's output is not a prediction (None, text, a scalar): the message says
    what it returned."""


def check_activation_budget(graph: LayerGraph, dtype: torch.dtype = torch.float32,
                            budget: int = MEMORY_BUDGET) -> None:
    """Refuse before running when one layer's output alone exceeds the budget (the graph
    knows every shape): a huge --input fails in a second, not after swapping."""
    size = torch.empty((), dtype=dtype).element_size()
    biggest, node = 0, None
    for n, d in graph.nx.nodes(data=True):
        shape = d.get("out_shape") or ()
        if shape and all(isinstance(s, int) for s in shape):
            nbytes = math.prod(shape) * size
            if nbytes > biggest:
                biggest, node = nbytes, n
    if biggest > budget:
        raise OutOfMemory(f"{node} would produce {gb(biggest)} at input "
                          f"{'x'.join(map(str, graph.input_shape))}, more than the "
                          f"{gb(budget)} budget; use a smaller input", "budget", biggest)


@dataclass
class RunResult:
    image: Image.Image
    x: torch.Tensor  # the input as the model saw it (CPU)
    geometry: Geometry
    capture: Capture
    task: str
    top_k: list[dict] = field(default_factory=list)
    mask: np.ndarray | None = None  # class per image pixel (segmentation)
    classes: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. NaN in the output

    def prediction(self, model: str, device: str, weights: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"model": model, "device": device,
                               "weights": weights or "random init", "task": self.task,
                               "input": self.geometry.as_dict()}
        if self.task == "classification":
            out["top_k"] = self.top_k
        else:
            out["classes"] = self.classes
        if self.warnings:
            out["warnings"] = self.warnings
        return out


def default_fit(info: ModelInfo) -> str:
    return info.fit if info.task == "classification" else "resize"


def run_image(model: nn.Module, info: ModelInfo, graph: LayerGraph, image: Image.Image | str | Path,
              layers="all", device: torch.device | str = "cpu", dtype=torch.float32,
              budget_mb: float | None = MEMORY_BUDGET / 2**20, fit: str | None = None,
              k: int = 5, recipe: Recipe | None = None, labels: str | None = None,
              tf32: bool = False) -> RunResult:
    """Preprocess ``image`` for ``info``'s model, run it on ``device`` keeping ``layers``,
    and read the prediction. The model must already be on ``device``. Published weights
    bring their own ``recipe`` (preprocessing) and ``labels`` (a label set name). float32
    is IEEE float32 on every device unless ``tf32`` (GPUs: faster, less exact).

    Raises ImageError (the image), OutOfMemory (on any device, with the size asked for),
    DeviceError (the device's driver or libraries failed) and OutputError (the model
    returned something that is not a prediction)."""
    check_activation_budget(graph, dtype)
    img = load_image(image) if isinstance(image, (str, Path)) else image
    c = graph.input_shape[1]
    h, w = graph.input_shape[2:]
    if recipe is not None:
        x, geom = preprocess_recipe(img, recipe, c)
    else:
        x, geom = preprocess(img, (c, h, w), info.mean, info.std, fit or default_fit(info))
    device = torch.device(device)
    with on_device(device), torch.inference_mode():
        xd = x.to(device=device, dtype=dtype)
        cap = capture(model, xd, graph, layers, budget_mb, tf32=tf32)
        problem = output_problem(cap.output)
        if problem:
            raise OutputError(f"{info.name}: {problem}")
        logits = main_output(cap.output).float()
    result = RunResult(img, x, geom, cap, info.task)
    if not bool(torch.isfinite(logits).all()):
        result.warnings.append("the model's output holds NaN or infinite values (are the "
                               "weights finite?); its probabilities mean nothing")
    names = load_labels(labels or info.labels, int(logits.shape[1]))
    if info.task == "classification":
        result.top_k = top_k(logits[0], names, k)
    else:
        result.mask = segmentation_mask(logits, geom)
        result.classes = class_shares(result.mask, names)
    return result
