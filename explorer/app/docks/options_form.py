"""The selected model's options as widgets, from the registry metadata; any change asks
for a rebuild. The input size is editable too."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from ...zoo.registry import ModelInfo, Option


class OptionsForm(QWidget):
    changed = Signal(dict, tuple)  # options, input shape (N, C, H, W)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.widgets: dict[str, QWidget] = {}
        self.info: ModelInfo | None = None
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self._emit)
        self._loading = False

    def show_model(self, info: ModelInfo, options: dict[str, Any],
                   input_shape: tuple[int, ...]) -> None:
        self._loading = True
        while self.form.rowCount():
            self.form.removeRow(0)
        self.widgets = {}
        self.info = info
        source = f"{info.paper} ({info.year})" if info.year else info.paper
        title = QLabel(f"<b>{info.name}</b><br><small>{source}</small>")
        title.setWordWrap(True)
        # a form row does not ask a wrapped label its height for the dock's width: the
        # paper's title was cut to "Deep Residual Learning for"
        title.setMinimumHeight(title.heightForWidth(200))
        self.form.addRow(title)
        values = {**info.defaults(), **options}
        for opt in info.options:
            widget = self._widget(opt, values[opt.name])
            widget.setToolTip(f"{opt.help}\nallowed: {opt.allowed()}")
            widget.setObjectName(f"option_{opt.name}")
            self.widgets[opt.name] = widget
            label = opt.name.replace("_", " ")
            if opt.guessed:  # a person's required argument: say the value is a guess
                label += " (guess)"
            self.form.addRow(label, widget)
        guessed = [o.name for o in info.options if o.guessed]
        if guessed:
            note = QLabel(f"{', '.join(guessed)}: no default in the file, so the model "
                          "was built with a guess; set the value it needs.")
            note.setWordWrap(True)
            note.setObjectName("options_guess_note")
            note.setMinimumHeight(note.heightForWidth(200))
            self.form.addRow(note)
        self.height_box, self.width_box = QSpinBox(), QSpinBox()
        for box, value in ((self.height_box, input_shape[2]), (self.width_box, input_shape[3])):
            box.setRange(8, 4096)
            box.setValue(value)
            box.valueChanged.connect(self._schedule)
        self.height_box.setObjectName("input_height")
        self.width_box.setObjectName("input_width")
        self.channels = input_shape[1]
        self.form.addRow("input height", self.height_box)
        self.form.addRow("input width", self.width_box)
        self._loading = False

    def _widget(self, opt: Option, value: Any) -> QWidget:
        if opt.type is bool:
            w = QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(self._schedule)
        elif opt.choices is not None:
            w = QComboBox()
            for choice in opt.choices:
                w.addItem(str(choice), choice)
            w.setCurrentIndex(list(opt.choices).index(value))
            w.currentIndexChanged.connect(self._schedule)
        elif opt.type is int:
            w = QSpinBox()
            w.setRange(int(opt.min if opt.min is not None else -10**6),
                       int(opt.max if opt.max is not None else 10**6))
            w.setValue(int(value))
            w.valueChanged.connect(self._schedule)
        elif opt.type is float:
            w = QDoubleSpinBox()
            # enough decimals for the value (a person's eps=1e-5 must not read 0.000)
            w.setDecimals(min(10, max(3, len(f"{float(value):.10f}".rstrip("0").split(".")[1]))))
            w.setSingleStep(0.05)
            w.setRange(opt.min if opt.min is not None else -1e6,
                       opt.max if opt.max is not None else 1e6)
            w.setValue(float(value))
            w.valueChanged.connect(self._schedule)
        elif opt.type in (str, tuple):  # a person's string or tuple argument: typed in
            w = QLineEdit(value if isinstance(value, str) else ", ".join(map(str, value)))
            w.editingFinished.connect(self._schedule)
        else:
            w = QLabel(str(value))
        return w

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, w in self.widgets.items():
            if isinstance(w, QCheckBox):
                out[name] = w.isChecked()
            elif isinstance(w, QComboBox):
                out[name] = w.currentData()
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                out[name] = w.value()
            elif isinstance(w, QLineEdit):  # a tuple's text is read by its option
                out[name] = self._typed(name, w.text())
        return out

    def _typed(self, name: str, text: str) -> Any:
        """A tuple option's text as its tuple; text the option refuses stays text (the
        rebuild says what is wrong with it)."""
        from ...zoo.registry import ZooError

        opt = self.info.option(name) if self.info is not None else None
        if opt is None or opt.type is not tuple:
            return text
        try:
            return opt.validate(self.info.name, text)
        except ZooError:
            return text

    def input_shape(self) -> tuple[int, int, int, int]:
        channels = self.values().get("in_channels", self.channels)
        return (1, channels, self.height_box.value(), self.width_box.value())

    def _schedule(self, *_):
        if not self._loading:
            self._debounce.start()

    def _emit(self) -> None:
        self.changed.emit(self.values(), self.input_shape())

    def apply_now(self) -> None:
        """Emit at once (tests and the Enter key do not wait for the debounce)."""
        self._debounce.stop()
        self._emit()

