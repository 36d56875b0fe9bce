"""What the window shows of a training run, held once and Qt-free: the models' curves as
they grow (one point per epoch, and the running training loss every few steps), the data
set and the run's state. The Training dock draws it; the controller changes it on the UI
thread as the worker's reports arrive."""

from __future__ import annotations

from dataclasses import dataclass, field

from .loop import StepReport
from .metrics import EpochMetrics


@dataclass
class TrainingLog:
    labels: tuple[str, ...] = ()
    epochs: int = 0
    dataset: str = ""
    state: str = "idle"  # idle, loading, training, done, cancelled, failed
    message: str = ""
    folder: str = ""  # where the run's files are written
    history: dict[str, list[EpochMetrics]] = field(default_factory=dict)
    steps: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # (epoch, loss)

    def start(self, labels: tuple[str, ...], epochs: int, dataset: str, folder: str) -> None:
        self.labels, self.epochs, self.dataset, self.folder = labels, epochs, dataset, folder
        self.history = {label: [] for label in labels}
        self.steps = {label: [] for label in labels}
        self.state, self.message = "training", f"training on {dataset}"

    def add_epoch(self, label: str, metrics: EpochMetrics) -> None:
        self.history.setdefault(label, []).append(metrics)

    def add_step(self, label: str, report: StepReport) -> None:
        if report.running_loss is not None:
            x = report.epoch + report.step / report.steps
            self.steps.setdefault(label, []).append((x, report.running_loss))

    def finish(self, state: str, message: str) -> None:
        self.state, self.message = state, message

    @property
    def running(self) -> bool:
        return self.state in ("loading", "training")

    def progress_text(self) -> str:
        parts = []
        for label in self.labels:
            h = self.history.get(label, [])
            parts.append(f"{label}: epoch {len(h)}/{self.epochs}"
                         + (f", {h[-1].summary()}" if h else ""))
        return "; ".join(parts)
