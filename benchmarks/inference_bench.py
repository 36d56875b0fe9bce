"""Inference benchmark: a plain forward pass vs the same pass capturing every node, for
every zoo model (or those named), on the CPU and on CUDA when present.

    python benchmarks/inference_bench.py [--models all | NAME ...] [--repeat 7]
                                         [--devices cpu cuda] [--image] [--quick]
                                         [--threads N] [--clock wall | cpu]

Each model runs in its own process. Inside it, after two warm-up runs of each, plain and
capture runs alternate (plain, capture, plain, capture, ...): "ratio" is the median of
each capture's time over the plain run just before it, so load that changes during the
run weighs on both sides of each ratio alike. "path" says how capture saw every node:
the model's torch.fx program returning every node ("fx program"; "program ms" is what
making it cost, once per live model: the first capture's extra), or else the hook path:
the modules that see them ("modules", their forwards wrapped for the pass), those and a
few cheap ops computed again ("replayed"), or the function mode for the whole pass.
"kept MB" is what capture-all keeps; on CUDA "peak MB" is
torch's peak allocation for the plain pass and for capture. ``--image`` adds image → all
feature maps (load and preprocess a 640x480 PNG, then capture): the app's and the CLI's
whole path.

"floor" is the model's fx program returning every node, called directly (in-place
activations out of place, as capture runs them): a forward pass that holds every node's
tensor alive until it returns, and does nothing else. That is what any capture of every
node pays at least, since none of those tensors may be overwritten or freed. On the CPU
that is not only the writes to memory that stays alive: the model's own scratch buffers
(a convolution's im2col columns) no longer land in freed, cache-hot blocks, which live
tensors now take (a CIFAR-size 3x3 convolution: 173 µs plain, 270 µs with its outputs
held, 193 µs with them copied aside). A model fx cannot trace holds every leaf module's
output through forward hooks instead (which adds the hooks' own cost). "capture/floor"
is what capture costs beyond it (its checks and bookkeeping, or the hook path's wrapped
forwards, copies and replays).
Capture-all here is eager: when it returns every node's tensor is materialized.

``--quick`` runs 3 alternating rounds after one warm-up (instead of ``--repeat`` after
two), at each model's full input. On a shared machine, ``--threads 1 --clock cpu`` times
the calling thread's CPU time with one intra-op thread: every kernel then runs in that
thread, so time spent waiting for another process's turn is left out of both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_MODELS = ("resnet50", "vgg16", "unet_padded")


def worker(name: str, device: str, repeat: int, image: bool, warmup: int = 2,
           clock: str = "wall") -> dict:
    import numpy as np
    import torch
    from PIL import Image

    from explorer import zoo
    from explorer.graph import trace
    from explorer.inference.capture import capture, plan_capture
    from explorer.inference.capture_fx import program_for, run_module
    from explorer.inference.devices import tune_cpu_allocator
    from explorer.inference.inplace import out_of_place, switchable
    from explorer.inference.runner import run_image

    torch.manual_seed(0)
    info = zoo.get_info(name)
    model = zoo.build(name).eval()
    shape = zoo.input_shape(name)
    graph = trace(model, shape, name=name)
    model.to(device)
    x = torch.randn(shape, device=device)
    if device == "cpu":
        tune_cpu_allocator()  # the app and CLI do this before capturing; same for both modes
    nodes = [n for n, d in graph.nx.nodes(data=True) if d["kind"] not in ("input", "output")]
    plan = plan_capture(graph, nodes)
    start = time.perf_counter()
    entry = program_for(model, graph)  # what the first capture makes
    program_ms = 1000 * (time.perf_counter() - start)
    path = ("fx program" if entry.program is not None else "function mode" if plan.recorded
            else f"modules + {len(plan.replays)} replayed" if plan.replays else "modules")
    tmp = Path(tempfile.mkdtemp()) / "in.png"
    Image.fromarray((np.random.rand(480, 640, 3) * 255).astype("uint8")).save(tmp)
    cuda = device.startswith("cuda")
    kept = [0]

    def plain():
        model(x)

    def capture_all():
        kept[0] = capture(model, x, graph, "all", budget_mb=None).nbytes

    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    held: list = []

    def hold(module, args, output):
        held.append(output)

    def floor():
        if entry.program is not None:
            every = run_module(entry, tuple(nodes))
            with out_of_place(entry.program.switch):
                every(x)
            return
        handles = [m.register_forward_hook(hold) for m in leaves]
        try:
            with out_of_place(m for m in leaves if switchable(m)):
                model(x)
        finally:
            for h in handles:
                h.remove()
            held.clear()

    def image_to_maps():
        run_image(model, info, graph, tmp, "all", device, budget_mb=None)

    def timed(run) -> float:
        with torch.inference_mode():
            if cuda:
                torch.cuda.synchronize()
            t = now()
            run()
            if cuda:
                torch.cuda.synchronize()
            return now() - t

    now = time.thread_time if clock == "cpu" else time.perf_counter
    runs = {"plain": plain, "capture": capture_all, "floor": floor,
            **({"image": image_to_maps} if image else {})}
    peak = {}
    for mode, run in runs.items():  # warm-up; on CUDA, each mode's own peak
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        for _ in range(warmup):
            timed(run)
        if cuda:
            peak[mode] = torch.cuda.max_memory_allocated() / 2**20
    times: dict[str, list[float]] = {mode: [] for mode in runs}
    for _ in range(repeat):
        for mode, run in runs.items():
            times[mode].append(timed(run))
    out = {mode: 1000 * statistics.median(ts) for mode, ts in times.items()}
    # each capture against the plain run just before it: the load they saw was alike
    ratio = statistics.median(c / p for p, c in zip(times["plain"], times["capture"]))
    floor_ratio = statistics.median(f / p for p, f in zip(times["plain"], times["floor"]))
    beyond = statistics.median(c / f for f, c in zip(times["floor"], times["capture"]))
    out.update(ratio=ratio, floor_ratio=floor_ratio, beyond=beyond, path=path,
               program_ms=program_ms,
               kept_mb=kept[0] / 2**20, peak=peak,
               input="x".join(map(str, shape)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", default=list(DEFAULT_MODELS),
                        help="model names, or 'all' for the whole zoo")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--devices", nargs="*")
    parser.add_argument("--image", action="store_true", help="also time image → all maps")
    parser.add_argument("--quick", action="store_true",
                        help="3 alternating rounds after one warm-up, full inputs")
    parser.add_argument("--threads", type=int, help="torch's intra-op threads (default: its own)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: the calling thread's CPU time (meant for --threads 1)")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "DEVICE"))
    args = parser.parse_args()
    repeat, warmup = (3, 1) if args.quick else (args.repeat, 2)
    if args.worker:
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        print(json.dumps(worker(*args.worker, repeat, args.image, warmup, args.clock)))
        return
    import torch

    from explorer import zoo

    models = zoo.list_models() if args.models == ["all"] else args.models
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    threads = args.threads or torch.get_num_threads()
    print(f"torch {torch.__version__}; {repeat} alternating rounds after {warmup} warm-up"
          f"{' (--quick)' if args.quick else ''}, medians; {threads} CPU thread(s); "
          f"clock: {'CPU time of the calling thread' if args.clock == 'cpu' else 'wall'}; "
          f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}"
          + (f"; GPU: {torch.cuda.get_device_name()}" if "cuda" in devices else ""))
    print("| model | input | device | plain ms | capture-all ms | ratio | floor ratio | "
          "capture/floor | path | program ms | kept MB |"
          + (" image→maps ms |" if args.image else "")
          + " peak MB plain / capture |")
    print("|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" if args.image else "") + "---|")
    ratios: dict[str, float] = {}
    floors: list[float] = []
    beyond: list[float] = []
    for device in devices:
        for name in models:
            done = subprocess.run([sys.executable, __file__, "--repeat", str(args.repeat),
                                   *(["--image"] if args.image else []),
                                   *(["--quick"] if args.quick else []),
                                   *(["--threads", str(args.threads)] if args.threads else []),
                                   "--clock", args.clock, "--worker", name, device],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
                print(f"| {name} | | {device} | {reason} |", flush=True)
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            ratios[f"{name} ({device})"] = r["ratio"]
            floors.append(r["floor_ratio"])
            beyond.append(r["beyond"])
            peak = (f"{r['peak']['plain']:.0f} / {r['peak']['capture']:.0f}" if r["peak"]
                    else "")
            print(f"| {name} | {r['input']} | {device} | {r['plain']:.1f} | "
                  f"{r['capture']:.1f} | {r['ratio']:.2f} | {r['floor_ratio']:.2f} | "
                  f"{r['beyond']:.2f} | {r['path']} | {r['program_ms']:.0f} | "
                  f"{r['kept_mb']:.0f} |"
                  + (f" {r['image']:.1f} |" if args.image else "") + f" {peak} |", flush=True)
    if len(ratios) > 1:
        worst = sorted(ratios, key=ratios.get, reverse=True)
        print(f"\n{len(ratios)} runs: capture/plain median {statistics.median(ratios.values()):.2f}"
              f", max {ratios[worst[0]]:.2f}; {sum(v <= 1.15 for v in ratios.values())} at or "
              f"under 1.15; floor/plain median {statistics.median(floors):.2f} "
              f"({sum(v <= 1.15 for v in floors)} at or under 1.15); capture/floor median "
              f"{statistics.median(beyond):.2f}, max {max(beyond):.2f}; slowest: "
              + ", ".join(f"{n} {ratios[n]:.2f}" for n in worst[:10]))
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
