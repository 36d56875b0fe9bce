"""The shipped demo model: a padded U-Net trained on synthetic shapes (explorer.demo)."""

from __future__ import annotations

import json

import numpy as np
import torch

from explorer import demo, zoo
from explorer.assets import resource
from explorer.inference.weights import load_weights

MIN_MEAN_IOU = 0.75  # measured 0.86 when trained (900 steps, 112 s on 2 CPU cores)


def test_shipped_weights_segment_fresh_samples():
    meta = json.loads(resource("demo", "demo.json").read_text())
    assert meta["model"] == demo.MODEL and meta["classes"] == list(demo.CLASSES)
    model = zoo.build(meta["model"], **meta["options"])
    load_weights(model, resource("demo", meta["weights"]))
    rng = np.random.default_rng(20261123)  # samples the training never saw
    x, y = demo.batch(rng, 24)
    with torch.no_grad():
        pred = model(x).argmax(1).numpy()
    miou = np.mean([demo.mean_iou(p, t) for p, t in zip(pred, y.numpy())])
    assert miou > MIN_MEAN_IOU, f"mean IoU {miou:.3f}"


def test_generated_samples_have_shapes_and_masks():
    image, mask = demo.sample(np.random.default_rng(1))
    assert image.size == (demo.SIZE, demo.SIZE) and mask.shape == (demo.SIZE, demo.SIZE)
    assert set(np.unique(mask)) - {0}  # at least one shape
    assert demo.mean_iou(mask, mask) == 1.0
