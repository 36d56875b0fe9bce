"""Predictions: classification top-k, segmentation masks, palettes, overlays, Grad-CAM."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..assets import resource
from .precision import float32_math
from .preprocess import Geometry, to_image_space


@lru_cache(maxsize=8)
def load_labels(name: str | None, count: int) -> tuple[str, ...]:
    """Class names from resources/labels/<name>.txt, else "class 0", "class 1", ..."""
    if name:
        try:
            names = resource("labels", f"{name}.txt").read_text().splitlines()
        except FileNotFoundError:
            names = []
        if len(names) == count:
            return tuple(names)
    return tuple(f"class {i}" for i in range(count))


def main_output(output) -> torch.Tensor:
    """The prediction tensor of a model's output (torchvision segmentation models return a
    dict with "out"; training-mode GoogLeNet a tuple)."""
    if isinstance(output, dict):
        return output.get("out", next(iter(output.values())))
    if isinstance(output, (tuple, list)):
        return output[0]
    return output


def output_problem(output) -> str | None:
    """Why ``output`` is not a prediction (None when it is one): a model must return a
    tensor of at least N x classes, or a dict/tuple whose main entry is one."""
    main = main_output(output) if isinstance(output, (dict, tuple, list)) and output else output
    if isinstance(output, dict) and not isinstance(main, torch.Tensor):
        key = "out" if "out" in output else next(iter(output))
        return (f"forward returned a dict whose {key!r} is {type(main).__name__}, "
                "not a tensor")
    if not isinstance(main, torch.Tensor):
        return f"forward returned {_kind(main)}, not a tensor of class scores"
    if main.dim() < 2:
        return (f"forward returned a tensor of shape {tuple(main.shape)}; a prediction "
                "needs at least N x classes")
    if main.shape[1] < 1 or main.numel() == 0:
        return f"forward returned an empty tensor of shape {tuple(main.shape)}"
    return None


def _kind(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, (dict, tuple, list)) and not value:
        return f"an empty {type(value).__name__}"
    return f"a {type(value).__name__}"


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by None: JSON has no such numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def prediction_json(prediction: dict) -> str:
    """Strict JSON (no NaN, no Infinity) that any parser reads."""
    return json.dumps(json_safe(prediction), indent=1, allow_nan=False)


def top_k(logits: torch.Tensor, labels: tuple[str, ...], k: int = 5) -> list[dict]:
    probs = torch.softmax(logits.detach().float().reshape(-1), 0).cpu()
    values, indices = probs.topk(min(k, probs.numel()))
    return [{"index": int(i), "label": labels[int(i)], "prob": float(p)}
            for p, i in zip(values, indices)]


def voc_palette(n: int = 256) -> np.ndarray:
    """Pascal VOC's colour map (the devkit's bit-interleaving rule); it also gives distinct
    colours for any other number of classes."""
    palette = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette[i] = (r, g, b)
    return palette


def segmentation_mask(logits: torch.Tensor, geom: Geometry) -> np.ndarray:
    """Class index per pixel of the original image (int32, the image's H x W)."""
    mask = logits.detach()[0].argmax(0).to("cpu", torch.int32).numpy()
    return to_image_space(mask, geom)


def class_shares(mask: np.ndarray, labels: tuple[str, ...]) -> list[dict]:
    counts = np.bincount(mask.reshape(-1), minlength=len(labels))
    total = mask.size
    return [{"index": i, "label": labels[i], "share": float(c / total)}
            for i, c in enumerate(counts) if c and i < len(labels)]


def colorize(mask: np.ndarray, palette: np.ndarray | None = None) -> Image.Image:
    palette = voc_palette() if palette is None else palette
    return Image.fromarray(palette[mask % len(palette)], "RGB")


def overlay(image: Image.Image, mask: np.ndarray, opacity: float = 0.5,
            palette: np.ndarray | None = None) -> Image.Image:
    """The mask's colours blended on the image; ``opacity`` 0 shows the image, 1 the mask."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], not {opacity}")
    colours = colorize(mask, palette)
    if colours.size != image.size:
        raise ValueError(f"mask {colours.size} and image {image.size} differ in size")
    return Image.blend(image.convert("RGB"), colours, opacity)


def grad_cam(model: nn.Module, x: torch.Tensor, layer: str, class_index: int | None = None,
             tf32: bool = False, call: int | None = None) -> tuple[np.ndarray, int]:
    """Grad-CAM (Selvaraju et al. 2017) at module ``layer``: the ReLU of the activation
    maps weighted by their average gradient for the class score. Returns the map over the
    input, normalised to [0, 1], and the class used (the top one unless given). float32
    is IEEE float32 unless ``tf32``. ``call``: which call of a module used more than once
    (a ReLU shared in a block) to look at; None, the last."""
    modules = dict(model.named_modules())
    if layer not in modules:
        raise KeyError(f"no module {layer!r} in the model")
    store: dict[str, torch.Tensor] = {}
    calls = [0]

    def hook(module, args, output):
        if call is None or calls[0] == call:
            store["act"] = output if isinstance(output, torch.Tensor) else output[0]
        calls[0] += 1

    handle = modules[layer].register_forward_hook(hook)
    try:
        with torch.enable_grad(), float32_math(tf32):
            inp = x.detach().clone().requires_grad_(True)  # gradients flow even if frozen
            logits = main_output(model(inp))
            flat = logits.reshape(logits.shape[0], -1) if logits.dim() == 2 else None
            if flat is None:
                raise ValueError("Grad-CAM needs a classification model (logits N x classes)")
            cls = int(flat[0].argmax()) if class_index is None else int(class_index)
            # the gradient of the score w.r.t. the activation only: no parameter .grad
            (grad,) = torch.autograd.grad(flat[0, cls], store["act"])
    finally:
        handle.remove()
    act, grad = store["act"].detach()[0], grad[0]
    weights = grad.mean(dim=(1, 2), keepdim=True)
    cam = torch.relu((weights * act).sum(0))
    cam = cam / cam.max() if float(cam.max()) > 0 else cam
    size = x.shape[-2:]
    cam = torch.nn.functional.interpolate(cam[None, None], size=size, mode="bilinear",
                                          align_corners=False)[0, 0]
    return cam.cpu().numpy().astype(np.float32), cls
