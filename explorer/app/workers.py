"""Long work off the UI thread.

A ``Job`` is a plain function run by a ``Runner`` on a worker thread. Every new request
gets a generation number; a result from an older generation is dropped, so switching
models quickly never shows a stale graph. Cancel sets a flag the job checks between its
stages (``check()``), and the result is dropped either way.

Results are whatever typed object the job returns; a failure travels as the exception
object itself, for the window's one error handler to dispatch on its type.
"""

from __future__ import annotations

import threading
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
            self._emit(self.runner.failed, self.generation, exc)
            return
        self._emit(self.runner.finished, self.generation, result, "")

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window closed while the job ran: nobody to tell
            pass


class _Background(QRunnable):
    def __init__(self, runner: Runner, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.runner, self.fn = runner, fn

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception:  # noqa: BLE001  (background extras never disturb the user)
            return
        _Task._emit(self.runner.background_done, result)


class Runner(QObject):
    """Runs one kind of job at a time; a newer request supersedes older ones.

    One worker thread: two Python threads busy at once starve the UI thread of the GIL
    (measured: event-loop gaps of 100-450 ms while a second thread counted parameters)."""

    progress = Signal(int, str, float)
    finished = Signal(int, object, str)
    failed = Signal(int, object)  # generation, the exception
    background_done = Signal(object)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        if pool is None:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(1)  # tracing is not re-entrant; queue, newest wins
        self.pool = pool  # runners may share it: then one worker thread serves them all
        self.generation = 0
        self._current: Progress | None = None

    def submit(self, job: Callable[[Progress], Any]) -> int:
        self.cancel()
        self.generation += 1
        progress = Progress(self, self.generation)
        self._current = progress
        self.pool.start(_Task(self, job, progress, self.generation), 1)
        return self.generation

    def background(self, fn: Callable[[], Any]) -> None:
        """Low-priority work on the same thread: any submitted job goes first."""
        self.pool.start(_Background(self, fn), -1)

    def cancel(self) -> None:
        if self._current is not None:
            self._current.cancelled.set()

    def is_current(self, generation: int) -> bool:
        return generation == self.generation and not (
            self._current is not None and self._current.cancelled.is_set())

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)
