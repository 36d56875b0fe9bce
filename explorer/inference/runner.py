"""One image through one model: what the CLI and the app's worker call."""

from __future__ import annotations

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
from .imaging import load_image
from .predictions import class_shares, load_labels, main_output, segmentation_mask, top_k
from .preprocess import Geometry, preprocess


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

    def prediction(self, model: str, device: str, weights: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"model": model, "device": device,
                               "weights": weights or "random init", "task": self.task}
        if self.task == "classification":
            out["top_k"] = self.top_k
        else:
            out["classes"] = self.classes
        return out


def default_fit(info: ModelInfo) -> str:
    return "crop" if info.task == "classification" else "resize"


def run_image(model: nn.Module, info: ModelInfo, graph: LayerGraph, image: Image.Image | str | Path,
              layers="all", device: torch.device | str = "cpu", dtype=torch.float32,
              budget_mb: float | None = 1024, fit: str | None = None, k: int = 5) -> RunResult:
    """Preprocess ``image`` for ``info``'s model, run it on ``device`` keeping ``layers``,
    and read the prediction. The model must already be on ``device``."""
    img = load_image(image) if isinstance(image, (str, Path)) else image
    c = graph.input_shape[1]
    h, w = graph.input_shape[2:]
    x, geom = preprocess(img, (c, h, w), info.mean, info.std, fit or default_fit(info))
    device = torch.device(device)
    with torch.inference_mode():
        xd = x.to(device=device, dtype=dtype)
        cap = capture(model, xd, graph, layers, budget_mb)
    logits = main_output(cap.output).float()
    result = RunResult(img, x, geom, cap, info.task)
    labels = load_labels(info.labels, int(logits.shape[1]))
    if info.task == "classification":
        result.top_k = top_k(logits[0], labels, k)
    else:
        result.mask = segmentation_mask(logits, geom)
        result.classes = class_shares(result.mask, labels)
    return result
