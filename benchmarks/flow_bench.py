"""Flow benchmark: one flow measurement (forward, backward, per-layer statistics) next to
one training step of the same model (forward, backward, SGD update), side by side in one
process, and the memory each case reaches against the flow budget.

    python benchmarks/flow_bench.py [--cases resnet152@8,3,224,224 ...] [--repeat 3]

The issue's targets: flow of ResNet-152 at 224×224, batch 8, within 2× a training step;
ResNet-1202 on CIFAR input at batch 8 within the memory budget (explorer.limits.FLOW_MEMORY).
Times are medians; the two are interleaved so that load on the machine hits both alike.
Peak RSS is the process's high-water mark after the case (cases run smallest first).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from explorer import zoo  # noqa: E402
from explorer.analysis.flow import check_budget, flow, random_batch  # noqa: E402
from explorer.graph import trace  # noqa: E402
from explorer.limits import FLOW_MEMORY, bytes_text  # noqa: E402

CASES = ("resnet1202_cifar@8,3,32,32", "resnet152@8,3,224,224")


def parse_case(text: str) -> tuple[str, tuple[int, ...]]:
    name, _, shape = text.partition("@")
    return name, tuple(int(v) for v in shape.split(",")) if shape else (
        8, *zoo.input_shape(name)[1:])


def train_step(model, optimiser, x, y) -> None:
    model.train()
    optimiser.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    optimiser.step()


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), metavar="MODEL@N,C,H,W")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print("| model | input | trace (s) | flow (s) | training step (s) | flow / step | "
          "estimate | budget | peak RSS |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for case in args.cases:
        name, shape = parse_case(case)
        torch.manual_seed(0)
        model = zoo.build(name, **({"zero_init_last": False} if any(
            o.name == "zero_init_last" for o in zoo.get_info(name).options) else {}))
        start = time.perf_counter()
        graph = trace(model, (1, *shape[1:]), name=name)
        traced = time.perf_counter() - start
        params = sum(p.numel() for p in model.parameters())
        estimate = check_budget(graph, params, FLOW_MEMORY, batch=shape[0])
        x = random_batch(shape)
        y = torch.randint(0, 10 if "cifar" in name else 1000, (shape[0],))
        optimiser = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        flows, steps = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            flow(model, x, name=name, graph=graph)
            flows.append(time.perf_counter() - start)
            start = time.perf_counter()
            train_step(model, optimiser, x, y)
            steps.append(time.perf_counter() - start)
        f, s = statistics.median(flows), statistics.median(steps)
        print(f"| {name} | {'x'.join(map(str, shape))} | {traced:.2f} | {f:.2f} | {s:.2f} | "
              f"{f / s:.2f} | {bytes_text(estimate)} | {bytes_text(FLOW_MEMORY)} | "
              f"{bytes_text(peak_rss())} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
