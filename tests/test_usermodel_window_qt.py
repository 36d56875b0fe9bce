"""A person's model in the window: its constructor's arguments in the Options dock, a
change rebuilding it (probed again) with exact counts; a required argument built with a
guess says so; the Layer dock says where their file creates a torch layer."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from apphelpers import TIMEOUT, wait_idle  # noqa: E402
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QLineEdit, QSpinBox  # noqa: E402

SOURCE = '''from torch import nn


class Net(nn.Module):
    def __init__(self, width=8, eps=1e-5, kernel=(3, 3), act="relu", classes: int = 4):
        super().__init__()
        self.conv = nn.Conv2d(3, width, kernel, padding=1)
        self.bn = nn.BatchNorm2d(width, eps=eps)
        self.act = nn.ReLU() if act == "relu" else nn.Tanh()
        self.fc = nn.Linear(width, classes)

    def forward(self, x):
        return self.fc(self.act(self.bn(self.conv(x))).mean((2, 3)))


class NeedsArgs(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.fc = nn.Linear(3, num_classes)

    def forward(self, x):
        return self.fc(x.mean((2, 3)))
'''


def _open(qtbot, window, path, name):
    window.open_model_file(str(path), name, (1, 3, 16, 16))
    qtbot.waitUntil(lambda: window.prepared is not None
                    and window.prepared.name == f"{path}:{name}", timeout=TIMEOUT)
    wait_idle(qtbot, window)


def test_constructor_arguments_are_options_that_rebuild(qtbot, window, tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(SOURCE)
    _open(qtbot, window, path, "Net")
    form = window.options
    assert isinstance(form.widgets["width"], QSpinBox)
    assert isinstance(form.widgets["kernel"], QLineEdit) and \
        form.widgets["kernel"].text() == "3, 3"
    assert isinstance(form.widgets["act"], QLineEdit)
    eps = form.widgets["eps"]
    assert isinstance(eps, QDoubleSpinBox) and eps.value() == pytest.approx(1e-5)
    assert window.prepared.table.total["params"] == 224 + 16 + 36
    form.widgets["width"].setValue(16)
    form.widgets["kernel"].setText("1, 1")
    form.apply_now()
    qtbot.waitUntil(lambda: window.prepared.options.get("width") == 16, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.prepared.options["kernel"] == (1, 1)
    assert window.prepared.options["eps"] == pytest.approx(1e-5)  # not rounded to 0.000
    assert window.prepared.table.total["params"] == (3 * 16 + 16) + 32 + (16 * 4 + 4)
    assert "width=16" in window.windowTitle()
    window.select_node("conv")
    qtbot.waitUntil(lambda: "created in" in window.inspector.source.text(), timeout=TIMEOUT)
    assert "Net.__init__" in window.inspector.source.text()
    assert window.inspector.open_button.isVisibleTo(window.inspector)


def test_a_required_argument_is_built_with_a_guess_that_says_so(qtbot, window, tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(SOURCE)
    _open(qtbot, window, path, "NeedsArgs")
    assert window.prepared.options == {} and window.prepared.table.total["params"] == 40
    note = window.options.findChild(QLabel, "options_guess_note")
    assert note is not None and "num_classes" in note.text() and "guess" in note.text()
    window.options.widgets["num_classes"].setValue(3)
    window.options.apply_now()
    qtbot.waitUntil(lambda: window.prepared.options.get("num_classes") == 3, timeout=TIMEOUT)
    assert window.prepared.table.total["params"] == 12


def test_the_open_dialogs_are_wider_than_their_titles(qtbot, window, tmp_path):
    """Was: the model chooser titled "Archit… plorer" (cut by the window frame); the
    input-shape prompt had been cut to "Open mod…" before it."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QFont, QFontMetrics
    from PySide6.QtWidgets import QApplication, QInputDialog

    path = tmp_path / "mine.py"
    path.write_text(SOURCE)
    seen = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QInputDialog) and dialog not in [d for d, *_ in seen]:
            bold = QFont(dialog.font())
            bold.setBold(True)
            title = QFontMetrics(bold).horizontalAdvance(dialog.windowTitle())
            seen.append((dialog, dialog.windowTitle(), dialog.width(), title))
            dialog.accept()

    timer = QTimer(interval=50, timeout=answer)
    timer.start()
    window.open_model_file(str(path))  # two classes: which one, then the input shape
    timer.stop()
    qtbot.waitUntil(lambda: window.prepared is not None
                    and window.prepared.name == f"{path}:Net", timeout=TIMEOUT)
    assert len(seen) == 2
    for _, text, width, title in seen:  # the frame's icon and three buttons: ~100 px
        assert text == "Open model file" and width >= title + 120, (text, width, title)
