"""Training speed: one epoch of the training loop (data and augmentation on the device,
no per-step host syncs) per model, on synthetic CIFAR-sized data, on the CPU and on CUDA
when present; and, with --quick, what the quick preset of a training lesson costs.

    python benchmarks/train_bench.py [--models resnet20_cifar resnet56_cifar]
                                     [--images 50000] [--devices cpu cuda] [--repeat 2]

Epoch time excludes the test pass; two warm-up steps (cuDNN autotuning, allocator, thread
pools) run first and are not counted. The paper recipe's batch (128), crop and flips are used.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def epoch_seconds(name: str, images: int, device: str, repeat: int, preset: str) -> list[float]:
    import torch

    from explorer.training import get_recipe, load_dataset, prepare
    from explorer.training.run import RunSpec

    data = load_dataset("shapes", train_size=images, test_size=100)
    recipe = get_recipe(preset)
    [c] = prepare(RunSpec(((name, {}),), recipe, repeat + 1, device), data)
    trainer = c.trainer
    trainer.evaluate = lambda: (0.0, 0.0, None)  # time the training pass only
    whole = trainer.data
    trainer.data = whole.subset(2 * recipe.batch_size, 10)  # warm-up steps, not counted
    trainer.run_epoch()
    trainer.history.clear()
    trainer.data = whole
    times = []
    for _ in range(repeat):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        trainer.run_epoch()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["resnet20_cifar", "resnet56_cifar"])
    parser.add_argument("--images", type=int, help="training images per epoch (default: "
                                                   "50,000 on CUDA, 4,000 on the CPU)")
    parser.add_argument("--devices", nargs="+",
                        default=["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--quick", action="store_true",
                        help="also extrapolate the quick preset (epochs × epoch time)")
    args = parser.parse_args(argv)
    from explorer.training import get_recipe

    quick = get_recipe("quick")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
          + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""))
    print("| model | device | images | epoch (median) | images/s |"
          + (" quick preset (est.) |" if args.quick else ""))
    print("|---|---|---:|---:|---:|" + ("---:|" if args.quick else ""))
    for device in args.devices:
        images = args.images or (50_000 if device.startswith("cuda") else 4_000)
        for name in args.models:
            times = epoch_seconds(name, images, device, args.repeat, args.preset)
            t = statistics.median(times)
            row = f"| {name} | {device} | {images:,} | {t:.2f} s | {images / t:,.0f} |"
            if args.quick:
                row += f" {t * quick.epochs * 4_000 / images / 60:.1f} min |"
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
