"""File ▸ Export…: one dialog for every export (diagram as PNG or SVG, graph as DOT or
JSON, table as CSV or Markdown), with the file name defaulting to the model's."""

from __future__ import annotations

from collections.abc import Callable
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
    QLabel,
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


PATH_WIDTH = 560  # px: the File field's widest; a longer path scrolls in it
DEFAULT_SCALE = {"png": 2.0, "svg": 1.0}  # sharp text on a PNG; an SVG at its own size


class ExportDialog(QDialog):
    """``extent(whole)`` gives the size in scene units of what a diagram export draws:
    the dialog says the file's size in pixels and, when a side is past what common
    tools open, says so and offers the scale that fits (OK waits until it fits)."""

    def __init__(self, model_name: str, fmt: str = "png", folder: str = "",
                 parent=None, extent: Callable[[bool], tuple[float, float]] | None = None
                 ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.model_name, self.folder, self.extent_of = model_name, folder, extent
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
        self.scale = QDoubleSpinBox(minimum=0.05, maximum=8.0, value=2.0, singleStep=0.5,
                                    decimals=2, suffix=" ×")
        self.transparent = QCheckBox("Transparent background")
        self.size_note = QLabel(wordWrap=True)
        self.fit_button = QPushButton(visible=False)
        self.fit_button.clicked.connect(self._use_fitting_scale)
        size_row = QWidget()
        row = QHBoxLayout(size_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.size_note, 1)
        row.addWidget(self.fit_button)
        form = QFormLayout(self)
        form.addRow("Export", self.format)
        form.addRow("File", path_row)
        form.addRow("Extent", self.extent)
        form.addRow("Scale", self.scale)
        form.addRow("", self.transparent)
        form.addRow("Size", size_row)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.Ok)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.format.setCurrentIndex(list(FORMATS).index(fmt))
        self._format_changed()
        self.scale.valueChanged.connect(self._show_size)
        self.extent.currentIndexChanged.connect(self._show_size)

    def _format_changed(self, *_) -> None:
        fmt = self.format.currentData()
        current = self.path.text()
        folder = str(Path(current).parent) if current else self.folder
        self.path.setText(default_name(self.model_name, fmt, folder))
        self._fit_path()
        diagram = FORMATS[fmt][2] == "diagram"
        self.extent.setEnabled(diagram)
        self.scale.setEnabled(diagram)
        if diagram:
            self.scale.setValue(DEFAULT_SCALE[fmt])
        self.transparent.setEnabled(fmt == "png")
        self._show_size()

    def _fit_path(self) -> None:
        """Wide enough to show the whole destination, its folder too (was ~110 px:
        "t/resnet20_cifar.png"), up to PATH_WIDTH."""
        text = self.path.fontMetrics().horizontalAdvance(self.path.text())
        self.path.setMinimumWidth(min(text + 24, PATH_WIDTH))

    def _show_size(self, *_) -> None:
        from ...export.image_size import MAX_SIDE, ExportTooLarge, check_size

        fmt = self.format.currentData()
        self.fit_button.setVisible(False)
        self.ok_button.setEnabled(True)
        if self.extent_of is None or fmt not in MAX_SIDE:
            self.size_note.setText("")
            return
        units = self.extent_of(bool(self.extent.currentData()))
        try:
            w, h = check_size(fmt, *units, self.scale.value())
        except ExportTooLarge as big:
            w, h = big.size
            self.size_note.setText(
                f"<b>{w:,} × {h:,} px</b>: past the {MAX_SIDE[fmt]:,} px a side that common "
                "viewers and converters open (fold more blocks, or a smaller scale)")
            self.fit_button.setText(f"Use {big.fits:g}×")
            self.fit_button.setVisible(True)
            self.fit_button.setProperty("fits", big.fits)
            self.ok_button.setEnabled(False)
            return
        self.size_note.setText(f"{w:,} × {h:,} px")

    def _use_fitting_scale(self) -> None:
        self.scale.setValue(float(self.fit_button.property("fits")))

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
