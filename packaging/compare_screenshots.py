"""Screenshots of the compare window (Model ▸ Compare with…) on an X display (Xvfb), as
a person sees it: the real main window and its compare window, one difference picked in
the list so that the two layers show side by side.

    Xvfb :99 -screen 0 1600x1000x24 & openbox &
    DISPLAY=:99 .venv/bin/python packaging/compare_screenshots.py [out_dir]

Writes ``out_dir/compare_A_B.png`` for each pair in PAIRS (the root window cut to the
compare window: Qt's GL-backed window reads back black when captured on its own)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# (A, B, the difference to pick: a layer or block of A or B)
PAIRS = [("resnet34", "resnet34_plain", "layer2.0.downsample"),
         ("vgg16", "vgg19", "features.25")]


def wait(app, until, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            raise SystemExit("timed out waiting for the window")
        app.processEvents()
        time.sleep(0.02)


def settle(app, seconds: float = 1.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    if not os.environ.get("DISPLAY"):
        raise SystemExit("no DISPLAY: start Xvfb and set DISPLAY (see the docstring)")
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from explorer.app.window import MainWindow

    app = QApplication(sys.argv)
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "explorer.conf"), QSettings.IniFormat)
    window = MainWindow(settings)
    window.show()
    window.load_core(count_sizes=False)
    for a, b, pick in PAIRS:
        window.open_compare(a, b)
        cw = window.compare_window
        cw.resize(1560, 960)
        cw.move(0, 0)
        wait(app, lambda cw=cw: cw.state.prepared is not None)
        settle(app)
        diffs = cw.state.differences()
        cw.state.select(next(i for i, d in enumerate(diffs) if pick in (d.a, d.b)))
        settle(app)
        geometry = cw.frameGeometry()
        path = out / f"compare_{a}_{b}.png"
        subprocess.run(["import", "-window", "root", "-crop",
                        f"{geometry.width()}x{geometry.height()}+{geometry.x()}+{geometry.y()}",
                        "+repage", str(path)], check=True)
        print(path, flush=True)
        cw.close()
    window.close()


if __name__ == "__main__":
    main()
