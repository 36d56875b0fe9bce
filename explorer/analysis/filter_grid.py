"""A convolution's filters as one image for the Layer dock: a tile per filter, colour
when the layer reads three channels (a first layer's RGB filters), grey otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class FilterGrid:
    """A conv's filters as one image: a tile per filter (RGB when the layer reads three
    channels, as a first layer does), each scaled to its own range, one pixel apart."""

    image: Any  # numpy array, rows × cols (× 3), values in [0, 1]
    rgb: bool
    shown: int
    total: int
    tile: tuple[int, int]


def filter_grid(weight: torch.Tensor, limit: int = 64) -> FilterGrid | None:
    """Tiles of the first ``limit`` filters of a 2-D conv weight (out, in, kh, kw); a
    filter of a layer reading other than three channels shows its first input channel."""
    import numpy as np

    if weight.is_meta or weight.dim() != 4:
        return None
    w = weight.detach().to("cpu").float().numpy()
    out, cin, kh, kw = w.shape
    n = min(out, limit)
    rgb = cin == 3
    tiles = w[:n].transpose(0, 2, 3, 1) if rgb else w[:n, :1].transpose(0, 2, 3, 1)
    lo = tiles.min(axis=(1, 2, 3), keepdims=True)
    span = tiles.max(axis=(1, 2, 3), keepdims=True) - lo
    tiles = (tiles - lo) / np.where(span > 0, span, 1.0)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    depth = 3 if rgb else 1
    image = np.full((rows * (kh + 1) - 1, cols * (kw + 1) - 1, depth), 0.5, np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        image[r * (kh + 1):r * (kh + 1) + kh, c * (kw + 1):c * (kw + 1) + kw] = tiles[i]
    return FilterGrid(image if rgb else image[..., 0], rgb, n, out, (kh, kw))
