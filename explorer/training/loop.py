"""The training loop: one model, one data set, one recipe; seeded, resumable, cancellable
between steps. The data lives on the training device as uint8 tensors; each epoch's order
and augmentation are drawn at its start, so steps never wait on the host (the loss and
error are summed on the device and read once an epoch, or when a caller asks for a
running figure). On CUDA: bfloat16 autocast and channels_last.

Two Trainers built with the same seed see the same data in the same order: that is how a
network and the one it is compared with are trained alike.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..export.files import write_atomic
from .augment import InputFit, augment, plan_epoch
from .datasets import TensorData
from .metrics import (
    EpochMetrics,
    boundary_f1,
    boundary_tolerance,
    confusion,
    from_dict,
    mean_iou,
)
from .recipes import Recipe


class TrainingCancelled(Exception):
    """The cancel event was set; the model keeps the weights of the last finished step."""


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite."""


@dataclass(frozen=True)
class StepReport:
    epoch: int  # 0-based epoch being trained
    step: int  # steps done in this epoch
    steps: int
    running_loss: float | None  # mean loss so far this epoch (read every few steps only)


@dataclass(frozen=True)
class Acceleration:
    amp: torch.dtype | None  # autocast dtype, or None for full precision
    channels_last: bool


def acceleration(device: torch.device) -> Acceleration:
    """On CUDA, mixed precision (bfloat16, no loss scaling needed) and channels_last. On the
    CPU, channels_last too (oneDNN's convolutions: a training step of the CIFAR ResNets
    at batch 128 took 16-22 % less time on a quiet machine, one thread or two; segmentation
    networks the same time either way; benchmarks/train_bench.py --layouts measures it),
    full precision."""
    if device.type == "cuda":
        return Acceleration(torch.bfloat16, True)
    return Acceleration(None, device.type == "cpu")


