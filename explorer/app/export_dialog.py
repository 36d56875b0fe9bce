"""File ▸ Export…: one dialog for every export (diagram as PNG or SVG, graph as DOT or
JSON, table as CSV or Markdown), with the file name defaulting to the model's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

# format -> (label, suffix, what it exports)
FORMATS = {
    "png": ("Diagram as PNG", ".png", "diagram"),
    "svg": ("Diagram as SVG", ".svg", "diagram"),
    "json": ("Graph as JSON", ".json", "graph"),
    "dot": ("Graph as DOT", ".dot", "graph"),
    "csv": ("Layer table as CSV", ".csv", "table"),
    "md": ("Layer table as Markdown", ".md", "table"),
}


@dataclass(frozen=True)
class ExportRequest:
    fmt: str
    path: str
    whole: bool = True
    scale: float = 2.0
    transparent: bool = False

    @property
    def what(self) -> str:
        return FORMATS[self.fmt][2]


def default_name(model_name: str, fmt: str, folder: str = "") -> str:
    stem = Path(model_name.split(":")[-1]).stem if ":" in model_name else model_name
    return str(Path(folder or Path.home()) / f"{stem}{FORMATS[fmt][1]}")


class ExportDialog(QDialog):
    def __init__(self, model_name: str, fmt: str = "png", folder: str = "",
                 parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.model_name, self.folder = model_name, folder
        self.format = QComboBox()
        for key, (label, _, _) in FORMATS.items():
            self.format.addItem(label, key)
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QWidget()
        row = QHBoxLayout(path_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.extent = QComboBox()
        self.extent.addItem("The whole graph", True)
        self.extent.addItem("What the view shows", False)
        self.scale = QDoubleSpinBox(minimum=0.25, maximum=8.0, value=2.0, singleStep=0.5,
                                    decimals=2, suffix=" ×")
        self.transparent = QCheckBox("Transparent background")
        form = QFormLayout(self)
        form.addRow("Export", self.format)
        form.addRow("File", path_row)
        form.addRow("Extent", self.extent)
        form.addRow("Scale", self.scale)
        form.addRow("", self.transparent)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.format.setCurrentIndex(list(FORMATS).index(fmt))
        self._format_changed()

    def _format_changed(self, *_) -> None:
        fmt = self.format.currentData()
        current = self.path.text()
        folder = str(Path(current).parent) if current else self.folder
        self.path.setText(default_name(self.model_name, fmt, folder))
        diagram = FORMATS[fmt][2] == "diagram"
        self.extent.setEnabled(diagram)
        self.scale.setEnabled(fmt == "png")
        self.transparent.setEnabled(fmt == "png")

    def _browse(self) -> None:
        fmt = self.format.currentData()
        label, suffix, _ = FORMATS[fmt]
        path, _ = QFileDialog.getSaveFileName(self, label, self.path.text(),
                                              f"{label} (*{suffix})")
        if path:
            self.path.setText(path)

    def request(self) -> ExportRequest:
        return ExportRequest(self.format.currentData(), self.path.text(),
                             bool(self.extent.currentData()), self.scale.value(),
                             self.transparent.isChecked())
