"""Model ▸ Weights: random init, each published set of the current model (its metrics,
size and whether it is cached), the demo where it applies, a file.

Choosing an uncached set downloads it on a thread of its own (a transfer waits on the
network, and a model change must not queue behind it) with its bytes in the status
bar's progress bar and its Cancel button; a cached set loads at once. A set that needs
other options (classes, aux head, transform_input, input size) rebuilds the model with
them first, then loads, as Load demo weights does."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QApplication

from ...viewstate import Weights
from .inference import published_set
from .workers import Runner

MIB = 2**20


@dataclass(frozen=True)
class Fetched:
    weight_set: Any  # catalogue.WeightSet
    path: Path


def set_text(ws) -> str:
    """'IMAGENET1K_V2 — acc@1 80.858, acc@5 95.434 · 97.8 MiB · cached'."""
    where = "cached" if ws.is_cached() else "download"
    default = " (default)" if ws.default else ""
    return f"{ws.name}{default} — {ws.metrics_text()} · {ws.size_text()} · {where}"


def needs_rebuild(ws, prepared) -> bool:
    """Whether the shown model lacks an option the set fixes."""
    return ws.model != prepared.name or any(prepared.options.get(k) != v
                                            for k, v in ws.options.items())


class WeightsMenu(QObject):
    progressed = Signal(object, object)  # bytes done, bytes in all (or None); any thread
    fetched = Signal(object)  # the WeightSet, once it is in the cache

    def __init__(self, window, menu) -> None:
        super().__init__(window)
        self.window, self.menu = window, menu
        self.state, self.inference = window.state, window.inference
        self.runner = Runner(self)  # its own worker: a download waits on the network
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.progressed.connect(self._show_progress)
        self.downloading = None  # the WeightSet on its way
        window.cancel_button.clicked.connect(self.cancel)
        self.inference.predictions.publishedRequested.connect(self.choose_default)
        menu.aboutToShow.connect(self.refresh)
        self.state.events.model.connect(lambda _p: self.refresh())
        self.state.events.weights.connect(lambda _w: self.refresh())
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.runner.cancel)
        self.refresh()

    # ------------------------------------------------------------------ the menu
    def refresh(self) -> None:
        from ...inference import catalogue

        self.menu.clear()
        p = self.state.model
        self.menu.setEnabled(p is not None)
        if p is None:
            return
        current = published_set(p.name, self.state.weights)
        group = QActionGroup(self.menu)
        fresh = Weights.of(p.name)  # what a fresh build runs with: an ONNX file's own
        random = self._add(group, "Weights in the file" if fresh.in_file else "Random init",
                           self.choose_random)
        random.setChecked(self.state.weights == fresh)
        sets = catalogue.weight_sets(p.name)
        for ws in sets:
            action = self._add(group, set_text(ws), functools.partial(self.choose, ws))
            action.setChecked(ws == current)
            action.setToolTip(f"{ws.dataset}; {ws.source}")
        if not sets:
            self.menu.addAction("No published weights for this model").setEnabled(False)
        self.menu.addSeparator()
        demo = self.inference._demo_meta()
        if demo and demo["model"] == p.name:
            self.menu.addAction("Demo weights (shapes U-Net)", self.window.load_demo)
        trained = self.window.training.shipped_lenet() if p.name == "lenet5" else None
        if trained:
            self.menu.addAction(f"Trained on the UCI digits (test accuracy "
                                f"{trained['test_accuracy']:.1%})",
                                self.window.training.load_trained_lenet)
        self.menu.addAction("From a file…", self.window.ask_weights)
        self.menu.setToolTipsVisible(True)

    def _add(self, group: QActionGroup, text: str, slot) -> QAction:
        action = QAction(text, self.menu, checkable=True)
        action.triggered.connect(lambda _checked=False: slot())
        group.addAction(action)
        self.menu.addAction(action)
        return action

    # ------------------------------------------------------------------ intents
    def choose_random(self) -> None:
        self.inference.random_init()

    def choose_default(self) -> None:
        from ...inference import catalogue

        if self.state.model is not None:
            sets = catalogue.weight_sets(self.state.model.name)
            if sets:
                self.choose(sets[0])

    def choose(self, ws) -> int | None:
        """Load ``ws``: at once when cached, else after downloading it."""
        if ws.is_cached():
            self._apply(ws)
            return None
        from ...inference.download import fetch

        emit = self.progressed.emit

        def job(progress) -> Fetched:
            return Fetched(ws, fetch(ws, emit, progress.cancelled))

        self.downloading = ws
        self.window._busy(True)
        self.window.status_label.setText(f"Downloading {ws.label} ({ws.size_text()})…")
        return self.runner.submit(job)

    def cancel(self) -> None:
        if self.downloading is not None:
            self.runner.cancel()

    def _apply(self, ws) -> None:
        p = self.state.model
        if p is None or not needs_rebuild(ws, p):
            self.inference.load_set(ws)
            return
        options = {**(p.options if ws.model == p.name else {}), **ws.options}

        def shown(prepared) -> None:  # the next model shown; a cancelled build is not it
            self.state.events.model.disconnect(shown)
            if not needs_rebuild(ws, prepared):
                self.inference.load_set(ws)

        self.state.events.model.connect(shown)
        self.window.open_model(ws.model, options)

    # ------------------------------------------------------------------ the download
    def _show_progress(self, done: int, total: int | None) -> None:
        ws, bar = self.downloading, self.window.progress
        if ws is None:
            return
        if total:
            bar.setMaximum(max(1, total // 1024))  # KiB: a QProgressBar holds an int
            bar.setValue(done // 1024)
            of = f" of {total / MIB:.1f} MiB"
        else:
            bar.setMaximum(0)
            of = " MiB"
        self.window.status_label.setText(f"Downloading {ws.label}: {done / MIB:.1f}{of}")

    def _finished(self, generation: int, result, note: str) -> None:
        if not isinstance(result, Fetched):
            return
        self.downloading = None
        self.window._busy(False)
        self.fetched.emit(result.weight_set)
        if self.runner.generation == generation:
            self._apply(result.weight_set)

    def _failed(self, generation: int, exc: BaseException) -> None:
        from ...inference.download import DownloadCancelled, DownloadError

        if generation != self.runner.generation:
            return
        ws, self.downloading = self.downloading, None
        self.window._busy(False)
        if isinstance(exc, DownloadCancelled):
            self.window.status_label.setText(f"Download of {ws.label} cancelled; nothing kept")
        elif isinstance(exc, DownloadError) and ws is not None:
            self.offer_offline(ws, exc)
        else:
            self.window.show_error(exc)
        self.refresh()

    def offer_offline(self, ws, exc: BaseException) -> None:
        """A download that failed says why and offers the ways around it: the cache
        folder opened (to put the file there by hand) or a file chosen (was: a message
        only, its cache path wrapped mid-word)."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        from ..errors import describe

        folder = ws.cache_path().parent
        self.window.status_label.setText(describe(exc).splitlines()[0][:200])
        choice = self.offline_choice(describe(exc), folder)
        if choice == "folder":
            folder.mkdir(parents=True, exist_ok=True)
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        elif choice == "file":
            self.window.ask_weights()

    def offline_choice(self, message: str, folder: Path) -> str:
        """'folder', 'file' or '' (closed)."""
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Warning, "Architecture Explorer",
                          message.replace("/", "/\u200b"), parent=self.window)
        opened = box.addButton("Open folder", QMessageBox.ActionRole)
        chosen = box.addButton("Choose file…", QMessageBox.ActionRole)
        box.addButton(QMessageBox.Close)
        box.setToolTip(str(folder))
        box.exec()
        clicked = box.clickedButton()
        return "folder" if clicked is opened else "file" if clicked is chosen else ""
