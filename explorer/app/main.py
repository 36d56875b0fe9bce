"""Launch the app: the window shows before torch is imported, then fills in."""

from __future__ import annotations

import os
import sys
import time

START = time.perf_counter()


def launch(argv: list[str] | None = None) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .window import MainWindow, apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1] + list(argv or []))
    app.setApplicationName("Architecture Explorer")
    app.setOrganizationName("ArchitectureExplorer")
    window = MainWindow()
    apply_theme(str(window.settings.value("theme", "system")))
    window.show()
    shown = time.perf_counter() - START
    if os.environ.get("EXPLORER_REPORT_STARTUP"):
        print(f"window shown at {time.time():.3f} ({shown:.2f} s after the app import)",
              flush=True)

    def finish() -> None:
        window.load_core()
        last = str(window.settings.value("last_model", "resnet34"))
        from .. import zoo

        window.open_model(last if last in zoo.list_models() else "resnet34")
        if os.environ.get("EXPLORER_REPORT_STARTUP"):
            print(f"core loaded at {time.time():.3f}", flush=True)
        if os.environ.get("EXPLORER_QUIT_AFTER_LOAD"):
            QTimer.singleShot(0, app.quit)

    QTimer.singleShot(0, finish)
    return app.exec()
