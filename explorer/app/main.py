"""Launch the app: the window shows before torch is imported, then fills in."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QTimer

START = time.perf_counter()


def self_test(app, window) -> int:
    """A real check of the installed app: build, trace and lay out a model, render the
    window once, look at the pixels. Exit status 0 when all of it worked."""
    from PySide6.QtCore import QEventLoop

    window.load_core()
    loop = QEventLoop()
    window.shown.connect(loop.quit)
    QTimer.singleShot(60_000, loop.quit)
    window.open_model("resnet18")
    loop.exec()
    ok = window.prepared is not None and window.prepared.name == "resnet18"
    nodes = len(window.panel.scene.nodes) if ok else 0
    image = window.grab().toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 9)
               for y in range(0, image.height(), 9)}
    ok = ok and nodes > 10 and len(colours) > 20
    print(f"self-test {'passed' if ok else 'FAILED'}: resnet18 traced, {nodes} nodes drawn, "
          f"{image.width()}x{image.height()} frame with {len(colours)} colours, "
          f"{time.perf_counter() - START:.2f} s", flush=True)
    window.close()
    return 0 if ok else 1


def launch(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from .window import MainWindow, apply_theme

    argv = list(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Architecture Explorer")
    app.setOrganizationName("ArchitectureExplorer")
    if "--self-test" in argv:
        from PySide6.QtCore import QSettings

        settings = QSettings(QSettings.IniFormat, QSettings.UserScope, "ArchitectureExplorer",
                             "self-test")
        window = MainWindow(settings)
        window.show()
        return self_test(app, window)
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

        models = [a for a in argv if a.endswith(".py") and os.path.isfile(a)]
        images = [a for a in argv if not a.endswith(".py") and os.path.isfile(a)]
        if models:  # "Open with" a model file from the desktop
            window.open_model_file(models[0])
        else:
            window.open_model(last if last in zoo.list_models() else "resnet34")
        if images:  # "Open with" an image: it runs through the model as soon as it is built
            window.inference.open_image(images[0])
        if os.environ.get("EXPLORER_REPORT_STARTUP"):
            print(f"core loaded at {time.time():.3f}", flush=True)
        if os.environ.get("EXPLORER_QUIT_AFTER_LOAD"):
            QTimer.singleShot(0, app.quit)

    QTimer.singleShot(0, finish)
    return app.exec()
