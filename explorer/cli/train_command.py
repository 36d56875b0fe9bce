"""``explorer train``: train a zoo model (and another beside it, on the same data in the
same order) and write the run folder: metrics.csv, curves.png, weights.safetensors,
run.json and a checkpoint per model each epoch (``--resume`` continues from them)."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

from .common import CLIError, parse_options


def cmd_train(args: argparse.Namespace) -> int:
    from ..export.files import check_folder, check_not_input

    out = check_folder(args.output, create=False)
    if out.is_dir() and any(out.glob("checkpoint-*.safetensors")) and not args.resume:
        raise CLIError(f"{out}: holds a run already; --resume continues it, or choose "
                       f"another folder")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from ..inference.devices import choose_device
    from ..training import get_recipe, load_dataset, prepare, train_side_by_side
    from ..training.run import RunSpec, resume, run_files, title

    try:
        device = choose_device(args.device)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    recipe = get_recipe(args.preset)
    if args.batch_size:
        recipe = replace(recipe, batch_size=args.batch_size)
    epochs = args.epochs or recipe.epochs
    models = [(args.model, parse_options(args.option))]
    if args.vs:
        models.append((args.vs, parse_options(args.vs_option)))

    def progress(done: int, total: int | None) -> None:
        if total:
            print(f"\rfetching {args.dataset}: {done / 2**20:.1f} of {total / 2**20:.1f} MiB",
                  end="" if done < total else "\n", file=sys.stderr, flush=True)

    data = load_dataset(args.dataset, train_size=args.train_size, test_size=args.test_size,
                        seed=args.seed, progress=progress)
    print(data.describe())
    contenders = prepare(RunSpec(tuple(models), recipe, epochs, str(device), args.seed), data)
    for path in run_files(out, contenders):  # a pipe or an input there: refused now
        check_not_input(path)
    if args.resume and resume(out, contenders):
        print("resumed at epoch " + ", ".join(f"{c.label} {c.trainer.epoch}"
                                              for c in contenders))
    print(f"{recipe.title}; {epochs} epochs, batch {recipe.batch_size}, on {device}")
    start = time.perf_counter()

    def on_epoch(c, m) -> None:
        print(f"{c.label:<18} epoch {m.epoch:>3}/{epochs}  train loss {m.train_loss:.3f}  "
              f"{m.summary()}  ({m.seconds:.0f} s)", flush=True)

    out.mkdir(parents=True, exist_ok=True)
    train_side_by_side(contenders, on_epoch=on_epoch, out=out)
    for c in contenders:
        print(f"{c.label}: {title(c, data)}")
    print(f"wrote {out}/metrics.csv, curves.png, weights.safetensors and run.json "
          f"in {time.perf_counter() - start:.0f} s")
    return 0


# Named here without importing torch (the parser is built at every start); a test checks
# them against explorer.training's own lists.
DATASETS = ("digits", "shapes", "shapes-seg", "mnist", "cifar10")
PRESETS = ("quick", "paper", "quick-seg")


def add_train_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model (and another beside it) on a data set; "
                                     "writes metrics.csv, curves.png, weights.safetensors")
    p.add_argument("model")
    p.add_argument("--dataset", default="shapes",
                   help=f"{'|'.join(DATASETS)} or a folder with one sub-folder per class "
                        f"(default: shapes)")
    p.add_argument("--vs", metavar="MODEL2", help="a second model trained on the same data "
                                                  "in the same order")
    p.add_argument("--epochs", type=int, help="default: the preset's")
    p.add_argument("--preset", choices=PRESETS, default="quick")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: the best available)")
    p.add_argument("-o", "--output", required=True, help="the run folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--train-size", type=int, help="use (or generate) this many training images")
    p.add_argument("--test-size", type=int, help="use (or generate) this many test images")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="the model's")
    p.add_argument("--vs-option", action="append", metavar="KEY=VALUE", help="MODEL2's")
    p.add_argument("--resume", action="store_true", help="continue the run in the folder")
    p.add_argument("--threads", type=int, help="CPU threads for torch (on a busy machine, 1 "
                                               "can be many times faster than 2)")
    p.set_defaults(func=cmd_train)

