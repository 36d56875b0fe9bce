"""From an image to the model's input tensor, following the model's metadata, and back.

``fit``: "crop" resizes the shorter side to size/0.875 and takes the centre (the ImageNet
evaluation recipe), "resize" stretches to the input size, "pad" letterboxes. The
``Geometry`` records where the input came from in the image, so a segmentation mask or a
heat map can be put back on the image exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

CROP_RATIO = 0.875


@dataclass(frozen=True)
class Geometry:
    image_size: tuple[int, int]  # W, H of the original image
    box: tuple[float, float, float, float]  # region of the image the input shows (x0,y0,x1,y1)
    input_size: tuple[int, int]  # W, H of the model input
    content: tuple[int, int, int, int]  # where the image lies inside the input (pad mode)
    steps: tuple[str, ...] = ()  # what was done, in order: resize, crop, grey, normalise

    def text(self) -> str:
        """How the image became the input, in words (a 10×10 image was silently
        scaled to 224×224; the Grad-CAM's lit square was the unexplained centre crop)."""
        iw, ih = self.image_size
        w, h = self.input_size
        x0, y0, x1, y1 = self.box
        scale = w / max(x1 - x0, 1e-9)
        down = h / max(y1 - y0, 1e-9)
        seen = "the whole image" if not self.cropped() else (
            f"its centre {round(x1 - x0)}×{round(y1 - y0)} px")
        if (iw, ih) == (w, h) and not self.cropped():
            size = "as it is"
        elif f"{scale:.2f}" != f"{down:.2f}" and content_fills(self):  # was "scaled ×1.06"
            size = f"stretched ×{scale:.2f} across and ×{down:.2f} down"
        else:
            size = (f"scaled up ×{scale:.1f}: details are invented" if scale > 2
                    else f"scaled ×{scale:.2f}")
        return f"{iw}×{ih} px image → {w}×{h} input: {seen}, {size}"

    def steps_text(self) -> str:
        """The preprocessing in one line: "resized 10×10 → 256×256 (bilinear), centre
        224×224 cropped, normalised: ..."."""
        return ", ".join(self.steps)

    def cropped(self) -> bool:
        """The input shows only part of the image (a centre crop)."""
        iw, ih = self.image_size
        x0, y0, x1, y1 = self.box
        return x0 > 0.5 or y0 > 0.5 or x1 < iw - 0.5 or y1 < ih - 0.5

    def as_dict(self) -> dict:
        """For prediction.json: sizes, the region of the image the input shows (image
        pixels), the steps and the summary line."""
        return {"image_size": list(self.image_size), "input_size": list(self.input_size),
                "crop_box": [round(v, 3) for v in self.box], "steps": list(self.steps),
                "summary": self.text()}


def content_fills(geometry: Geometry) -> bool:
    """The image fills the whole input (no letterbox)."""
    x0, y0, x1, y1 = geometry.content
    return (x0, y0) == (0, 0) and (x1, y1) == tuple(geometry.input_size)


def _numbers(values) -> str:
    return ", ".join(f"{v:g}" for v in values)


def _steps(resize: str, fitting: tuple[str, ...], channels: int, mean, std) -> tuple[str, ...]:
    grey = ("converted to grey",) if channels == 1 else ()
    return (resize, *fitting, *grey,
            f"normalised with mean {_numbers(mean)} and std {_numbers(std)}")


def preprocess(img: Image.Image, input_shape: tuple[int, int, int], mean, std,
               fit: str = "crop") -> tuple[torch.Tensor, Geometry]:
    """A 1xCxHxW float tensor normalised with ``mean``/``std``, and its geometry."""
    c, h, w = input_shape
    iw, ih = img.size
    if fit == "crop":
        scale = max(w / CROP_RATIO / iw, h / CROP_RATIO / ih)
        rw, rh = max(w, round(iw * scale)), max(h, round(ih * scale))
        resized = img.resize((rw, rh), Image.BILINEAR)
        left, top = (rw - w) // 2, (rh - h) // 2
        out = resized.crop((left, top, left + w, top + h))
        box = (left / scale, top / scale, (left + w) / scale, (top + h) / scale)
        content = (0, 0, w, h)
        did = (f"resized {iw}×{ih} → {rw}×{rh} (bilinear)", (f"centre {w}×{h} cropped",))
    elif fit == "resize":
        out = img.resize((w, h), Image.BILINEAR)
        box, content = (0.0, 0.0, float(iw), float(ih)), (0, 0, w, h)
        did = (f"stretched {iw}×{ih} → {w}×{h} (bilinear)" if (iw, ih) != (w, h)
               else f"kept at {w}×{h} (no resize)", ())
    elif fit == "pad":
        scale = min(w / iw, h / ih)
        rw, rh = max(1, round(iw * scale)), max(1, round(ih * scale))
        out = Image.new("RGB", (w, h), (0, 0, 0))
        left, top = (w - rw) // 2, (h - rh) // 2
        out.paste(img.resize((rw, rh), Image.BILINEAR), (left, top))
        box, content = (0.0, 0.0, float(iw), float(ih)), (left, top, left + rw, top + rh)
        did = (f"resized {iw}×{ih} → {rw}×{rh} (bilinear)", (f"padded with black to {w}×{h}",))
    else:
        raise ValueError(f"fit must be 'crop', 'resize' or 'pad', not {fit!r}")
    steps = _steps(*did, c, mean, std)
    return normalize(out, c, mean, std), Geometry((iw, ih), box, (w, h), content, steps)


def normalize(img: Image.Image, channels: int, mean, std) -> torch.Tensor:
    """A 1xCxHxW float tensor: pixels scaled to [0, 1], then (x - mean) / std."""
    if channels == 1:
        img = img.convert("L")
    arr = np.asarray(img, dtype=np.float32) / 255.0
    arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    if arr.shape[0] != channels:  # e.g. a 4-channel model: repeat gray, or drop extra channels
        arr = np.resize(arr, (channels, *arr.shape[1:]))
    m = np.asarray(mean, dtype=np.float32).reshape(-1, 1, 1)
    s = np.asarray(std, dtype=np.float32).reshape(-1, 1, 1)
    return torch.from_numpy((arr - m) / s).unsqueeze(0)


INTERPOLATION = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "nearest": Image.NEAREST}
MAX_SIDE = 2048  # longest input side when a recipe keeps the whole image (segmentation)
MAX_RESIZED_PIXELS = 16_000_000  # larger resized images are cropped while resampling


