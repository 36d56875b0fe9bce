"""Diff benchmark: matching two fully expanded graphs (the structural diff alone, then
with the side-by-side layout), median of --repeat runs, wall clock in seconds.

    python benchmarks/diff_bench.py [--pairs densenet201:densenet169 ...] [--repeat 5]

The target (issue #25): DenseNet-201 against DenseNet-169, fully expanded, in 1 s.
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
    args = parser.parse_args()
    print("| A | B | nodes A | nodes B | edges A+B | diff (s) | align layouts (s) "
          "| diff + both layouts (s) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for pair in args.pairs:
        print(row(*pair.partition(":")[::2], args.repeat))
    return 0


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
