"""UI responsiveness benchmark: how long the event loop goes without running while the
app prepares the heaviest models and runs an image, with the work on the worker thread
(as the app does it) beside the same work done on the UI thread.

    QT_QPA_PLATFORM=offscreen python benchmarks/ui_bench.py [--repeat 3]

A 10 ms QTimer ticks in the UI thread; a gap is the time between two ticks. The table
gives the gap percentiles over every repeat; 10 ms is a perfectly free UI thread. This
is a benchmark, not a test: the figures depend on the machine's load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

MODELS = ("densenet201", "se_resnet152", "inception_v3")
IMAGE_MODEL = "vgg16"


def gaps_during(start: Callable[[Callable[[], None]], None]) -> list[float]:
    """Event-loop gaps (s) from calling ``start(done)`` until it calls ``done``."""
    from PySide6.QtCore import QEventLoop, QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()
    timer.start()
    ticks.append(time.perf_counter())
    QTimer.singleShot(0, lambda: start(loop.quit))
    loop.exec()
    ticks.append(time.perf_counter())
    timer.stop()
    return [b - a for a, b in zip(ticks, ticks[1:])]


def sample_image(folder: Path) -> str:
    import numpy as np
    from PIL import Image

    x = np.linspace(0, 255, 320, dtype=np.uint8)[None, :].repeat(240, 0)
    y = np.linspace(0, 255, 240, dtype=np.uint8)[:, None].repeat(320, 1)
    path = folder / "bench.png"
    Image.fromarray(np.stack([x, y, 255 - x], -1)).save(path)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--image-model", default=IMAGE_MODEL)
    args = parser.parse_args()
    models, image_model = tuple(args.models), args.image_model

    import numpy as np
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([])  # kept alive until the end
    from explorer.app.main import collect_garbage_on_ui_thread, responsive_threads
    from explorer.app.window import MainWindow
    from explorer.inference.imaging import load_image
    from explorer.inference.runner import run_image
    from explorer.session import prepare

    folder = Path(tempfile.mkdtemp())
    settings = QSettings(str(folder / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(settings)
    window.resize(1400, 900)
    window.show()
    window.load_core(count_sizes=False)
    window.gc_timer = collect_garbage_on_ui_thread(window)  # as the app runs
    responsive_threads()
    window.runner.wait(120_000)  # the start-up warm-up is not measured
    image = sample_image(folder)

    def with_model(name):
        def start(done):
            def shown(_):
                window.shown.disconnect(shown)
                done()

            window.shown.connect(shown)
            window.open_model(name)

        gaps_during(start)
        window.runner.wait(120_000)

    def worker_models(done):
        names = list(models)

        def next_one(*_):
            if not names:
                window.shown.disconnect(next_one)
                done()
                return
            window.open_model(names.pop(0))

        window.shown.connect(next_one)
        next_one()

    def ui_models(done):
        for name in models:
            prepare(name, measure=window.models.measure)
        done()

    def worker_image(done):
        def finished():
            window.inference.ran.disconnect(finished)
            done()

        window.inference.ran.connect(finished)
        window.inference.open_image(image)

    def ui_image(done):
        from explorer import zoo

        p = window.prepared
        run_image(zoo.build(image_model), p.info, p.graph, load_image(image), "all", "cpu")
        done()

    rows = []
    for label, start, setup in (
            (f"prepare {', '.join(models)}", worker_models, None),
            (f"prepare {', '.join(models)}", ui_models, None),
            (f"{image_model}: image, all layers", worker_image, image_model),
            (f"{image_model}: image, all layers", ui_image, image_model)):
        where = "worker (app)" if start in (worker_models, worker_image) else "UI thread"
        gaps, walls = [], []
        for _ in range(args.repeat):
            if setup and (window.prepared is None or window.prepared.name != setup):
                with_model(setup)
            if start is worker_image:
                window.inference.live = None  # build the model in the job each time
            t = time.perf_counter()
            gaps += gaps_during(start)
            walls.append(time.perf_counter() - t)
        ms = np.array(gaps) * 1000
        rows.append((label, where, statistics.median(walls), len(ms),
                     *np.percentile(ms, [50, 95, 99, 100])))

    print(f"\nEvent-loop gaps (10 ms timer), {args.repeat} repeats, {os.cpu_count()} cores\n")
    print("| work | runs on | wall (median) | ticks | p50 gap | p95 gap | p99 gap | max gap |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, where, wall, n, p50, p95, p99, top in rows:
        print(f"| {label} | {where} | {wall:.2f} s | {n} | {p50:.0f} ms | {p95:.0f} ms "
              f"| {p99:.0f} ms | {top:.0f} ms |")
    window.close()
    sys.stdout.flush()
    # The figures are out. Interpreter teardown with Qt, pyqtgraph and torch's threads
    # still alive crashed about one exit in five here (no Python frame left): skip it.
    os._exit(0)


if __name__ == "__main__":
    main()
