"""Image loading: any format Pillow reads, EXIF orientation applied, every colour mode
converted correctly, and memory bounded before a single pixel is decoded.

The header alone decides what happens: a decompression bomb, an absurd strip (20000x1)
or a file too small for the size it claims is refused; anything larger than
``WORK_PIXELS`` is decoded at a reduced size (JPEG's DCT scaling through ``draft``, then
``reduce``), so no intermediate is larger than the decoded file itself, which the
``MEMORY_BUDGET`` bounds."""

from __future__ import annotations

import math
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..inputs import file_problem
from .limits import MAX_ASPECT, MAX_PIXELS, MEMORY_BUDGET, WORK_PIXELS, gb

# EXIF orientation -> the transposition that shows the image upright (EXIF 2.3, 0x0112)
_ORIENTATION = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                8: Image.Transpose.ROTATE_90}
_NUMERIC = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")  # gray levels beyond 8 bits
_MIN_BITS = {"LA": 16, "RGB": 24, "RGBA": 32, "I;16": 16, "I;16B": 16, "I": 16}  # per pixel
_CHUNK_BYTES = 64 << 20  # float32 rows converted at once when reducing a numeric image


class ImageError(ValueError):
    """The file is not an image we can use; the message names the file and the reason."""


# formats whose Pillow plugin hands the file to another program (EPS: Ghostscript)
_EXTERNAL = {"EPS": (b"%!PS", b"\xc5\xd0\xd3\xc6")}


def own_formats() -> list[str]:
    """Every format Pillow opens by itself, without running another program."""
    Image.init()
    return [f for f in Image.OPEN if f not in _EXTERNAL]


def _refuse_external(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return  # said below, where the file is opened
    for name, magics in _EXTERNAL.items():
        if head.startswith(magics):
            raise ImageError(f"{path}: an {name} file; decoding it would run an external "
                             "program (Ghostscript), which explorer does not do; save it as "
                             "PNG first")


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS,
               work_pixels: int = WORK_PIXELS) -> Image.Image:
    """An RGB image (alpha composited on white), upright as its EXIF says, reduced to at
    most ``work_pixels`` pixels."""
    return _load(path, max_pixels, work_pixels, decode=True)


def check_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> None:
    """What ``load_image`` refuses from the file and its header alone, before a pixel is
    decoded: cheap enough for a UI thread to answer at once."""
    _load(path, max_pixels, WORK_PIXELS, decode=False)


