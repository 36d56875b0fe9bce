"""One image through one model: what the CLI and the app's worker call."""

from __future__ import annotations

import math
import re
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


class OutOfMemory(torch.OutOfMemoryError):
    """Running would need more memory than the device has or the budget allows; the
    message says how much was asked for. A ``torch.OutOfMemoryError``, so code written
    for the GPU case catches the CPU one too (``device`` tells them apart)."""

    def __init__(self, message: str, device: str, requested: int | None = None) -> None:
        super().__init__(message)
        self.device, self.requested = device, requested


class OutputError(ValueError):
    """The model's output is not a prediction (None, text, a scalar): the message says
    what it returned."""


_ASKED = re.compile(r"(?:tried to allocate|Tried to allocate) ([\d.]+) ?(bytes|[KMGT]iB)?")
_UNITS = {None: 1, "bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def out_of_memory(exc: BaseException, device: torch.device | str) -> OutOfMemory | None:
    """The OutOfMemory that ``exc`` stands for, or None when it is another error: torch's
    CPU allocator raises a plain RuntimeError, the GPU one an OutOfMemoryError, numpy and
    Python a MemoryError."""
    text = str(exc)
    if not (isinstance(exc, (MemoryError, torch.OutOfMemoryError))
            or "DefaultCPUAllocator" in text or "out of memory" in text.lower()):
        return None
    if isinstance(exc, OutOfMemory):
        return exc
    match = _ASKED.search(text)
    asked = int(float(match.group(1)) * _UNITS[match.group(2)]) if match else None
    what = f" ({gb(asked)} asked for)" if asked else ""
    return OutOfMemory(f"out of memory on {device}{what}", str(device), asked)


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
                               "weights": weights or "random init", "task": self.task}
        if self.task == "classification":
            out["top_k"] = self.top_k
        else:
            out["classes"] = self.classes
        if self.warnings:
            out["warnings"] = self.warnings
        return out


def default_fit(info: ModelInfo) -> str:
    return "crop" if info.task == "classification" else "resize"


def run_image(model: nn.Module, info: ModelInfo, graph: LayerGraph, image: Image.Image | str | Path,
              layers="all", device: torch.device | str = "cpu", dtype=torch.float32,
              budget_mb: float | None = MEMORY_BUDGET / 2**20, fit: str | None = None,
              k: int = 5, recipe: Recipe | None = None, labels: str | None = None) -> RunResult:
    """Preprocess ``image`` for ``info``'s model, run it on ``device`` keeping ``layers``,
    and read the prediction. The model must already be on ``device``. Published weights
    bring their own ``recipe`` (preprocessing) and ``labels`` (a label set name).

    Raises ImageError (the image), OutOfMemory (on any device, with the size asked for)
    and OutputError (the model returned something that is not a prediction)."""
    check_activation_budget(graph, dtype)
    img = load_image(image) if isinstance(image, (str, Path)) else image
    c = graph.input_shape[1]
    h, w = graph.input_shape[2:]
    if recipe is not None:
        x, geom = preprocess_recipe(img, recipe, c)
    else:
        x, geom = preprocess(img, (c, h, w), info.mean, info.std, fit or default_fit(info))
    device = torch.device(device)
    try:
        with torch.inference_mode():
            xd = x.to(device=device, dtype=dtype)
            cap = capture(model, xd, graph, layers, budget_mb)
    except (RuntimeError, MemoryError) as exc:
        oom = out_of_memory(exc, device)
        if oom is None:
            raise
        raise oom from None
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
