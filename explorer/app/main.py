"""Launch the app: the window shows before torch is imported, then fills in."""

from __future__ import annotations

import gc
import os
import platform
import sys
import time

from PySide6.QtCore import QPoint, QTimer

START = time.perf_counter()
APP = "Architecture Explorer"


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


def app_icon():
    from PySide6.QtGui import QIcon

    from ..assets import RESOURCES

    icon = QIcon(str(RESOURCES / "icons" / "architecture-explorer.svg"))
    for size in (16, 32, 48, 64, 128, 256):
        png = RESOURCES / "icons" / f"architecture-explorer-{size}.png"
        if png.exists():
            icon.addFile(str(png))
    return icon


def responsive_threads() -> None:
    """The UI thread takes the GIL back from a busy worker after at most this long
    (Python's default is 5 ms; each event-loop callback may wait that long)."""
    sys.setswitchinterval(0.002)


def collect_garbage_on_ui_thread(parent) -> QTimer:
    """Python's cyclic collector runs in whichever thread happens to allocate. On a worker
    it destroys the UI thread's Qt objects there: ~QObject takes Qt's lock and then waits
    for the GIL that the UI thread holds while it waits for that lock (a deadlock seen in
    the GUI tests under load, py-spy showing both stacks). A full collection there also
    paused the event loop for 100-450 ms (DenseNet-201). So automatic collection is off;
    the young generations are collected every second on the UI thread, and everything
    (then frozen: long-lived) when the UI is idle after a model is shown."""
    collect_now()
    gc.disable()
    timer = QTimer(parent)
    timer.setInterval(1000)
    timer.timeout.connect(lambda: gc.collect(1))
    timer.start()
    return timer


def close_on_signals(window) -> None:
    """SIGTERM and SIGHUP (a logout, ``kill``, a closed terminal) close the window as its
    close button does: the layout is saved and a download in progress is cancelled, taking
    its partial file with it. Python runs the handler on the UI thread the next time the
    interpreter gets control (the garbage timer wakes it every second); the close itself
    waits for the event loop. A handler someone else installed is kept."""
    import signal

    def close(_signum, _frame) -> None:
        QTimer.singleShot(0, window.close)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, close)


def collect_now() -> None:
    gc.collect()
    gc.freeze()  # survivors are long-lived; freed ones are still reclaimed by refcount


def about_text() -> str:
    import PySide6
    import torch

    from .. import __version__
    from ..inference.devices import available_devices

    return (f"<b>{APP}</b> {__version__}<br>Look inside convolutional networks.<br><br>"
            f"PyTorch {torch.__version__}<br>Qt {PySide6.QtCore.qVersion()} "
            f"(PySide6 {PySide6.__version__})<br>Python {platform.python_version()}<br>"
            f"Devices: {', '.join(available_devices())}")


def paint_first_frame(app, window) -> None:
    """Importing torch holds the GIL for seconds, so the event loop cannot paint meanwhile:
    the skeleton (menus, "Loading PyTorch…", a busy bar) is painted now, before it."""
    for _ in range(3):
        app.processEvents()
    window.repaint()
    app.processEvents()


def open_files(window, argv: list[str]) -> bool:
    """Files from the command line or the desktop's "Open with": a model file (``x.py``,
    ``x.py:Name`` or ``x.onnx``) and an image, which runs once a model is built. True
    when a model file was opened."""
    from ..usermodel import is_user_model, split_spec

    models = [split_spec(a) for a in argv if is_user_model(a)]
    models = [(path, name) for path, name in models if path.is_file()]
    onnx = [a for a in argv if a.lower().endswith(".onnx") and os.path.isfile(a)]
    images = [a for a in argv if not is_user_model(a) and a not in onnx and os.path.isfile(a)]
    if models:
        window.open_model_file(str(models[0][0]), models[0][1])
    elif onnx:
        window.open_model_path(onnx[0])
    if images:
        window.inference.open_image(images[0])
    return bool(models or onnx)


def launch(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from .theme import apply_theme
    from .window import MainWindow

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
    window.setWindowIcon(app_icon())
    window.theme = apply_theme(str(window.settings.value("theme", "system")))
    window.show()
    paint_first_frame(app, window)
    shown = time.perf_counter() - START
    if os.environ.get("EXPLORER_REPORT_STARTUP"):
        print(f"window shown at {time.time():.3f} ({shown:.2f} s after the app import)",
              flush=True)

    def finish() -> None:
        window.load_core()
        window.gc_timer = collect_garbage_on_ui_thread(window)
        close_on_signals(window)
        responsive_threads()
        window.panel.set_canvas(window.theme)
        window.shown.connect(first_graph)
        last = str(window.settings.value("last_model", "resnet34"))
        from .. import zoo

        if not open_files(window, argv):
            window.open_model(last if last in zoo.list_models() else "resnet34")
        if os.environ.get("EXPLORER_REPORT_STARTUP"):
            print(f"core loaded at {time.time():.3f}", flush=True)

    def first_graph(_name: str) -> None:
        window.shown.disconnect(first_graph)
        if os.environ.get("EXPLORER_REPORT_STARTUP"):
            where, size = window.panel.mapTo(window, QPoint(0, 0)), window.panel.size()
            print(f"first graph shown at {time.time():.3f} (graph panel {size.width()}x"
                  f"{size.height()}+{where.x()}+{where.y()} in the window)", flush=True)
        if os.environ.get("EXPLORER_QUIT_AFTER_LOAD"):  # start-up timings: quit once drawn
            QTimer.singleShot(0, app.quit)

    QTimer.singleShot(0, finish)
    return app.exec()
