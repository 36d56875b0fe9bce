"""Counting benchmark: our per-layer totals next to FlopCounterMode (whole model) and
fvcore's FlopCountAnalysis for the zoo, with the time each took, in one run.

    python benchmarks/summary_bench.py [--models resnet50 vgg16 ...] [--repeat 3]

Ours and FlopCounterMode run on the meta device; fvcore traces with TorchScript and needs
a real input on the CPU. MACs are in billions (FlopCounterMode's FLOPs / 2). fvcore also
counts batch norm, upsampling and adds, so it reads higher on some models.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from explorer import zoo  # noqa: E402
from explorer.analysis import summarize  # noqa: E402


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def flop_counter_total(name: str) -> float:
    with torch.device("meta"):
        model = zoo.build(name)
    x = torch.empty(zoo.input_shape(name), device="meta")
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return counter.get_total_flops() / 2


def fvcore_total(name: str):
    try:
        from fvcore.nn import FlopCountAnalysis
    except ImportError:
        return None
    model = zoo.build(name)
    x = torch.randn(zoo.input_shape(name))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        return analysis.total()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", default=zoo.list_models())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-fvcore", action="store_true")
    args = parser.parse_args()
    cols = ["model", "params", "GMACs (ours)", "GMACs (FlopCounterMode)", "GMACs (fvcore)",
            "ours s", "FlopCounterMode s", "fvcore s"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for name in args.models:
        t_ours, table = timed(lambda n=name: summarize(n), args.repeat)
        t_fc, fc = timed(lambda n=name: flop_counter_total(n), args.repeat)
        fv, t_fv = None, None
        if not args.no_fvcore:
            try:
                t_fv, fv = timed(lambda n=name: fvcore_total(n), 1)
            except Exception as exc:  # noqa: BLE001  (report and go on)
                fv = f"error: {type(exc).__name__}"
        row = [name, f"{table.total['params']:,}", f"{table.total['macs'] / 1e9:.3f}",
               f"{fc / 1e9:.3f}",
               f"{fv / 1e9:.3f}" if isinstance(fv, (int, float)) else str(fv or "-"),
               f"{t_ours:.3f}", f"{t_fc:.3f}", f"{t_fv:.3f}" if t_fv else "-"]
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
