"""Long work off the UI thread.

A ``Job`` is a plain function run by a ``Runner`` on a worker thread. Every new request
gets a generation number; a result from an older generation is dropped, so switching
models quickly never shows a stale graph. Cancel sets a flag the job checks between its
stages (``check()``), and the result is dropped either way.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class Cancelled(Exception):
    pass


class Progress:
    """Handed to a job: report a stage, and stop early when cancelled."""

    def __init__(self, runner: Runner, generation: int) -> None:
        self._runner = runner
        self._generation = generation
        self.cancelled = threading.Event()

    def check(self, stage: str, fraction: float) -> None:
        if self.cancelled.is_set() or self._generation != self._runner.generation:
            raise Cancelled
        self._runner.progress.emit(self._generation, stage, fraction)


class _Task(QRunnable):
    def __init__(self, runner: Runner, job: Callable[[Progress], Any], progress: Progress,
                 generation: int) -> None:
        super().__init__()
        self.runner, self.job, self.progress_obj, self.generation = (runner, job, progress,
                                                                     generation)

    def run(self) -> None:
        try:
            result = self.job(self.progress_obj)
        except Cancelled:
            self._emit(self.runner.finished, self.generation, None, "cancelled")
            return
        except Exception as exc:  # noqa: BLE001  (shown in the window, the app keeps running)
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self._emit(self.runner.failed, self.generation, detail)
            return
        self._emit(self.runner.finished, self.generation, result, "")

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window closed while the job ran: nobody to tell
            pass


class Runner(QObject):
    """Runs one kind of job at a time; a newer request supersedes older ones."""

    progress = Signal(int, str, float)
    finished = Signal(int, object, str)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # tracing is not re-entrant; queue, newest wins
        self.generation = 0
        self._current: Progress | None = None

    def submit(self, job: Callable[[Progress], Any]) -> int:
        self.cancel()
        self.generation += 1
        progress = Progress(self, self.generation)
        self._current = progress
        self.pool.start(_Task(self, job, progress, self.generation))
        return self.generation

    def cancel(self) -> None:
        if self._current is not None:
            self._current.cancelled.set()

    def is_current(self, generation: int) -> bool:
        return generation == self.generation and not (
            self._current is not None and self._current.cancelled.is_set())

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)
