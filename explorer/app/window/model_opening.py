"""Opening a model: by name (the catalogue, a recent entry), from a file (a .py probed in
a child process first, a .pt2 or .onnx read as data), and rebuilt when its options
change. Mixed into MainWindow; every failure goes through ``show_error``."""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from ...zoo import carries_weights
from ..main import APP

MAX_CHECKED_SOURCE = 1 << 20  # larger model files are checked by the probe alone


class ModelOpeningMixin:
    def open_model(self, name: str, options: dict | None = None, input_shape=None,
                   spec=None) -> int:
        return self.models.open_model(name, options, input_shape, spec)

    def rebuild(self) -> int | None:
        return self.models.rebuild()

    def _options_changed(self, options: dict, input_shape: tuple) -> None:
        if self.state.weights.trained and not self.state.weights.in_file:
            answer = QMessageBox.question(
                self, APP, f"The loaded weights ({self.state.weights.label}) do not fit "
                "the changed options. Rebuild with random weights?")
            if answer != QMessageBox.Yes:
                self._show_options()  # back to the model's
                return
        self.models.rebuild(options, input_shape)

    def cancel(self) -> None:
        self.models.cancel()

    def ask_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open model file", "", "Models (*.py *.pt2 *.onnx);;Python (*.py);;"
            "Exported programs (*.pt2);;ONNX models (*.onnx)")
        if path:
            self.open_model_path(path)

    def open_model_path(self, path: str) -> int | None:
        """A .py file (the person's code, probed first), a .pt2 exported program or an
        .onnx model (both read as data: they carry their own graph and input shape).
        A file goes into Open recent once it is shown."""
        if not carries_weights(path):
            return self.open_model_file(path)

        def shown(p) -> None:
            self.state.events.model.disconnect(shown)
            if p.name == path:
                self._add_recent(path)

        self.state.events.model.connect(shown)
        return self.open_model(path)

    def open_model_file(self, path: str, name: str | None = None,
                        input_shape: tuple | None = None) -> int | None:
        """The person's own model. Their code never runs on this thread: it is compiled
        here (a syntax error shows at once), then a job probes it in a child process
        (a hang, an exit or a crash there becomes one message with the file's line) and
        only then builds it in-process. A file goes into Open recent once it is shown."""
        from ...usermodel import UserModelError, compile_file
        from ..controllers.model_file import ask_input_shape, defined_names, probe_step

        try:
            small = Path(path).stat().st_size <= MAX_CHECKED_SOURCE
            if small:
                compile_file(Path(path))
        except (OSError, UserModelError) as exc:
            self.show_error(exc)
            return None
        if name is None:
            names = defined_names(Path(path)) if small else []
            name = names[0] if len(names) == 1 else None
            if len(names) > 1:
                # a label wider than the title ("Archit... plorer" was cut by the frame)
                name, ok = QInputDialog.getItem(
                    self, "Open model file", f"The model in {Path(path).name} to open (a "
                    "class, or a function returning one):", names, 0, False)
                if not ok:
                    return None
        if input_shape is None:
            try:
                input_shape = ask_input_shape(self)
            except ValueError as exc:
                self.show_error(exc)
                return None
            if input_shape is None:
                return None
        full = f"{path}:{name}" if name else path

        def shown(p) -> None:
            self.state.events.model.disconnect(shown)
            if p.name == full:
                self._add_recent(path)

        self.state.events.model.connect(shown)
        return self.models.open_model(full, {}, input_shape,
                                      first=functools.partial(probe_step, full, input_shape))
