"""Diff benchmark: matching two fully expanded graphs (the structural diff alone, then
with the side-by-side layout), median of --repeat runs, wall clock in seconds.

    python benchmarks/diff_bench.py [--pairs densenet201:densenet169 ...] [--repeat 5]
    QT_QPA_PLATFORM=offscreen python benchmarks/diff_bench.py --window densenet201:densenet169

The target (issue #25): DenseNet-201 against DenseNet-169, fully expanded, in 1 s.
``--window A:B`` measures the compare window with both fully expanded instead: one scroll
step and one zoom step of a pane (the other pane following), each painted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.graph import trace_zoo  # noqa: E402
from explorer.graph.diff import diff  # noqa: E402
from explorer.graph.diff_layout import align_pair, pair_layout  # noqa: E402
from explorer.graph.layout import clear_layout_cache, layout  # noqa: E402

DEFAULT_PAIRS = ("densenet201:densenet169", "resnet152:resnet152_plain",
                 "mobilenet_v1:mobilenet_v2", "vgg16:vgg19")


def median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        clear_layout_cache()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", default=list(DEFAULT_PAIRS), metavar="A:B")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--window", metavar="A:B", help="time the compare window instead")
    args = parser.parse_args()
    if args.window:
        return window_bench(*args.window.partition(":")[::2], max(args.repeat, 20))
    print("| A | B | nodes A | nodes B | edges A+B | diff (s) | align layouts (s) "
          "| diff + both layouts (s) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for pair in args.pairs:
        print(row(*pair.partition(":")[::2], args.repeat))
    return 0


def window_bench(name_a: str, name_b: str, steps: int) -> int:
    from PySide6.QtWidgets import QApplication

    from explorer.app.diff.compare_window import CompareWindow
    from explorer.graph.style import measure_text

    app = QApplication.instance() or QApplication([])
    cw = CompareWindow([], name_a, name_b, measure_text)
    cw.show()
    wait(app, lambda: cw.state.prepared is not None)
    cw.expand_all()
    wait(app, lambda: len(cw.panes["a"].scene.nodes) == len(cw.state.prepared.graph_a))
    view = cw.panes["a"].view
    view.set_zoom(0.8 / view.zoom)
    bar = view.verticalScrollBar()

    def painted(step) -> float:
        """The step and the paint it asks for (the event loop paints both panes)."""
        t = time.perf_counter()
        step()
        app.processEvents()
        return time.perf_counter() - t

    scroll = [painted(lambda i=i: bar.setValue(bar.minimum() + i * bar.pageStep()))
              for i in range(steps)]
    zoom = [painted(lambda i=i: view.set_zoom(1.2 if i % 2 else 1 / 1.2)) for i in range(steps)]
    print(f"{name_a} vs {name_b}, both fully expanded "
          f"({len(cw.panes['a'].scene.nodes)} + {len(cw.panes['b'].scene.nodes)} boxes): "
          f"scroll step {statistics.median(scroll) * 1000:.1f} ms, "
          f"zoom step {statistics.median(zoom) * 1000:.1f} ms (medians of {steps}, painted)")
    # the main window's graph panel with A alone, at the same size and place, for scale
    from explorer.app.graph.view import GraphPanel

    p = cw.state.prepared
    panel = GraphPanel()
    panel.resize(cw.panes["a"].size())
    panel.show()
    panel.scene.show_layout(p.diff.a, p.pair.a)
    wait(app, lambda: True)
    view, bar = panel.view, panel.view.verticalScrollBar()
    view.set_zoom(0.8 / view.zoom)
    scroll = [painted(lambda i=i: bar.setValue(bar.minimum() + i * bar.pageStep()))
              for i in range(steps)]
    zoom = [painted(lambda i=i: view.set_zoom(1.2 if i % 2 else 1 / 1.2)) for i in range(steps)]
    print(f"{name_a} alone in the main window's graph panel: scroll step "
          f"{statistics.median(scroll) * 1000:.1f} ms, zoom step "
          f"{statistics.median(zoom) * 1000:.1f} ms")
    panel.close()
    cw.close()
    return 0


def wait(app, until, timeout: float = 300.0) -> None:
    end = time.monotonic() + timeout
    while not until() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def row(name_a: str, name_b: str, repeat: int) -> str:
    a, b = trace_zoo(name_a), trace_zoo(name_b)
    d = diff(a, b)
    lay_a, lay_b = layout(a.nx, arrangement="column"), layout(b.nx, arrangement="column")
    t_diff = median(lambda: diff(a, b), repeat)
    t_align = median(lambda: align_pair(d, lay_a, lay_b), repeat)
    t_all = median(lambda: pair_layout(diff(a, b)), repeat)
    edges = a.nx.number_of_edges() + b.nx.number_of_edges()
    return (f"| {name_a} | {name_b} | {len(a)} | {len(b)} | {edges} | {t_diff:.3f} "
            f"| {t_align:.3f} | {t_all:.2f} |")


if __name__ == "__main__":
    raise SystemExit(main())
