"""ONNX benchmark: opening a file to its first graph next to opening the same network
from the zoo, side by side in one process.

    python benchmarks/onnx_bench.py [--pairs densenet121:light_densenet121 ...] [--repeat 5]

"Opening" is ``session.prepare``: build on the meta device, trace, count, fold and lay
out; for the file it also reads, checks and folds it (its cache is cleared before each
run, as a person opening a file pays for that). As in the app, automatic garbage
collection is off while a model is prepared and everything is collected between runs
(explorer.app.main.collect_garbage_on_ui_thread). The light files are the onnx wheel's
(onnx/backend/test/data/light). Times are medians of --repeat runs, wall clock, seconds.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import onnx  # noqa: E402

from explorer.graph.layout import clear_layout_cache  # noqa: E402
from explorer.session import prepare  # noqa: E402
from explorer.zoo.onnx_import import _plan_cached  # noqa: E402

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        clear_layout_cache()
        _plan_cached.cache_clear()
        gc.collect()
        gc.disable()
        try:
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        finally:
            gc.enable()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", default=[
        "densenet121:light_densenet121", "resnet50:light_resnet50",
        "googlenet:light_inception_v1"])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    prepare("resnet18")  # torch's first meta kernels and the FLOP counter, paid once
    print("| zoo model | file | zoo (s) | file (s) | ratio | file nodes | zoo nodes |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for pair in args.pairs:
        name, light = pair.split(":")
        path = str(LIGHT / f"{light}.onnx")
        interleaved: dict[str, list[float]] = {"zoo": [], "file": []}
        for _ in range(args.repeat):  # side by side, so load drifts hit both alike
            interleaved["zoo"].append(median_time(lambda n=name: prepare(n), 1))
            interleaved["file"].append(median_time(lambda p=path: prepare(p), 1))
        zoo_t = statistics.median(interleaved["zoo"])
        file_t = statistics.median(interleaved["file"])
        nodes = len(prepare(path).graph), len(prepare(name).graph)
        print(f"| {name} | {light}.onnx | {zoo_t:.2f} | {file_t:.2f} | "
              f"{file_t / zoo_t:.2f}× | {nodes[0]} | {nodes[1]} |")


if __name__ == "__main__":
    main()
