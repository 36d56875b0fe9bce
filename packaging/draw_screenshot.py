"""A screenshot of the Draw panel: the shipped LeNet-5 loaded in one click, a digit drawn
on the canvas (mouse strokes sent to the real widget), its prediction and the feature maps
of the layer selected.

    Xvfb :99 -screen 0 1600x1000x24 & openbox &
    DISPLAY=:99 .venv/bin/python packaging/draw_screenshot.py out.png
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def wait(app, until, timeout=120.0) -> None:
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there")
        app.processEvents()
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    out = Path((argv or sys.argv[1:])[0])
    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from explorer.app.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        w = MainWindow(QSettings(str(Path(tmp, "s.ini")), QSettings.IniFormat))
        w.resize(1560, 960)
        w.show()
        w.load_core(count_sizes=False)
        for _ in range(40):  # the dock layout settles first, as before a person's click
            app.processEvents()
            time.sleep(0.05)
        w.training.show_draw()
        w.training.draw.use.click()
        wait(app, lambda: w.prepared is not None and w.prepared.name == "lenet5"
             and w.state.weights.trained and not w.progress.isVisible())
        canvas = w.training.draw.canvas
        points = [QPoint(50 + i * 8, 40) for i in range(16)]  # a seven: the bar
        points += [QPoint(170 - i * 5, 40 + i * 9) for i in range(1, 18)]  # and the stroke
        QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, points[0])
        for p in points[1:]:
            QTest.mouseMove(canvas, p)
            app.processEvents()
        QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, points[-1])
        wait(app, lambda: w.state.result is not None and w.state.image_name == "drawn digit"
             and not w.progress.isVisible())
        w.state.select("features.3")
        for _ in range(60):
            app.processEvents()
            time.sleep(0.05)
        w.training.draw_dock.raise_()
        w.docks["features"].raise_()
        w.resizeDocks([w.training.draw_dock], [430], Qt.Horizontal)
        for _ in range(40):
            app.processEvents()
            time.sleep(0.05)
        print(w.training.draw.answer.text(), "|", w.windowTitle())
        subprocess.run(["import", "-window", "root", str(out)], check=True)
        w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
