"""Graph benchmark: for every zoo model, our trace / fold / layout times next to
torchview's draw_graph and graphviz dot on torchview's graph, in the same run.

    python benchmarks/graph_bench.py [--models resnet152 densenet201 ...] [--cap 20]
                                     [--repeat 3]

Times are medians of --repeat runs (wall clock, seconds); the anchor's dot run is capped
at --cap seconds and reported as "> cap".
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from explorer import zoo  # noqa: E402
from explorer.graph import FoldSpec, default_spec, fold, layout, trace  # noqa: E402
from explorer.graph.layout import clear_layout_cache  # noqa: E402


def median_time(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        clear_layout_cache()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def ours(name: str, repeat: int) -> dict:
    shape = zoo.input_shape(name)

    def build():
        with torch.device("meta"):
            return zoo.build(name)

    model = build()
    t_trace, g = median_time(lambda: trace(model, shape, name=name), repeat)
    spec = default_spec(g)
    view = fold(g, spec)
    t_default, _ = median_time(lambda: layout(view.nx), repeat)
    t_full, _ = median_time(lambda: layout(fold(g, FoldSpec()).nx), repeat)

    def end_to_end():
        graph = trace(build(), shape, name=name)
        return layout(fold(graph, default_spec(graph)).nx)

    t_e2e, _ = median_time(end_to_end, repeat)
    t_e2e_full, _ = median_time(lambda: layout(trace(build(), shape, name=name).nx), repeat)
    return dict(nodes=len(view), edges=view.nx.number_of_edges(), depth=spec.depth or "full",
                full_nodes=len(g), full_edges=g.nx.number_of_edges(), trace=t_trace,
                layout=t_default, layout_full=t_full, e2e=t_e2e, e2e_full=t_e2e_full)


def torchview_anchor(name: str, cap: float, repeat: int) -> dict:
    from torchview import draw_graph

    shape = zoo.input_shape(name)

    def draw(depth):
        with torch.device("meta"):
            model = zoo.build(name)  # a fresh copy: torchview moves the model it is given
        return draw_graph(model, input_size=shape, device="meta", depth=depth,
                          expand_nested=False)

    try:
        t_draw, g = median_time(lambda: draw(3), repeat)
    except Exception as exc:  # noqa: BLE001  (report, keep benchmarking)
        return dict(draw=f"error: {type(exc).__name__}", dot="-", dot_full="-")
    result = dict(draw=t_draw, dot=_dot(g.visual_graph.source, cap))
    try:
        full = draw(1e9)
        result["dot_full"] = _dot(full.visual_graph.source, cap)
    except Exception as exc:  # noqa: BLE001
        result["dot_full"] = f"error: {type(exc).__name__}"
    return result


def _dot(source: str, cap: float):
    t = time.perf_counter()
    try:
        subprocess.run(["dot", "-Tsvg", "-o", "/dev/null"], input=source, text=True,
                       timeout=cap, check=True, capture_output=True)
    except subprocess.TimeoutExpired:
        return f"> {cap:g}"
    return time.perf_counter() - t


def fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", default=zoo.list_models())
    parser.add_argument("--cap", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-anchor", action="store_true", help="skip torchview + dot")
    args = parser.parse_args()
    cols = ["model", "depth", "nodes", "edges", "full nodes", "full edges", "trace s",
            "layout s", "layout full s", "name→view s", "name→full s", "torchview s",
            "tv+dot s", "tv full+dot s"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for name in args.models:
        o = ours(name, args.repeat)
        a = (dict(draw="-", dot="-", dot_full="-") if args.no_anchor
             else torchview_anchor(name, args.cap, args.repeat))
        row = [name, o["depth"], o["nodes"], o["edges"], o["full_nodes"], o["full_edges"],
               o["trace"], o["layout"], o["layout_full"], o["e2e"], o["e2e_full"], a["draw"],
               a["dot"], a["dot_full"]]
        print("| " + " | ".join(fmt(v) for v in row) + " |", flush=True)


if __name__ == "__main__":
    main()
