"""Image loading: any format Pillow reads, EXIF orientation applied, every colour mode
converted correctly, and a size guard against decompression bombs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 80_000_000  # about 9000 x 9000: far beyond any model input, still loadable


class ImageError(ValueError):
    """The file is not an image we can use; the message names the file and the reason."""


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """An RGB image (alpha composited on white), upright as its EXIF says."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size  # read from the header: nothing decoded yet
                if width * height > max_pixels:
                    raise ImageError(f"{path}: {width}x{height} pixels is more than the "
                                     f"{max_pixels:,} allowed (a decompression bomb?)")
                img.seek(0)  # first frame of a GIF or multi-page TIFF
                img.load()
                return to_rgb(ImageOps.exif_transpose(img))
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{path}: refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{path}: cannot decode the image ({exc})") from None


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any mode to 8-bit RGB: 16-bit and float images are rescaled to their range,
    palettes and alpha are resolved (alpha over white), CMYK converted."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16"):
            arr = arr / 65535.0
        else:
            lo, hi = float(arr.min()), float(arr.max())
            arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
        gray = Image.fromarray((arr * 255).round().astype(np.uint8), "L")
        return gray.convert("RGB")
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode == "RGB":
        return img.copy()
    return img.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV
