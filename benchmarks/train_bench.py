"""Training speed of the lessons' networks, through the real training loop (data and
augmentation on the device, no per-step host syncs).

    python benchmarks/train_bench.py [--models M ...] [--devices cpu cuda] [--threads 1 2]
                                     [--steps 6] [--images N] [--repeat 2] [--layouts]

On the CPU, each network trains ``--steps`` steps of the quick preset's batch after two
warm-up steps; the table gives the median wall time and the CPU time of a step (the CPU
time is what a quiet machine would take on one thread, whatever the load), the test pass's
cost per image, and from them one epoch and the whole quick preset of a lesson (its images,
test images and epochs). A second table adds up each training lesson's two networks: the
estimate from one thread's CPU time is an upper bound for two quiet cores. The machine's
load average is printed beside the figures.

On CUDA (when present), one whole epoch of ``--images`` (default 50,000) CIFAR-sized
images per network, data on the device, timed from one synchronize to the next.
``--layouts`` adds CPU rows with the contiguous layout, to compare with channels_last.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LESSON_SET = "shapes"


@dataclass(frozen=True)
class StepTimes:
    wall: float  # median seconds of a training step
    cpu: float  # CPU seconds of a step (this process, all threads)
    eval_per_image: float  # wall seconds of the test pass, per image


def trainer_for(name: str, train: int, test: int, device: str, recipe):
    from explorer.training import load_dataset, prepare
    from explorer.training.run import RunSpec

    data = load_dataset(LESSON_SET, train_size=train, test_size=test)
    [c] = prepare(RunSpec(((name, {}),), recipe, 1000, device), data)
    return c.trainer


def cpu_steps(name: str, steps: int, recipe, contiguous: bool) -> StepTimes:
    """``steps`` steps of one epoch, each timed (wall and CPU), after two warm-up steps."""
    import torch

    from explorer.training.loop import Acceleration

    trainer = trainer_for(name, (steps + 2) * recipe.batch_size, 256, "cpu", recipe)
    if contiguous:
        trainer.accel = Acceleration(None, False)
        trainer.model = trainer.model.to(memory_format=torch.contiguous_format)
    walls, cpus = [], []
    mark = [time.perf_counter(), time.process_time()]

    def on_step(_report) -> None:
        now = time.perf_counter(), time.process_time()
        walls.append(now[0] - mark[0])
        cpus.append(now[1] - mark[1])
        mark[:] = now

    evaluate = trainer.evaluate
    trainer.evaluate = lambda: (0.0, 0.0, None, None)
    trainer.run_epoch(on_step=on_step, report_every=10**9)
    start = time.perf_counter()
    evaluate()
    eval_per_image = (time.perf_counter() - start) / len(trainer.data.test_x)
    return StepTimes(statistics.median(walls[2:]), statistics.median(cpus[2:]),
                     eval_per_image)


def cuda_epoch(name: str, images: int, repeat: int, recipe) -> float:
    """Median seconds of a whole epoch on CUDA (the test pass excluded)."""
    import torch

    trainer = trainer_for(name, images, 100, "cuda", recipe)
    trainer.evaluate = lambda: (0.0, 0.0, None, None)
    whole = trainer.data
    trainer.data = whole.subset(2 * recipe.batch_size, 10)  # warm-up: cuDNN, allocator
    trainer.run_epoch()
    trainer.data = whole
    times = []
    for _ in range(repeat):
        torch.cuda.synchronize()
        start = time.perf_counter()
        trainer.run_epoch()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def quick_budget() -> tuple[int, int, int, int]:
    """(training images, test images, epochs, steps per epoch) of the lessons' quick
    preset on the built-in set."""
    import math

    from explorer.training import get_recipe
    from explorer.training.datasets import DEFAULT_SIZES
    from explorer.training.lessons import load_training_lessons

    recipe = get_recipe("quick")
    lesson = next(x for x in load_training_lessons() if x.dataset == LESSON_SET)
    train, test = DEFAULT_SIZES[LESSON_SET]
    train = lesson.train_size or train
    return train, test, recipe.epochs, math.ceil(train / recipe.batch_size)


def lesson_models() -> list[str]:
    from explorer.training.lessons import load_training_lessons

    names: list[str] = []
    for lesson in load_training_lessons():
        if lesson.dataset == LESSON_SET:
            names += [m for m, _ in lesson.models if m not in names]
    return names


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", help="default: the training lessons' networks")
    parser.add_argument("--devices", nargs="+",
                        default=["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    parser.add_argument("--threads", nargs="+", type=int, default=[1],
                        help="CPU thread counts to measure (default: 1)")
    parser.add_argument("--steps", type=int, default=6, help="timed CPU steps per network")
    parser.add_argument("--images", type=int, default=50_000, help="CUDA epoch size")
    parser.add_argument("--repeat", type=int, default=2, help="CUDA epochs per network")
    parser.add_argument("--layouts", action="store_true",
                        help="also time the CPU with the contiguous layout")
    args = parser.parse_args(argv)
    from explorer.training import get_recipe

    recipe = get_recipe("quick")
    models = args.models or lesson_models()
    train, test, epochs, steps = quick_budget()
    print(f"torch {torch.__version__}; quick preset: {train:,} training and {test:,} test "
          f"images, {epochs} epochs of {steps} steps of {recipe.batch_size}"
          + (f"; {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""))
    table: dict[tuple[str, int], StepTimes] = {}
    if "cpu" in args.devices:
        print(f"\nCPU, load average {os.getloadavg()[0]:.1f} at the start "
              f"({os.cpu_count()} cores)")
        print("| model | threads | layout | step (wall) | step (CPU) | test / image "
              "| epoch (wall) | quick preset (wall) | quick preset (1-thread CPU) |")
        print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
        for threads in args.threads:
            torch.set_num_threads(threads)
            for name in models:
                for contiguous in ([False, True] if args.layouts else [False]):
                    t = cpu_steps(name, args.steps, recipe, contiguous)
                    if not contiguous:
                        table[name, threads] = t
                    epoch = steps * t.wall + test * t.eval_per_image
                    bound = (f"{epochs * (steps * t.cpu + test * t.eval_per_image) / 60:.1f} min"
                             if threads == 1 else "-")
                    print(f"| {name} | {threads} | "
                          f"{'contiguous' if contiguous else 'channels_last'} | "
                          f"{t.wall:.3f} s | {t.cpu:.3f} s | {t.eval_per_image * 1e3:.2f} ms | "
                          f"{epoch:.1f} s | {epochs * epoch / 60:.1f} min | "
                          f"{bound} |", flush=True)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
        pairs = lesson_pairs(models)
        if pairs and 1 in args.threads:
            more = [n for n in args.threads if n != 1]
            print("\n| lesson | networks | quick preset, both (1-thread CPU: an upper bound "
                  "for 2 quiet cores) |" + "".join(f" {n} threads (wall) |" for n in more))
            print("|---|---|---:|" + "---:|" * len(more))

            def total(m: str, threads: int, cpu: bool) -> float:
                t = table[m, threads]
                return epochs * (steps * (t.cpu if cpu else t.wall) + test * t.eval_per_image)

            for lesson_id, (a, b) in pairs:
                bound = (total(a, 1, True) + total(b, 1, True)) / 60
                walls = "".join(f" {(total(a, n, False) + total(b, n, False)) / 60:.1f} min |"
                                for n in more)
                print(f"| {lesson_id} | {a} + {b} | {bound:.1f} min |{walls}")
    if any(d.startswith("cuda") for d in args.devices):
        if not torch.cuda.is_available():
            print("\nCUDA: no GPU here")
        else:
            print(f"\n| model | device | images | epoch (median of {args.repeat}) | images/s |")
            print("|---|---|---:|---:|---:|")
            paper = replace(get_recipe("paper"), epochs=1000)
            for name in models:
                t = cuda_epoch(name, args.images, args.repeat, paper)
                print(f"| {name} | cuda | {args.images:,} | {t:.2f} s | {args.images / t:,.0f} |",
                      flush=True)
    return 0


def lesson_pairs(models: list[str]) -> list[tuple[str, tuple[str, str]]]:
    from explorer.training.lessons import load_training_lessons

    return [(x.id, (x.models[0][0], x.models[1][0])) for x in load_training_lessons()
            if x.dataset == LESSON_SET and len(x.models) == 2
            and all(m in models for m, _ in x.models)]


if __name__ == "__main__":
    raise SystemExit(main())
