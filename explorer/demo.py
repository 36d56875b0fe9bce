"""The out-of-the-box demo: a small padded U-Net trained on synthetic shapes.

Random weights make segmentation overlays noise. This module generates a data set of
coloured shapes (circle, square, triangle) on textured backgrounds, trains a reduced-width
padded U-Net on it on the CPU in a few minutes, and writes the weights (safetensors),
the model's options and class names, and sample images to ``resources/demo/``:

    python -m explorer.demo [--steps 700] [--out resources/demo]

The app's Model ▸ Load demo weights uses them; the tests check that the shipped weights
segment freshly generated samples above a stated mean IoU.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from . import zoo
from .training.synthetic import SEG_CLASSES as CLASSES
from .training.synthetic import scene as sample

OPTIONS = {"in_channels": 3, "num_classes": len(CLASSES), "base_width": 8, "padding": True,
           "batch_norm": True}
MODEL = "unet_padded"
SIZE = 128
WEIGHTS = "unet_shapes.safetensors"


def batch(rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised as the app normalises U-Net input (the registry's mean and std)."""
    info = zoo.get_info(MODEL)
    images, masks = zip(*(sample(rng) for _ in range(n)))
    x = torch.from_numpy(np.stack([np.asarray(i, dtype=np.float32) / 255 for i in images]))
    x = (x.permute(0, 3, 1, 2) - info.mean[0]) / info.std[0]
    return x, torch.from_numpy(np.stack(masks))


def mean_iou(pred: np.ndarray, target: np.ndarray, classes: int = len(CLASSES)) -> float:
    ious = []
    for c in range(classes):
        inter = np.logical_and(pred == c, target == c).sum()
        union = np.logical_or(pred == c, target == c).sum()
        if union:
            ious.append(inter / union)
    return float(np.mean(ious))


def train(steps: int, out: Path, seed: int = 0, batch_size: int = 8) -> dict:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = zoo.build(MODEL, **OPTIONS).train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    start = time.perf_counter()
    for step in range(steps):
        x, y = batch(rng, batch_size)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {loss.item():.3f}  {time.perf_counter() - start:.0f} s",
                  flush=True)
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    save_file(model.state_dict(), str(out / WEIGHTS))
    test_rng = np.random.default_rng(seed + 1000)
    x, y = batch(test_rng, 32)
    with torch.no_grad():
        pred = model(x).argmax(1).numpy()
    miou = float(np.mean([mean_iou(p, t) for p, t in zip(pred, y.numpy())]))
    meta = {"model": MODEL, "options": OPTIONS, "classes": list(CLASSES),
            "input_size": SIZE, "weights": WEIGHTS, "mean_iou": round(miou, 4),
            "steps": steps, "seconds": round(time.perf_counter() - start, 1)}
    (out / "demo.json").write_text(json.dumps(meta, indent=1))
    sample_rng = np.random.default_rng(seed + 7)
    for i in range(3):
        img, _ = sample(sample_rng, SIZE)
        img.save(out / f"shapes_{i + 1}.png")
    print(f"mean IoU on 32 fresh samples: {miou:.3f}; wrote {out}")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=700)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[1] / "resources" / "demo")
    args = parser.parse_args(argv)
    train(args.steps, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
