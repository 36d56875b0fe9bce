"""Training recipes as presets: the optimiser, its schedule, the batch and the
augmentation, as data.

``paper`` is He et al.'s CIFAR-10 recipe (Deep Residual Learning, 2015, section 4.2):
SGD with momentum 0.9, weight decay 1e-4, learning rate 0.1 divided by 10 at 50 % and
75 % of the run (the paper: at 32k and 48k of 64k iterations), batch 128, 4-pixel
pad-and-crop and horizontal flips. ``quick`` keeps the optimiser and drops the schedule
and the augmentation, so that a few epochs on a CPU show how well each network
*optimises* (its training error), which is what the degradation claim is about.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Recipe:
    name: str
    title: str
    epochs: int
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    milestones: tuple[float, ...] = (0.5, 0.75)  # fractions of the run where lr ÷ 10
    pad_crop: int = 4  # pixels of zero padding before a random crop back to size
    flip: bool = True  # random horizontal flips (where the data set allows them)

    def lr_at(self, epoch: int, epochs: int) -> float:
        """The learning rate of 0-based ``epoch`` in a run of ``epochs``."""
        drops = sum(epoch >= round(m * epochs) for m in self.milestones)
        return self.lr * 0.1 ** drops

    def as_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, Recipe] = {
    "paper": Recipe("paper", "He et al. 2015, CIFAR-10 (SGD 0.1, ÷10 at 50 % and 75 %, "
                             "crop + flip)", epochs=164),
    "quick": Recipe("quick", "Quick, for a CPU (SGD 0.1, constant, no augmentation)",
                    epochs=5, milestones=(), pad_crop=0, flip=False),
}


def get_recipe(name: str) -> Recipe:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"no preset {name!r}; presets are " + ", ".join(PRESETS)) from None
