"""Feature-map rendering helpers (numpy only): channel grids, channel statistics, the
most active channels and heat-map overlays."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

# A perceptually uniform map (viridis), sampled at 9 points and interpolated.
_VIRIDIS = np.array([[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142],
                     [33, 144, 141], [39, 173, 129], [92, 200, 99], [170, 220, 50],
                     [253, 231, 37]], dtype=np.float32)


def colormap(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> RGB uint8 (viridis)."""
    v = np.clip(np.nan_to_num(values), 0, 1) * (len(_VIRIDIS) - 1)
    lo = np.floor(v).astype(int)
    hi = np.minimum(lo + 1, len(_VIRIDIS) - 1)
    t = (v - lo)[..., None]
    return (_VIRIDIS[lo] * (1 - t) + _VIRIDIS[hi] * t).round().astype(np.uint8)


def as_chw(act) -> np.ndarray:
    """A layer's activation as channels x H x W (batch item 0; vectors become 1x1 maps)."""
    a = np.asarray(act, dtype=np.float32)
    if a.ndim == 4:
        a = a[0]
    if a.ndim == 2:
        a = a[0][:, None, None]
    elif a.ndim == 1:
        a = a[:, None, None]
    if a.ndim != 3:
        raise ValueError(f"cannot show an activation of shape {np.shape(act)} as maps")
    return a


def channel_stats(act) -> dict[str, np.ndarray]:
    """Per channel: mean, max, min, std and sparsity (share of values <= 0)."""
    a = as_chw(act).reshape(as_chw(act).shape[0], -1)
    return {"mean": a.mean(1), "max": a.max(1), "min": a.min(1), "std": a.std(1),
            "sparsity": (a <= 0).mean(1)}


def top_channels(act, k: int = 16, by: str = "mean") -> np.ndarray:
    """Indices of the k most active channels, most active first."""
    stats = channel_stats(act)
    if by not in stats:
        raise ValueError(f"rank channels by one of {', '.join(stats)}, not {by!r}")
    return np.argsort(-stats[by], kind="stable")[:k]


def normalise(a: np.ndarray, mode: str = "channel") -> np.ndarray:
    """To [0, 1]: per channel, or with one scale shared by all channels."""
    if mode == "shared":
        lo, hi = float(a.min()), float(a.max())
        return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    if mode != "channel":
        raise ValueError(f"normalise per 'channel' or 'shared', not {mode!r}")
    lo = a.min(axis=(1, 2), keepdims=True)
    hi = a.max(axis=(1, 2), keepdims=True)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.where(hi > lo, (a - lo) / span, 0.0)


def channel_grid(act, channels=None, mode: str = "channel", columns: int | None = None,
                 pad: int = 1) -> tuple[np.ndarray, int]:
    """Tile channel maps into one 2D array in [0, 1] (padding is NaN so views can show
    it as background). Returns the grid and its number of columns."""
    a = as_chw(act)
    if channels is not None:
        a = a[np.asarray(channels, dtype=int)]
    a = normalise(a, mode)
    n, h, w = a.shape
    cols = columns or max(1, math.ceil(math.sqrt(n * h / max(w, 1))))
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan, np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = a[i]
    return grid, cols


def grid_image(grid: np.ndarray, scale: int = 1) -> Image.Image:
    """An RGB picture of a channel grid (viridis; padding white)."""
    rgb = colormap(np.nan_to_num(grid))
    rgb[np.isnan(grid)] = 255
    img = Image.fromarray(rgb, "RGB")
    return img.resize((img.width * scale, img.height * scale), Image.NEAREST) if scale > 1 else img


def heat_overlay(image: Image.Image, heat: np.ndarray, opacity: float = 0.5) -> Image.Image:
    """A map (any size, values in [0, 1]) upsampled onto the image and blended."""
    h = np.asarray(heat, dtype=np.float32)
    lo, hi = float(np.nanmin(h)), float(np.nanmax(h))
    h = (h - lo) / (hi - lo) if hi > lo else np.zeros_like(h)
    colours = Image.fromarray(colormap(h), "RGB").resize(image.size, Image.BILINEAR)
    return Image.blend(image.convert("RGB"), colours, opacity)


def colour_bar(width: int, height: int) -> Image.Image:
    """The heat maps' scale, 0 at the left to 1 at the right (viridis)."""
    ramp = np.linspace(0, 1, max(width, 1), dtype=np.float32)[None, :].repeat(max(height, 1), 0)
    return Image.fromarray(colormap(ramp), "RGB")


def cam_overlay(image: Image.Image, heat: np.ndarray, box: tuple[float, float, float, float]
                | None = None, opacity: float = 0.5) -> Image.Image:
    """A Grad-CAM map (image-sized, [0, 1]) blended onto the image inside ``box`` (the
    region the model saw: the centre crop) with a dashed outline; outside it the image
    is faded, as nothing there was measured (it read as a lit square, unexplained)."""
    from PIL import ImageDraw

    shown = heat_overlay(image, heat, opacity)
    if box is None:
        return shown
    base = image.convert("RGB")
    faded = Image.blend(base, Image.new("RGB", base.size, (128, 128, 128)), 0.6)
    x0, y0, x1, y1 = (round(v) for v in box)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(base.width, x1), min(base.height, y1)
    faded.paste(shown.crop((x0, y0, x1, y1)), (x0, y0))
    draw = ImageDraw.Draw(faded)
    dash = max(2, min(base.size) // 40)
    width = max(1, min(base.size) // 200)
    for (ax, ay), (bx, by) in (((x0, y0), (x1 - 1, y0)), ((x1 - 1, y0), (x1 - 1, y1 - 1)),
                               ((x0, y1 - 1), (x1 - 1, y1 - 1)), ((x0, y0), (x0, y1 - 1))):
        length = max(abs(bx - ax), abs(by - ay))
        for start in range(0, length + 1, 2 * dash):
            end = min(length, start + dash)
            t0, t1 = start / max(length, 1), end / max(length, 1)
            draw.line((ax + (bx - ax) * t0, ay + (by - ay) * t0,
                       ax + (bx - ax) * t1, ay + (by - ay) * t1), fill=(255, 255, 255),
                      width=width)
    return faded
