"""Looking at a model while it trains: a copy of its weights taken on the training thread
at a step or epoch boundary, when asked.

The window asks (``SnapshotRequests.ask``, from the UI thread); the training thread,
between two optimizer steps or after an epoch's evaluation, serves the request from its
own step and epoch callbacks (``at_step``, ``at_epoch``): it copies the asked model to
the CPU in eval mode, so the copy never tears (no step runs while it is made) and the
images and flow passes the window runs on it never touch the model being trained. The
training loop itself is not changed: the callbacks ``train_side_by_side`` already calls
are its step boundaries.

    requests = SnapshotRequests()
    train_side_by_side(contenders, on_step=lambda c, r: requests.at_step(contenders, c, r),
                       on_epoch=lambda c, m: requests.at_epoch(contenders, c, m))
    requests.ask("resnet20_cifar")  # from another thread: served at the next boundary
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

from torch import nn

from .loop import StepReport
from .metrics import EpochMetrics
from .run import Contender


@dataclass(frozen=True)
class Snapshot:
    """One model's weights as they were at a step or epoch boundary of a run."""

    label: str  # how the run names the model ("lenet5 (activation=relu)")
    name: str  # its zoo name
    options: dict  # the options it was built with for the data
    module: nn.Module  # a copy, on the CPU, in eval mode
    epochs_done: int  # whole epochs finished when it was taken
    step: int  # steps done into the next epoch (0: at an epoch boundary)
    steps: int  # steps in an epoch (0 when not known: no step of the run had been made)
    epochs: int  # the run's length
    dataset: str
    last: EpochMetrics | None = None  # the last finished epoch's figures
    asked: bool = True  # asked for now (False: one of "every epoch")

    def title(self) -> str:
        """What the window's title says of these weights: which epoch the maps show."""
        if self.step:
            return (f"training on {self.dataset}: epoch {self.epochs_done + 1} of "
                    f"{self.epochs}, step {self.step} of {self.steps}")
        if self.last is None:
            return f"training on {self.dataset}: not trained yet"
        figure = (f"mean IoU {self.last.mean_iou:.3f}" if self.last.mean_iou is not None
                  else f"test error {self.last.test_error:.1%}")
        return (f"training on {self.dataset}: after epoch {self.epochs_done} of "
                f"{self.epochs}, {figure}")


def take(c: Contender, step: int = 0, steps: int = 0, asked: bool = True) -> Snapshot:
    """Copy ``c``'s model now; call it on the training thread between two steps."""
    module = copy.deepcopy(c.model).to("cpu").eval()
    for p in module.parameters():
        p.grad = None  # the copy carries the weights, not the last step's gradients
    trainer = c.trainer
    return Snapshot(c.label, c.name, dict(c.options), module, trainer.epoch, step, steps,
                    trainer.epochs, trainer.data.name,
                    trainer.history[-1] if trainer.history else None, asked)


class SnapshotRequests:
    """Which model the window wants a copy of, asked from any thread and served on the
    training thread; and whether a copy is wanted after every epoch."""

    def __init__(self, label: str | None = None, every_epoch: bool = False) -> None:
        self._lock = threading.Lock()
        self._asked = False
        self.label = label  # the model to copy (None: the run's first)
        self.every_epoch = every_epoch

    def ask(self, label: str | None = None) -> None:
        with self._lock:
            self._asked = True
            if label is not None:
                self.label = label

    @property
    def pending(self) -> bool:
        return self._asked

    def _take_if_asked(self, contenders: list[Contender], epoch_end: bool,
                       training: Contender, step: int, steps: int) -> Snapshot | None:
        with self._lock:
            asked = self._asked
            wanted = asked or (epoch_end and self.every_epoch)
            label = self.label or contenders[0].label
            target = next((c for c in contenders if c.label == label), contenders[0])
            if epoch_end and self.every_epoch and not self._asked and target is not training:
                return None  # every epoch: the model shown, after its own epochs
            if not wanted:
                return None
            self._asked = False
        if target is training and not epoch_end:
            return take(target, step, steps, asked)
        return take(target, asked=asked)  # between its epochs (the other one is training)

    def at_step(self, contenders: list[Contender], c: Contender,
                report: StepReport) -> Snapshot | None:
        """After ``c``'s optimizer step ``report.step``: a copy if one was asked. After an
        epoch's last step the copy waits for ``at_epoch`` (the weights are the same, and
        the epoch's test figures are known then)."""
        if report.step == report.steps:
            return None
        return self._take_if_asked(contenders, False, c, report.step, report.steps)

    def at_epoch(self, contenders: list[Contender], c: Contender,
                 metrics: EpochMetrics) -> Snapshot | None:
        """After ``c``'s epoch and its evaluation: a copy if asked, or every epoch."""
        return self._take_if_asked(contenders, True, c, 0, 0)
