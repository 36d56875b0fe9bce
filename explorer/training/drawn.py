"""A digit drawn with the mouse, made into what the shipped LeNet-5 was trained on.

The UCI digits were made from 32×32 black-and-white scans: the 'on' pixels counted in 4×4
blocks give an 8×8 image of values 0-16. A drawing goes the same way (scaled to 32×32,
thresholded, counted), then up to LeNet-5's 32×32 input with the bilinear filter the
training used (explorer.training.augment.InputFit)."""

from __future__ import annotations

import numpy as np
from PIL import Image


def centred(gray: np.ndarray) -> np.ndarray:
    """The ink's bounding box, squared and padded by 10 %, as the scans were framed."""
    ys, xs = np.nonzero(gray > 32)
    if len(ys) == 0:
        return gray
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    side = int(max(bottom - top, right - left) * 1.2) + 1
    cy, cx = (top + bottom) // 2, (left + right) // 2
    out = np.zeros((side, side), gray.dtype)
    y0, x0 = cy - side // 2, cx - side // 2
    sy0, sx0 = max(y0, 0), max(x0, 0)
    sy1, sx1 = min(y0 + side, gray.shape[0]), min(x0 + side, gray.shape[1])
    out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = gray[sy0:sy1, sx0:sx1]
    return out


def counts_8x8(gray: np.ndarray) -> np.ndarray:
    """8×8 values 0-16 from a grayscale drawing (white ink on black, any size)."""
    scan = Image.fromarray(centred(gray).astype(np.uint8)).resize((32, 32), Image.BOX)
    bits = np.asarray(scan) >= 96
    return bits.reshape(8, 4, 8, 4).sum(axis=(1, 3))


def digit_image(gray: np.ndarray, size: int = 32) -> Image.Image:
    """The drawing as LeNet-5's input image: the 8×8 counts scaled to 0-255 (as
    explorer.training.readers.read_digits does), bilinear up to ``size``: LeNet-5 sees
    the whole image (its ``fit`` is "resize"), so this is exactly its input."""
    small = np.round(counts_8x8(gray) * (255 / 16)).astype(np.uint8)
    return Image.fromarray(small, "L").resize((size, size), Image.BILINEAR)