@dataclass(frozen=True)
class Recipe:
    """A published evaluation transform, as torchvision's ImageClassification and
    SemanticSegmentation presets (and timm's "center" crop mode) apply it: resize the
    shorter side to ``resize`` (the longer one scaled and truncated to an int), take the
    centre ``crop`` x ``crop`` (None: keep the whole resized image), then normalise."""

    resize: int
    crop: int | None
    interpolation: str
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def resized_size(self, image_size: tuple[int, int]) -> tuple[int, int]:
        """W, H after the resize: torchvision's ``_compute_resized_output_size`` rule,
        bounded by MAX_SIDE as its ``max_size`` argument would be."""
        w, h = image_size
        short, long = min(w, h), max(w, h)
        new_short, new_long = self.resize, int(self.resize * long / short)
        if self.crop is None and new_long > MAX_SIDE:
            new_short, new_long = int(MAX_SIDE * new_short / new_long), MAX_SIDE
        return (new_short, new_long) if w <= h else (new_long, new_short)

    def input_size(self, image_size: tuple[int, int]) -> tuple[int, int]:
        """W, H of the model input for an image of ``image_size``."""
        return (self.crop, self.crop) if self.crop else self.resized_size(image_size)


def preprocess_recipe(img: Image.Image, recipe: Recipe,
                      channels: int = 3) -> tuple[torch.Tensor, Geometry]:
    """``img`` through ``recipe``: the 1xCxHxW input and its geometry. An extreme aspect
    ratio would make a huge resized image before the crop: beyond MAX_RESIZED_PIXELS only
    the cropped region is resampled (Pillow's ``box``; the filter still reads neighbours
    outside it, so pixels differ by at most one grey level from resize-then-crop)."""
    iw, ih = img.size
    rw, rh = recipe.resized_size((iw, ih))
    sx, sy = rw / iw, rh / ih
    w, h = recipe.input_size((iw, ih))
    left = int(round((rw - w) / 2.0))  # torchvision's center_crop rounding
    top = int(round((rh - h) / 2.0))
    box = (left / sx, top / sy, (left + w) / sx, (top + h) / sy)
    resample = INTERPOLATION[recipe.interpolation]
    if rw * rh <= MAX_RESIZED_PIXELS:
        out = img.resize((rw, rh), resample).crop((left, top, left + w, top + h))
    else:
        out = img.resize((w, h), resample, box=box)
    x = normalize(out, channels, recipe.mean, recipe.std)
    crop = (f"centre {w}×{h} cropped",) if recipe.crop else ()
    steps = _steps(f"resized {iw}×{ih} → {rw}×{rh} ({recipe.interpolation})", crop, channels,
                   recipe.mean, recipe.std)
    return x, Geometry((iw, ih), box, (w, h), (0, 0, w, h), steps)


def unprocess(x: torch.Tensor, mean, std) -> Image.Image:
    """The exact inverse of the normalisation: the input as the model saw it."""
    t = x.detach().to("cpu", torch.float32)
    if t.dim() == 4:
        t = t[0]
    m = torch.as_tensor(mean, dtype=torch.float32).reshape(-1, 1, 1)
    s = torch.as_tensor(std, dtype=torch.float32).reshape(-1, 1, 1)
    arr = ((t * s + m).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    if arr.shape[0] == 1:
        return Image.fromarray(arr[0], "L")
    return Image.fromarray(arr[:3].transpose(1, 2, 0), "RGB")


def to_image_space(map2d: np.ndarray, geom: Geometry, resample=Image.NEAREST) -> np.ndarray:
    """Put a map over the model input (or a centred, smaller output, as U-Net's) back onto
    the original image: the result has the image's size; outside the input's box it is 0."""
    mh, mw = map2d.shape
    iw, ih = geom.input_size
    # an output smaller than the input covers its centre (unpadded convolutions)
    ox, oy = (iw - mw) / 2, (ih - mh) / 2
    cx0, cy0, cx1, cy1 = geom.content
    x0, y0, x1, y1 = geom.box
    sx, sy = (x1 - x0) / (cx1 - cx0), (y1 - y0) / (cy1 - cy0)
    # the map's corners in image coordinates
    left, top = x0 + (ox - cx0) * sx, y0 + (oy - cy0) * sy
    W, H = geom.image_size
    mode = "F" if map2d.dtype.kind == "f" else "I"
    src = Image.fromarray(map2d.astype(np.float32 if mode == "F" else np.int32), mode)
    # affine: image pixel (u, v) -> map pixel ((u - left) / sx, (v - top) / sy)
    out = src.transform((W, H), Image.AFFINE, (1 / sx, 0, -left / sx, 0, 1 / sy, -top / sy),
                        resample=resample, fillcolor=0)
    return np.asarray(out).astype(map2d.dtype)
