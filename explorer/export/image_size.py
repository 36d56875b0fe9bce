"""How large a diagram may be written: past these sides the common tools refuse it.

ImageMagick's default policy and most viewers stop at 16,384 px a side for a raster;
rsvg-convert (cairo) refuses an SVG over 32,767 px. Expanded DenseNet-121 at 2× was a
1052×67588 PNG and a 33,794 px tall SVG, written without a word. The CLI refuses such
a file in one line naming the scale that fits; the window's Export dialog says so and
offers that scale."""

from __future__ import annotations

import math

MAX_SIDE = {"png": 16_384, "svg": 32_767}
SMALLEST_SCALE = 0.05  # below, the CLI refuses any --scale: fold more instead


def png_pixels(width: float, height: float, scale: float) -> tuple[int, int]:
    """The PNG writers' size for a canvas of ``width`` × ``height`` units at ``scale``
    (the window's writer rounds; was int + 1 here: the Export dialog said one pixel more
    than the window wrote)."""
    return max(1, round(width * scale)), max(1, round(height * scale))


def svg_pixels(width: float, height: float, scale: float) -> tuple[int, int]:
    return math.ceil(width * scale), math.ceil(height * scale)


def pixels(fmt: str, width: float, height: float, scale: float) -> tuple[int, int]:
    return (png_pixels if fmt == "png" else svg_pixels)(width, height, scale)


def fitting_scale(fmt: str, width: float, height: float) -> float:
    """The largest scale, in hundredths, at which the export's longest side fits."""
    limit, longest = MAX_SIDE[fmt], max(width, height, 1e-9)
    scale = math.floor((limit - 1) / longest * 100) / 100
    while scale > 0.01 and max(pixels(fmt, width, height, scale)) > limit:
        scale = round(scale - 0.01, 2)
    return max(scale, 0.01)


class ExportTooLarge(ValueError):
    """An export whose longest side is past what common tools open; ``fits`` is the
    scale at which it would fit."""

    def __init__(self, fmt: str, size: tuple[int, int], fits: float) -> None:
        self.fmt, self.size, self.fits = fmt, size, fits
        super().__init__(str(self))

    def __str__(self) -> str:
        w, h = self.size
        hint = (f"--scale {self.fits:g} fits, or fold more with --depth"
                if self.fits >= SMALLEST_SCALE else "fold more with --depth to make it fit")
        return (f"a {w:,}×{h:,} px {self.fmt.upper()} is past the "
                f"{MAX_SIDE[self.fmt]:,} px a side that common viewers and converters "
                f"open; {hint}")


def check_size(fmt: str, width: float, height: float, scale: float) -> tuple[int, int]:
    """The export's size in pixels; ExportTooLarge when a side is past ``MAX_SIDE``."""
    size = pixels(fmt, width, height, scale)
    if fmt in MAX_SIDE and max(size) > MAX_SIDE[fmt]:
        raise ExportTooLarge(fmt, size, fitting_scale(fmt, width, height))
    return size
