"""Helpers for the pytest-qt tests (the ``window`` fixture itself is in conftest.py)."""

from __future__ import annotations

TIMEOUT = 60_000


def load(qtbot, w, name, **kw):
    w.open_model(name, **kw)
    qtbot.waitUntil(lambda: w.prepared is not None and w.prepared.name == name
                    and not w.progress.isVisible(), timeout=TIMEOUT)


def wait_idle(qtbot, w):
    qtbot.waitUntil(lambda: not w.progress.isVisible(), timeout=TIMEOUT)


def gradient_png(path, w=120, h=90):
    import numpy as np
    from PIL import Image

    x = np.linspace(0, 255, w, dtype=np.uint8)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.uint8)[:, None].repeat(w, 1)
    Image.fromarray(np.stack([x, y, 255 - x], -1), "RGB").save(path)
    return path


def drop(window, path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(50, 50), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(event)
