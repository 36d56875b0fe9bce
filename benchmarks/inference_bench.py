"""Inference benchmark: a plain forward pass vs the same pass capturing every node, for
every zoo model (or those named), on the CPU and on CUDA when present.

    python benchmarks/inference_bench.py [--models all | NAME ...] [--repeat 7]
                                         [--devices cpu cuda] [--image]

Each model runs in its own process. Inside it, after two warm-up runs of each, plain and
capture runs alternate (plain, capture, plain, capture, ...): "ratio" is the median of
each capture's time over the plain run just before it, so load that changes during the
run weighs on both sides of each ratio alike. "path" says how capture saw every node:
module hooks, hooks and a few cheap ops computed again ("replayed"), or the function
mode for the whole pass. "kept MB" is what capture-all keeps; on CUDA "peak MB" is
torch's peak allocation for the plain pass and for capture. ``--image`` adds image → all
feature maps (load and preprocess a 640x480 PNG, then capture): the app's and the CLI's
whole path.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_MODELS = ("resnet50", "vgg16", "unet_padded")


def worker(name: str, device: str, repeat: int, image: bool) -> dict:
    import numpy as np
    import torch
    from PIL import Image

    from explorer import zoo
    from explorer.graph import trace
    from explorer.inference.capture import capture, plan_capture
    from explorer.inference.devices import tune_cpu_allocator
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
    path = ("function mode" if plan.recorded else
            f"hooks + {len(plan.replays)} replayed" if plan.replays else "hooks")
    tmp = Path(tempfile.mkdtemp()) / "in.png"
    Image.fromarray((np.random.rand(480, 640, 3) * 255).astype("uint8")).save(tmp)
    cuda = device.startswith("cuda")
    kept = [0]

    def plain():
        model(x)

    def capture_all():
        kept[0] = capture(model, x, graph, "all", budget_mb=None).nbytes

    def image_to_maps():
        run_image(model, info, graph, tmp, "all", device, budget_mb=None)

    def timed(run) -> float:
        with torch.inference_mode():
            if cuda:
                torch.cuda.synchronize()
            t = time.perf_counter()
            run()
            if cuda:
                torch.cuda.synchronize()
            return time.perf_counter() - t

    runs = {"plain": plain, "capture": capture_all, **({"image": image_to_maps} if image else {})}
    peak = {}
    for mode, run in runs.items():  # warm-up; on CUDA, each mode's own peak
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        timed(run)
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
    out.update(ratio=ratio, path=path, kept_mb=kept[0] / 2**20, peak=peak,
               input="x".join(map(str, shape)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", default=list(DEFAULT_MODELS),
                        help="model names, or 'all' for the whole zoo")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--devices", nargs="*")
    parser.add_argument("--image", action="store_true", help="also time image → all maps")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "DEVICE"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.repeat, args.image)))
        return
    import torch

    from explorer import zoo

    models = zoo.list_models() if args.models == ["all"] else args.models
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    print(f"torch {torch.__version__}; {args.repeat} alternating runs each, medians"
          + (f"; GPU: {torch.cuda.get_device_name()}" if "cuda" in devices else ""))
    print("| model | input | device | plain ms | capture-all ms | ratio | path | kept MB |"
          + (" image→maps ms |" if args.image else "") + " peak MB plain / capture |")
    print("|---|---|---|---|---|---|---|---|" + ("---|" if args.image else "") + "---|")
    for device in devices:
        for name in models:
            done = subprocess.run([sys.executable, __file__, "--repeat", str(args.repeat),
                                   *(["--image"] if args.image else []),
                                   "--worker", name, device], capture_output=True, text=True)
            if done.returncode != 0:
                reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
                print(f"| {name} | | {device} | {reason} |", flush=True)
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            peak = (f"{r['peak']['plain']:.0f} / {r['peak']['capture']:.0f}" if r["peak"]
                    else "")
            print(f"| {name} | {r['input']} | {device} | {r['plain']:.1f} | "
                  f"{r['capture']:.1f} | {r['ratio']:.2f} | {r['path']} | "
                  f"{r['kept_mb']:.0f} |" + (f" {r['image']:.1f} |" if args.image else "")
                  + f" {peak} |", flush=True)


if __name__ == "__main__":
    main()
