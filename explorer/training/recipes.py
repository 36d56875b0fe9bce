"""Training recipes as presets: the optimiser, its schedule, the batch and the
augmentation, as data.

``paper`` is He et al.'s CIFAR-10 recipe (Deep Residual Learning, 2015, section 4.2):
SGD with momentum 0.9, weight decay 1e-4, learning rate 0.1 divided by 10 at 50 % and
75 % of the run (the paper: at 32k and 48k of 64k iterations), batch 128, 4-pixel
pad-and-crop and horizontal flips. ``quick`` keeps the optimiser at half the rate and
drops the schedule and the augmentation, so that a few epochs on a CPU show how well each
network *optimises* (its training error), which is what the degradation claim is about.
On the built-in shapes (5 epochs of 25 steps, one CPU thread each), at 0.1 ResNet-56
was still at 87.6 % training error after 3 epochs (plain-56 at 88.5 %); at 0.05 it ended
at 23.5 %, at 0.02 at 41.3 %. It warms up from a tenth of the rate over its first epoch,
as He et al. did for ResNet-110 ("0.1 is slightly too large to start converging"). At
0.1, on an earlier and harder version of the built-in shapes (5 epochs of 32 steps):
without the warm-up plain-56 ended at 87.5 % training error against 81.3 % with it, and
ResNet-56 at 83.5 % against 74.8 % (plain-20 did better without it, 26.4 % against
40.0 %, but the lessons are about the deep networks). Both presets train the papers'
initialisation (see ``run.fit_options``).
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
    warmup_epochs: float = 0.0  # lr rises linearly from lr/10 over these first epochs

    def lr_at_step(self, epoch: int, step: int, steps: int, epochs: int) -> float:
        """The learning rate of one step: the epoch's rate, scaled during warm-up."""
        lr = self.lr_at(epoch, epochs)
        done = epoch + step / steps
        if done < self.warmup_epochs:
            lr *= 0.1 + 0.9 * done / self.warmup_epochs
        return lr

    def lr_at(self, epoch: int, epochs: int) -> float:
        """The learning rate of 0-based ``epoch`` in a run of ``epochs``."""
        drops = sum(epoch >= round(m * epochs) for m in self.milestones)
        return self.lr * 0.1 ** drops

    def as_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, Recipe] = {
    "paper": Recipe("paper", "He et al. 2015, CIFAR-10 (SGD 0.1, ÷10 at 50 % and 75 %, "
                             "crop + flip)", epochs=164),
    "quick": Recipe("quick", "Quick, for a CPU (SGD 0.05 after a 1-epoch warm-up from "
                             "0.005, no augmentation)",
                    epochs=5, lr=0.05, milestones=(), pad_crop=0, flip=False,
                    warmup_epochs=1.0),
    # SGD 0.1 and quick's warm-up with a batch of 8: a few hundred scenes give enough steps an epoch
    # (at batch 128, 300 scenes are 3 steps). Every zoo segmentation network trains with it
    # from random weights when its options add batch norm (FCN: batch_norm=True).
    "quick-seg": Recipe("quick-seg", "Quick segmentation, for a CPU (SGD 0.1 after a 1-epoch "
                                     "warm-up from 0.01, batch 8, no augmentation)",
                        epochs=8, batch_size=8, milestones=(), pad_crop=0, flip=False,
                        warmup_epochs=1.0),
}


def get_recipe(name: str) -> Recipe:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"no preset {name!r}; presets are " + ", ".join(PRESETS)) from None