class Trainer:
    def __init__(self, model: nn.Module, data: TensorData, recipe: Recipe, fit: InputFit,
                 *, epochs: int | None = None, device: torch.device | str = "cpu",
                 seed: int = 0, eval_batch: int = 500) -> None:
        self.device = torch.device(device)
        self.accel = acceleration(self.device)
        self.recipe, self.fit, self.seed = recipe, fit, seed
        self.epochs = epochs or recipe.epochs
        self.eval_batch = eval_batch
        self.data = data.to(self.device)
        if self.device.type == "cuda":  # the same shapes every step: let cuDNN pick its best
            torch.backends.cudnn.benchmark = True
        torch.manual_seed(seed)
        memory = torch.channels_last if self.accel.channels_last else torch.preserve_format
        self.model = model.to(self.device, memory_format=memory)
        # The paper's choice: one group, every weight decayed (BN and biases too).
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=recipe.lr,
                                         momentum=recipe.momentum,
                                         weight_decay=recipe.weight_decay)
        self.history: list[EpochMetrics] = []

    @property
    def epoch(self) -> int:
        return len(self.history)

    @property
    def done(self) -> bool:
        return self.epoch >= self.epochs

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fit(x)
        return x.contiguous(memory_format=torch.channels_last) if self.accel.channels_last \
            else x

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.accel.amp is not None:
            with torch.autocast(self.device.type, dtype=self.accel.amp):
                return self.model(x).float()
        return self.model(x)

    def run_epoch(self, cancel: threading.Event | None = None,
                  on_step: Callable[[StepReport], None] | None = None,
                  report_every: int = 10) -> EpochMetrics:
        """Train one epoch and evaluate; the metrics are appended to ``history``."""
        start = time.perf_counter()
        r, data, epoch = self.recipe, self.data, self.epoch
        lr = r.lr_at(epoch, self.epochs)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        n = len(data.train_x)
        plan = plan_epoch(n, self.seed, epoch, r.pad_crop, r.flip and data.flippable,
                          self.device)
        steps = math.ceil(n / r.batch_size)
        loss_sum = torch.zeros((), device=self.device)
        wrong = torch.zeros((), device=self.device, dtype=torch.long)
        seg = data.task == "segmentation"
        classes = len(data.classes)
        train_conf = torch.zeros(classes, classes, device=self.device, dtype=torch.long)
        counted = 0
        self.model.train()
        for step in range(steps):
            if cancel is not None and cancel.is_set():
                raise TrainingCancelled(f"cancelled in epoch {epoch + 1}, step {step}")
            if r.warmup_epochs and epoch < r.warmup_epochs:
                for group in self.optimizer.param_groups:
                    group["lr"] = r.lr_at_step(epoch, step, steps, self.epochs)
            idx = plan.order[step * r.batch_size:(step + 1) * r.batch_size]
            x, y = data.train_x[idx], data.train_y[idx]
            x, y = augment(x, y, None if plan.shift is None else plan.shift[idx],
                           None if plan.flip is None else plan.flip[idx], r.pad_crop)
            out = self._forward(self._inputs(x))
            loss = F.cross_entropy(out, y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            items = y.numel()
            loss_sum += loss.detach() * items
            pred = out.detach().argmax(1)
            wrong += (pred != y).sum()
            if seg:
                train_conf += confusion(pred, y, classes)
            counted += items
            if on_step is not None:
                running = (float(loss_sum) / counted
                           if (step + 1) % report_every == 0 or step + 1 == steps else None)
                on_step(StepReport(epoch, step + 1, steps, running))
        train_loss, train_error = float(loss_sum) / counted, float(wrong) / counted
        if not math.isfinite(train_loss):
            raise TrainingDiverged(f"epoch {epoch + 1}: the training loss is {train_loss}; "
                                   f"try a smaller learning rate")
        test_loss, test_error, miou, bf = self.evaluate()
        metrics = EpochMetrics(epoch + 1, train_loss, train_error, test_loss, test_error, miou,
                               lr, time.perf_counter() - start,
                               mean_iou(train_conf) if seg else None, bf)
        self.history.append(metrics)
        return metrics

    @torch.inference_mode()
    def evaluate(self) -> tuple[float, float, float | None, float | None]:
        """Test loss, test error, and for segmentation (else None) the mean IoU and the
        mean boundary F1 (metrics.boundary_f1, at Csurka et al.'s tolerance)."""
        self.model.eval()
        data = self.data
        classes = len(data.classes)
        seg = data.task == "segmentation"
        tolerance = boundary_tolerance(*data.size)
        loss_sum = torch.zeros((), device=self.device)
        wrong = torch.zeros((), device=self.device, dtype=torch.long)
        conf = torch.zeros(classes, classes, device=self.device, dtype=torch.long)
        bf_sum = torch.zeros((), device=self.device)
        for i in range(0, len(data.test_x), self.eval_batch):
            y = data.test_y[i:i + self.eval_batch]
            out = self._forward(self._inputs(data.test_x[i:i + self.eval_batch]))
            loss_sum += F.cross_entropy(out, y, reduction="sum")
            pred = out.argmax(1)
            wrong += (pred != y).sum()
            if seg:
                conf += confusion(pred, y, classes)
                bf_sum += boundary_f1(pred, y, classes, tolerance).sum()
        items = data.test_y.numel()
        if not seg:
            return float(loss_sum) / items, float(wrong) / items, None, None
        return (float(loss_sum) / items, float(wrong) / items, mean_iou(conf),
                float(bf_sum) / len(data.test_y))

    def train(self, cancel: threading.Event | None = None,
              on_epoch: Callable[[EpochMetrics], None] | None = None,
              checkpoint: Path | None = None) -> list[EpochMetrics]:
        """Every remaining epoch, with a checkpoint after each when a path is given."""
        while not self.done:
            metrics = self.run_epoch(cancel)
            if checkpoint is not None:
                self.save_checkpoint(checkpoint)
            if on_epoch is not None:
                on_epoch(metrics)
        return self.history

    # ---- checkpoints (safetensors: weights, momentum buffers, and the history) -----------

    def save_checkpoint(self, path: Path, extra: dict | None = None) -> None:
        from safetensors.torch import save_file

        tensors = {f"model.{k}": v.detach().to("cpu").contiguous()
                   for k, v in self.model.state_dict().items()}
        for i, p in enumerate(self.optimizer.param_groups[0]["params"]):
            buf = self.optimizer.state.get(p, {}).get("momentum_buffer")
            if buf is not None:
                tensors[f"optim.{i}"] = buf.detach().to("cpu").contiguous()
        meta = {"epoch": str(self.epoch), "epochs": str(self.epochs), "seed": str(self.seed),
                "recipe": json.dumps(self.recipe.as_dict()),
                "history": json.dumps([m.as_dict() for m in self.history]),
                **(extra or {})}
        write_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))

    def resume(self, path: Path) -> None:
        """Continue from a checkpoint: weights, momentum and history; the next epoch's data
        order is the one an uninterrupted run would have used."""
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        state = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
        self.model.load_state_dict(state)
        params = self.optimizer.param_groups[0]["params"]
        for i, p in enumerate(params):
            if f"optim.{i}" in tensors:
                self.optimizer.state[p]["momentum_buffer"] = tensors[f"optim.{i}"].to(
                    p.device, p.dtype)
        self.history = [from_dict(d) for d in json.loads(meta.get("history", "[]"))]