def _load(path: str | Path, max_pixels: int, work_pixels: int, decode: bool):
    path = Path(path)
    problem = file_problem(path, "an image")
    if problem:
        raise ImageError(f"{path}: {problem}")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty")
    _refuse_external(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=own_formats()) as img:
                check_header(img, path, max_pixels)
                if not decode:
                    return None
                img.seek(0)  # first frame of a GIF or multi-page TIFF
                orientation = img.getexif().get(0x0112)
                factor = reduction(img.size, work_pixels)
                if factor > 1 and img.format == "JPEG":  # decode at 1/2, 1/4 or 1/8 scale
                    img.draft(img.mode, (img.width // factor, img.height // factor))
                img.load()
                out = to_rgb(img, work_pixels, name=str(path))
    except ImageError:
        raise
    except PermissionError:
        raise ImageError(f"{path}: permission denied") from None
    except UnidentifiedImageError:
        kind = _kind(path)
        if kind:  # its first bytes say what it should be: damaged, not foreign
            raise ImageError(f"{path}: a damaged {kind} file (its header is cut short or "
                             "broken)") from None
        raise ImageError(f"{path}: not an image (no PNG, JPEG, BMP, GIF, TIFF or WebP "
                         f"header; the file may be damaged or of another kind)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{path}: refused as a decompression bomb ({exc})") from None
    except MemoryError:
        raise ImageError(f"{path}: not enough memory to decode the image") from None
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError,
            KeyError, struct.error) as exc:  # Pillow's plugins raise all of these on junk
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(
            exc).__name__
        if "truncated" in detail:
            raise ImageError(f"{path}: the file is truncated: it ends before all of its "
                             "pixels (a copy or download cut short?)") from None
        raise ImageError(f"{path}: cannot decode the image ({detail})") from None
    if orientation in _ORIENTATION:
        out = out.transpose(_ORIENTATION[orientation])
    return out


_MAGIC = ((b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"),
          (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BM", "BMP"))


def _kind(path: Path) -> str | None:
    """The picture format a file's first bytes announce, if any."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


def check_header(img: Image.Image, path: str | Path, max_pixels: int = MAX_PIXELS) -> None:
    """Refuse from the header alone what would blow up memory or lie about its size."""
    width, height = img.size
    if width < 1 or height < 1:
        raise ImageError(f"{path}: the header gives an empty size ({width}x{height})")
    if width * height > max_pixels:
        raise ImageError(f"{path}: {width}x{height} pixels is more than the "
                         f"{max_pixels:,} allowed (a decompression bomb?)")
    long, short = max(width, height), min(width, height)
    if long > MAX_ASPECT * short:
        raise ImageError(f"{path}: a {width}x{height} image ({long // short}:1) is refused: "
                         f"beyond {MAX_ASPECT}:1 a model's input would show only a sliver "
                         "of it")
    need = decode_bytes(img.mode, width, height, reduction(img.size, WORK_PIXELS))
    if need > MEMORY_BUDGET:
        raise ImageError(f"{path}: decoding {width}x{height} {img.mode} needs {gb(need)}, "
                         f"more than the {gb(MEMORY_BUDGET)} budget")
    least = least_bytes(img)
    size = Path(path).stat().st_size
    if size < least:
        raise ImageError(f"{path}: the header claims {width}x{height} pixels but the "
                         f"file has {size:,} bytes, fewer than the {least:,} such an "
                         "image needs (truncated or forged)")


def least_bytes(img: Image.Image) -> int:
    """The fewest bytes a file of this format can hold the header's pixels in; decoders
    fill what is missing with grey or zeros and say nothing, so a file smaller than this
    lies about its size. Huffman-coded JPEG spends at least one bit on every 8x8
    luminance block; deflate (PNG) never compresses more than 1032:1."""
    width, height = img.size
    if img.format == "JPEG":
        return math.ceil(width / 8) * math.ceil(height / 8) // 8
    if img.format == "PNG":
        bits = _MIN_BITS.get(img.mode, 1)
        return height * (1 + math.ceil(width * bits / 8)) // 1032
    return 0


def reduction(size: tuple[int, int], work_pixels: int = WORK_PIXELS) -> int:
    """The integer factor that brings ``size`` to at most ``work_pixels`` pixels."""
    pixels = size[0] * size[1]
    return 1 if pixels <= work_pixels else math.ceil(math.sqrt(pixels / work_pixels))


def decode_bytes(mode: str, width: int, height: int, factor: int = 1) -> int:
    """Memory Pillow needs to hold the decoded image (and, for palette and 1-bit images
    that cannot be reduced as they are, its full-size conversion)."""
    bpp = 1 if mode in ("L", "P", "1") else 2 if mode.startswith("I;16") else 4
    convert = 4 if mode in ("P", "1") and factor > 1 else 0
    return width * height * (bpp + convert)


def to_rgb(img: Image.Image, work_pixels: int = WORK_PIXELS, name: str = "image") -> Image.Image:
    """Convert any mode to 8-bit RGB at most ``work_pixels`` in size: 16-bit and float
    images are rescaled to their range (NaN or infinity is refused), palettes and alpha
    are resolved (alpha over white), CMYK converted."""
    factor = reduction(img.size, work_pixels)
    if img.mode in _NUMERIC:
        return _numeric_to_gray(img, factor, name).convert("RGB")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode == "1":
        img = img.convert("L")
    if factor > 1:
        img = img.reduce(factor)
    mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode == "RGB":
        return img.copy() if factor == 1 else img
    return img.convert("RGB")  # L, CMYK, YCbCr, LAB, HSV


def _numeric_to_gray(img: Image.Image, factor: int, name: str) -> Image.Image:
    """16-bit, 32-bit and float gray levels to 8 bits, block-averaged by ``factor`` a few
    rows at a time (a NaN or infinity anywhere survives the average, and is refused)."""
    width, height = img.size
    factor = min(factor, width, height)
    fw, fh = width // factor * factor, height // factor * factor
    rows = max(factor, _CHUNK_BYTES // (4 * fw) // factor * factor)
    parts = []
    for top in range(0, fh, rows):
        block = np.asarray(img.crop((0, top, fw, min(fh, top + rows))), dtype=np.float32)
        parts.append(block.reshape(-1, factor, fw // factor, factor)
                     .mean(axis=(1, 3), dtype=np.float32))
    arr = np.concatenate(parts)
    bad = ~np.isfinite(arr)
    if bad.any():
        share = 100 * bad.mean()
        raise ImageError(f"{name}: the float image holds NaN or infinite values "
                         f"({share:.2g}% of it); only finite values can be shown")
    if img.mode.startswith("I;16"):
        arr /= 65535.0
    else:
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
    return Image.fromarray((arr * 255).round().astype(np.uint8), "L")
