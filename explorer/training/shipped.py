"""The trained LeNet-5 shipped with the app: LeNet-5 trained on the shipped UCI digits by
the lab's own training code, so that it is reproducible with one command:

    python -m explorer.training.shipped [--out resources/trained]

It writes lenet5_digits.safetensors (about 250 kB) and lenet5_digits.json (the options,
the recipe, the seed, every epoch's figures and the test accuracy on the 359 held-out
digits). Model ▸ Load trained LeNet-5 loads it; tests/test_trained_lenet.py checks the
shipped file's accuracy on the held-out digits.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..export.files import check_folder, write_atomic, write_text_atomic
from .datasets import load_dataset
from .recipes import Recipe
from .run import RunSpec, prepare, train_side_by_side

MODEL, OPTIONS, DATASET, SEED = "lenet5", {}, "digits", 0
WEIGHTS, META = "lenet5_digits.safetensors", "lenet5_digits.json"
# He et al.'s optimiser and step schedule, at LeNet's scale: no augmentation (a flipped or
# shifted 8×8 digit is another digit), a smaller batch for 1,438 images.
RECIPE = Recipe("digits", "LeNet-5 on the UCI digits (SGD 0.05, ÷10 at 50 % and 75 %)",
                epochs=20, batch_size=32, lr=0.05, pad_crop=0, flip=False)


def train(out: Path) -> dict:
    import torch
    from safetensors.torch import save_file

    torch.set_num_threads(1)  # one thread: the same weights on every machine, and fast
    data = load_dataset(DATASET)
    [c] = prepare(RunSpec(((MODEL, OPTIONS),), RECIPE, RECIPE.epochs, "cpu", SEED), data)
    start = time.perf_counter()
    train_side_by_side([c], on_epoch=lambda c, m: print(f"epoch {m.epoch:>2}  {m.summary()}",
                                                         flush=True))
    out = check_folder(out)
    state = {k: v.detach().cpu().contiguous() for k, v in c.model.state_dict().items()}
    write_atomic(out / WEIGHTS, lambda tmp: save_file(state, str(tmp)))
    final = c.history[-1]
    meta = {"model": MODEL, "options": c.options, "dataset": DATASET,
            "weights": WEIGHTS, "labels": "digits", "seed": SEED,
            "recipe": RECIPE.as_dict(), "test_images": len(data.test_x),
            "test_accuracy": round(1 - final.test_error, 4),
            "history": [m.as_dict() for m in c.history],
            "seconds": round(time.perf_counter() - start, 1),
            "command": "python -m explorer.training.shipped"}
    write_text_atomic(out / META, json.dumps(meta, indent=1))
    print(f"test accuracy on {len(data.test_x)} held-out digits: {1 - final.test_error:.1%}; "
          f"wrote {out}")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[2] / "resources" / "trained")
    train(parser.parse_args(argv).out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
