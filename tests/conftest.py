import gc
import os

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Under pytest-xdist each worker is one of several processes sharing the cores: one torch
# thread each (more would oversubscribe them, and OpenMP's spinning threads slow everyone).
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER")
                      else max(1, min(4, os.cpu_count() or 1)))


def pytest_addoption(parser, pluginmanager):
    """Where pytest-qt is missing (the GPU machines have torch with CUDA but no Qt), its
    settings in pyproject.toml would stop pytest under --strict-config before any test
    runs: declare them, so the core and CUDA tests run there (the Qt tests skip)."""
    if not pluginmanager.has_plugin("pytest-qt"):
        parser.addini("qt_log_level_fail", "pytest-qt's; unused without it")
        parser.addini("qt_log_ignore", "pytest-qt's; unused without it", type="linelist")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """The main window with its core loaded, its warnings collected instead of shown."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from explorer.app.main import collect_garbage_on_ui_thread
    from explorer.app.window import MainWindow

    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    w = MainWindow(settings)
    w.warnings = warnings
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    w.load_core(count_sizes=False)  # the catalogue's counting has a test of its own
    w.gc_timer = collect_garbage_on_ui_thread(w)  # as the app does (see there why)
    yield w
    w.runner.cancel()
    w.runner.pool.clear()
    w.runner.wait(30_000)
    w.close()
    gc.collect()  # this window's Qt objects die here, on the UI thread
    gc.enable()  # the core tests keep Python's default
