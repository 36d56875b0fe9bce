"""Screenshots of the default view of every seed family, drawn through the app's own
scene and PNG export, so that the README gallery can be made again at any time:

    .venv/bin/python packaging/diagram_screenshots.py [out_dir] [--models NAME ...]

Runs on a display (Xvfb: DISPLAY=:99) or headless (QT_QPA_PLATFORM=offscreen)."""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SEEDS = ["lenet5", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet34", "resnet50",
         "resnet34_plain", "preact_resnet50", "se_resnet50", "densenet121", "mobilenet_v1",
         "mobilenet_v2", "shufflenet_v1_g3", "xception", "fcn8s", "unet", "segnet",
         "deconvnet"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="resources/screenshots/diagrams")
    parser.add_argument("--models", nargs="*", default=SEEDS)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()

    from PySide6.QtGui import QFontMetricsF
    from PySide6.QtWidgets import QApplication

    from explorer.app.exports import export_png
    from explorer.app.graph_scene import GraphScene
    from explorer.graph.style import measure_text
    from explorer.session import prepare

    app = QApplication.instance() or QApplication([])
    scene = GraphScene()
    fm = QFontMetricsF(scene.font)  # the window measures boxes the same way
    sample = "layer3.12.conv2 BatchNorm2d 1024×14×14"
    measure = functools.partial(measure_text, line_height=14.0,
                                char_width=fm.horizontalAdvance(sample) / len(sample) * 1.12)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        p = prepare(name, measure=measure)
        scene.show_layout(p.view, p.layout)
        size = export_png(scene, out / f"{name}.png", scale=args.scale)
        print(f"{name}: {len(p.view)} nodes, {p.layout.arrangement}, "
              f"{size.width()}x{size.height()} px")
    del app


if __name__ == "__main__":
    main()
