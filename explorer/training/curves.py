"""curves.png without Qt: training and test error per epoch (mean IoU for segmentation),
one colour per model, drawn with Pillow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..export.files import save_image_atomic
from .metrics import EpochMetrics

COLOURS = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189))
W, H, M = 520, 360, 52  # one panel's size and margin


@dataclass(frozen=True)
class Line:
    points: list[tuple[int, float]]  # (epoch, value)
    colour: tuple[int, int, int]
    width: int = 3


def _panel(draw: ImageDraw.ImageDraw, x0: int, title: str, lines: list[Line], epochs: int,
           font, percent: bool) -> None:
    left, top, right, bottom = x0 + M + 8, M - 10, x0 + W - 16, H - M
    draw.rectangle((left, top, right, bottom), outline=(120, 120, 120))
    draw.text((left, 8), title, fill=(0, 0, 0), font=font)
    values = [v for line in lines for _, v in line.points] or [1.0]
    hi = max(values) if not percent else (1.0 if max(values) > 0.5 else 0.5)
    hi = hi or 1.0
    for i in range(6):
        v = hi * i / 5
        y = bottom - (bottom - top) * v / hi
        draw.line((left, y, right, y), fill=(228, 228, 228))
        draw.text((x0 + 6, y - 6), f"{v:.0%}" if percent else f"{v:.2f}", fill=(60, 60, 60),
                  font=font)
    span = max(epochs, 1)
    for e in range(0, span + 1, max(1, span // 10)):
        x = left + (right - left) * e / span
        draw.text((x - 4, bottom + 6), str(e), fill=(60, 60, 60), font=font)
    draw.text(((left + right) // 2 - 16, bottom + 22), "epoch", fill=(60, 60, 60), font=font)
    for line in lines:
        xy = [(left + (right - left) * e / span, bottom - (bottom - top) * v / hi)
              for e, v in line.points]
        if len(xy) > 1:
            draw.line(xy, fill=line.colour, width=line.width)
        for x, y in xy:
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=line.colour)


def write_curves(path: Path, histories: dict[str, list[EpochMetrics]], epochs: int) -> None:
    """Two panels: training error (thick) and test error (thin); then the test mean IoU
    and boundary F1 for segmentation, else the training loss."""
    font = ImageFont.load_default()
    image = Image.new("RGB", (2 * W, H + 28 * len(histories)), "white")
    draw = ImageDraw.Draw(image)
    colours = dict(zip(histories, COLOURS * 4))
    seg = any(m.mean_iou is not None for h in histories.values() for m in h)
    errors = [line for k, h in histories.items() for line in (
        Line([(m.epoch, m.train_error) for m in h], colours[k]),
        Line([(m.epoch, m.test_error) for m in h], colours[k], 1))]
    _panel(draw, 0, "error (thick: training, thin: test)", errors, epochs, font, True)
    if seg:
        _panel(draw, W, "test mean IoU (thick), boundary F1 (thin)",
               [line for k, h in histories.items() for line in (
                   Line([(m.epoch, m.mean_iou or 0.0) for m in h], colours[k]),
                   Line([(m.epoch, m.boundary_f1 or 0.0) for m in h], colours[k], 1))],
               epochs, font, False)
    else:
        _panel(draw, W, "training loss", [Line([(m.epoch, m.train_loss) for m in h],
                                               colours[k]) for k, h in histories.items()],
               epochs, font, False)
    for i, (name, h) in enumerate(histories.items()):
        y = H + 6 + 28 * i
        draw.rectangle((M, y + 4, M + 24, y + 10), fill=colours[name])
        last = h[-1].summary() if h else "no epoch finished"
        draw.text((M + 32, y), f"{name}: {last}", fill=(0, 0, 0), font=font)
    save_image_atomic(path, image)
