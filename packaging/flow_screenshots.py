"""Screenshots of the real window's Flow dock: plain-56 and ResNet-56 on one plot, and
plain-152's diagram coloured by its gradient.

    Xvfb :99 -screen 0 1600x1000x24 & openbox &
    DISPLAY=:99 .venv/bin/python packaging/flow_screenshots.py resources/screenshots

Own settings; the capture is ImageMagick's ``import`` of the whole screen.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def wait(app, done, seconds: float = 600) -> None:
    end = time.monotonic() + seconds
    while not done():
        app.processEvents()
        time.sleep(0.03)
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
    for _ in range(30):  # let the last layout and paint settle
        app.processEvents()
        time.sleep(0.03)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args(argv)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from explorer.app.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(QSettings(str(Path(tmp, "s.ini")), QSettings.IniFormat))
        window.resize(1560, 960)
        window.show()
        window.load_core(count_sizes=False)
        flow = window.flow
        flow.panel.batch.setValue(args.batch)

        def measured() -> bool:
            return window.state.flow is not None and not window.progress.isVisible()

        flow.open_pair("resnet56_cifar_plain", "resnet56_cifar")
        wait(app, measured)
        subprocess.run(["import", "-window", "root", str(args.out / "flow_plain56_resnet56.png")],
                       check=True)
        print(flow.panel.status.text())
        flow.panel.batch.setValue(2)  # 224×224: two images keep it quick
        flow.open_pair("resnet152_plain", "resnet152")
        wait(app, lambda: measured() and window.state.model.name == "resnet152_plain")
        flow.panel.colour.setChecked(True)
        wait(app, lambda: flow.legend.isVisible())
        window.fit()  # the whole network: where the gradient is large, where small
        wait(app, lambda: True)
        subprocess.run(["import", "-window", "root",
                        str(args.out / "flow_plain152_coloured.png")], check=True)
        print(flow.panel.status.text(), flow.legend.text())
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
