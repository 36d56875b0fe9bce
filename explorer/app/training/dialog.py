"""Model ▸ Train…: which data, which preset, how many epochs, on which device, and
optionally a second model trained beside the current one on the same data order."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QSpinBox,
)

FOLDER = "Image folder…"


@dataclass(frozen=True)
class TrainRequest:
    dataset: str  # a data set name or a folder
    models: tuple[tuple[str, dict], ...]  # the current model first
    preset: str
    epochs: int
    device: str
    train_size: int | None  # None: the whole set (or the generated default)


def default_dataset(task: str, channels: int) -> str:
    if task == "segmentation":
        return "shapes-seg"
    return "digits" if channels == 1 else "shapes"


class TrainDialog(QDialog):
    def __init__(self, name: str, options: dict, task: str, channels: int,
                 others: list[str], devices: list[str], parent=None) -> None:
        from ...training.datasets import NAMES, TITLES
        from ...training.recipes import PRESETS

        super().__init__(parent)
        self.setWindowTitle(f"Train {name}")
        self.name, self.options, self.presets = name, dict(options), PRESETS
        form = QFormLayout(self)
        form.addRow(QLabel(f"Trains <b>{name}</b> from random weights; the curves show in the "
                           f"Training dock, and the trained weights become the live ones."))
        self.dataset = QComboBox()
        for key in NAMES:
            self.dataset.addItem(TITLES[key], key)
        self.dataset.addItem(FOLDER, FOLDER)
        self.dataset.setCurrentIndex(self.dataset.findData(default_dataset(task, channels)))
        self.dataset.activated.connect(self._maybe_folder)
        self.folder: str | None = None
        form.addRow("Data set", self.dataset)
        self.vs = QComboBox()
        self.vs.addItem("(none)", None)
        for other in others:
            self.vs.addItem(other, other)
        self.vs.setToolTip("A second model trained beside this one, on the same data in the "
                           "same order, drawn on the same plot")
        form.addRow("Compare with", self.vs)
        self.preset = QComboBox()
        for key, recipe in PRESETS.items():
            self.preset.addItem(recipe.title, key)
        self.preset.setCurrentIndex(self.preset.findData(  # what a CPU can do
            "quick-seg" if task == "segmentation" else "quick"))
        self.preset.currentIndexChanged.connect(self._preset_changed)
        form.addRow("Preset", self.preset)
        self.epochs = QSpinBox(minimum=1, maximum=1000)
        form.addRow("Epochs", self.epochs)
        self.train_size = QSpinBox(minimum=0, maximum=1_000_000, singleStep=500,
                                   specialValueText="all")
        self.train_size.setToolTip("Train on the first N images only (0: all; for the "
                                   "generated shapes, generate N)")
        form.addRow("Training images", self.train_size)
        self.device = QComboBox()
        self.device.addItems(devices)
        form.addRow("Device", self.device)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Train")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._preset_changed()

    def _preset_changed(self) -> None:
        self.epochs.setValue(self.presets[self.preset.currentData()].epochs)

    def _maybe_folder(self) -> None:
        if self.dataset.currentData() != FOLDER:
            return
        folder = QFileDialog.getExistingDirectory(self, "A folder with one sub-folder per class")
        if folder:
            self.folder = folder
            self.dataset.setItemText(self.dataset.currentIndex(), folder)
        else:
            self.dataset.setCurrentIndex(0)

    def request(self) -> TrainRequest:
        dataset = self.dataset.currentData()
        if dataset == FOLDER:
            dataset = self.folder or "digits"
        models = ((self.name, self.options),)
        if self.vs.currentData():
            models += ((self.vs.currentData(), {}),)
        return TrainRequest(dataset, models, self.preset.currentData(), self.epochs.value(),
                            self.device.currentText(), self.train_size.value() or None)
