"""Inference benchmark: plain forward vs forward with all-layer capture, latency (median)
and peak memory, for ResNet-50, VGG-16 and U-Net, on the CPU and on CUDA when present.

    python benchmarks/inference_bench.py [--repeat 15] [--devices cpu cuda]

Each configuration runs in its own process, so peak memory (CPU: max RSS; CUDA: peak
allocated) is its own. "image→maps" adds loading and preprocessing a 640x480 PNG.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODELS = {"resnet50": (1, 3, 224, 224), "vgg16": (1, 3, 224, 224),
          "unet_padded": (1, 1, 256, 256)}


def worker(name: str, mode: str, device: str, repeat: int) -> dict:
    import numpy as np
    import torch
    from PIL import Image

    from explorer import zoo
    from explorer.graph import trace
    from explorer.inference.capture import capture
    from explorer.inference.devices import tune_cpu_allocator
    from explorer.inference.runner import run_image

    torch.manual_seed(0)
    info = zoo.get_info(name)
    model = zoo.build(name)
    shape = MODELS[name]
    graph = trace(model, shape, name=name)
    model.to(device)
    x = torch.randn(shape, device=device)
    if device == "cpu":
        tune_cpu_allocator()  # the app and CLI do this before capturing; same for both modes
    tmp = Path(tempfile.mkdtemp()) / "in.png"
    Image.fromarray((np.random.rand(480, 640, 3) * 255).astype("uint8")).save(tmp)

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    def once():
        with torch.inference_mode():
            if mode == "plain":
                model(x)
            elif mode == "capture":
                capture(model, x, graph, "all", budget_mb=None)
            else:  # image -> all feature maps
                run_image(model, info, graph, tmp, "all", device, budget_mb=None)
        sync()

    for _ in range(3):
        once()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        once()
        times.append(time.perf_counter() - t)
    peak = (torch.cuda.max_memory_allocated() if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"median_ms": 1000 * statistics.median(times), "peak_mb": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--devices", nargs="*")
    parser.add_argument("--worker", nargs=3, metavar=("MODEL", "MODE", "DEVICE"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.repeat)))
        return
    import torch

    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    print("| model | device | plain ms | capture-all ms | ratio | image→maps ms | "
          "plain peak MB | capture peak MB |")
    print("|---|---|---|---|---|---|---|---|")
    for device in devices:
        for name in MODELS:
            res = {}
            for mode in ("plain", "capture", "image"):
                out = subprocess.run([sys.executable, __file__, "--repeat", str(args.repeat),
                                      "--worker", name, mode, device],
                                     capture_output=True, text=True, check=True)
                res[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            p, c, i = res["plain"], res["capture"], res["image"]
            print(f"| {name} | {device} | {p['median_ms']:.1f} | {c['median_ms']:.1f} | "
                  f"{c['median_ms'] / p['median_ms']:.2f} | {i['median_ms']:.1f} | "
                  f"{p['peak_mb']:.0f} | {c['peak_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
