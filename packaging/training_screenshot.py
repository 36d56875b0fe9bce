"""A screenshot of the real window training two models side by side: the Training dock's
live curves once the run has ended, the trained weights live (the title says so); with
``--during``, a second one taken mid-run, when the window shows the weights of epoch
``--at`` (the dock's "after each epoch", then off) and a test image's feature maps on
them, while the training goes on.

    Xvfb :99 -screen 0 1600x1000x24 & openbox &
    DISPLAY=:99 .venv/bin/python packaging/training_screenshot.py out.png \\
        --model lenet5 --vs lenet5:activation=relu --dataset digits --epochs 10

The run uses one CPU thread (on a busy machine many times faster than two) and its own
settings and run folders; the capture is ImageMagick's ``import`` of the whole screen.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def model_arg(text: str) -> tuple[str, dict]:
    name, _, rest = text.partition(":")
    options = dict(pair.split("=", 1) for pair in rest.split(",") if pair)
    return name, {k: {"true": True, "false": False}.get(v, v) for k, v in options.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--vs", default="lenet5:activation=relu")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-size", type=int)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--during", type=Path, help="also a screenshot while it trains")
    parser.add_argument("--at", type=int, default=3, help="the epoch --during shows")
    args = parser.parse_args(argv)

    import torch
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication

    from explorer.app.training.dialog import TrainRequest
    from explorer.app.window import MainWindow

    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(QSettings(str(Path(tmp, "s.ini")), QSettings.IniFormat))
        window.resize(1560, 960)
        window.show()
        window.load_core(count_sizes=False)
        name, options = model_arg(args.model)
        window.open_model(name, options)
        while window.prepared is None or window.progress.isVisible():
            app.processEvents()
            time.sleep(0.02)
        window.training.runs = Path(tmp, "runs")
        if args.during:
            window.inference.set_image(_test_image(args.dataset), "a test image")
            window.training.panel.every_epoch.setChecked(True)
        window.training.start(TrainRequest(args.dataset, ((name, options), model_arg(args.vs)),
                                           args.preset, args.epochs, "cpu", args.train_size))
        window.resizeDocks([window.training.dock], [420], Qt.Vertical)
        start = time.monotonic()
        wanted = f"after epoch {args.at} of"
        while args.during and wanted not in window.state.weights.label:
            app.processEvents()
            time.sleep(0.05)
        if args.during:
            window.training.panel.every_epoch.setChecked(False)  # the window stays there
            for _ in range(40):  # the image's run on those weights
                app.processEvents()
                time.sleep(0.05)
            print(window.windowTitle())
            subprocess.run(["import", "-window", "root", str(args.during)], check=True)
        while window.training.log.running or not window.state.weights.trained:
            app.processEvents()
            time.sleep(0.05)
            if window.training.log.state == "failed":
                return 1
        for _ in range(40):
            app.processEvents()
            time.sleep(0.05)
        window.training.dock.raise_()  # the curves (an image's run raised its maps)
        for _ in range(10):
            app.processEvents()
            time.sleep(0.05)
        print(f"trained in {time.monotonic() - start:.0f} s: {window.training.log.message}")
        print(window.windowTitle())
        subprocess.run(["import", "-window", "root", str(args.out)], check=True)
        window.close()
    return 0


def _test_image(dataset: str):
    """The data set's first test image, large enough to see."""
    from PIL import Image

    from explorer.training import load_dataset

    x = load_dataset(dataset, train_size=64).test_x[0]
    mode = "L" if x.shape[0] == 1 else "RGB"
    image = Image.fromarray(x.permute(1, 2, 0).squeeze(-1).numpy(), mode)
    return image.resize((128, 128), Image.NEAREST).convert("RGB")


if __name__ == "__main__":
    raise SystemExit(main())
