"""Command-line start-up: whole-process times of the CLI next to a bare ``import torch``.

    python benchmarks/cli_bench.py [--repeat 5] [--module]

Each command runs as its own process, in rounds (every command once per round, so that
a busy spell of the machine touches them all alike); the table gives the median and the
fastest of --repeat runs, and the median's difference and ratio to ``import torch``.
Commands that need no model should not pay for torch at all; commands that build one
should cost torch plus their own work.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def explorer_command(module: bool) -> list[str]:
    """The console script beside this interpreter, else (or with --module) ``python -m
    explorer`` run in this checkout, which then takes precedence over an installed copy."""
    script = Path(sys.executable).with_name("explorer")
    return [str(script)] if script.exists() and not module else [sys.executable, "-m",
                                                                 "explorer"]


def commands(out: Path, module: bool) -> list[tuple[str, list[str]]]:
    explorer = explorer_command(module)
    return [
        ('python -c "import torch"', [sys.executable, "-c", "import torch"]),
        ("explorer --help", [*explorer, "--help"]),
        ("explorer list", [*explorer, "list"]),
        ("explorer graph resnet50 -o x.svg", [*explorer, "graph", "resnet50", "-o",
                                              str(out / "x.svg")]),
        ("explorer graph densenet201 --depth 99 -o x.json",
         [*explorer, "graph", "densenet201", "--depth", "99", "-o", str(out / "x.json")]),
        ("explorer summary vgg16 --format json",
         [*explorer, "summary", "vgg16", "--format", "json"]),
    ]


def run_once(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()[-300:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command")
    parser.add_argument("--module", action="store_true",
                        help="run `python -m explorer` from this checkout (to compare checkouts)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmds = commands(Path(tmp), args.module)
        times: dict[str, list[float]] = {label: [] for label, _ in cmds}
        for _ in range(args.repeat):
            for label, argv in cmds:
                times[label].append(run_once(argv))
    base = statistics.median(times[cmds[0][0]])
    cols = ["command", "median s", "fastest s", "− import torch s", "× import torch"]
    print("| " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * (len(cols) - 1))
    for label, _ in cmds:
        median = statistics.median(times[label])
        print(f"| `{label}` | {median:.2f} | {min(times[label]):.2f} | {median - base:+.2f} | "
              f"{median / base:.2f} |")
    print(f"\nmedian of {args.repeat} whole-process runs each, {sys.platform}, "
          f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
