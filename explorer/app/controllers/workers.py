"""Long work off the UI thread.

A ``Job`` is a plain function run by a ``Runner`` on a worker thread. Every new request
gets a generation number; a result from an older generation is dropped, so switching
models quickly never shows a stale graph. Cancel sets a flag the job checks between its
stages (``check()``), and the result is dropped either way.

A cancelled job that does not come back (a person's model whose ``__init__`` sleeps
forever) must not hold the app: after ``ABANDON_AFTER`` seconds its thread is abandoned,
left to finish alone with its result dropped, and a fresh thread serves the next jobs.

Results are whatever typed object the job returns; a failure travels as the exception
object itself, for the window's one error handler to dispatch on its type.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

ABANDON_AFTER = 2.0  # seconds a cancelled job may take to reach its next check


class Cancelled(Exception):
    pass


class JobExited(Exception):
    """A job ended in ``SystemExit`` or ``KeyboardInterrupt`` (a person's code called
    ``sys.exit``): reported like any failure, never taking the app down."""


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


class _Task:
    def __init__(self, runner: Runner, job: Callable[[Progress], Any], progress: Progress,
                 generation: int) -> None:
        self.runner, self.job, self.progress_obj, self.generation = (runner, job, progress,
                                                                     generation)
        self.abandoned = False  # set by the Worker: whatever the job ends in is dropped

    def run(self) -> None:
        try:
            result, note = self.job(self.progress_obj), ""
        except Cancelled:
            result, note = None, "cancelled"
        except (Exception, SystemExit, KeyboardInterrupt) as exc:  # noqa: BLE001  (shown)
            if not self.abandoned:
                self._emit(self.runner.failed, self.generation, _reportable(exc))
            return
        if not self.abandoned:
            self._emit(self.runner.finished, self.generation, result, note)

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window closed while the job ran: nobody to tell
            pass


def _reportable(exc: BaseException) -> Exception:
    if isinstance(exc, Exception):
        return exc
    what = (f"the code called sys.exit({exc.code!r})" if isinstance(exc, SystemExit)
            else "the work was interrupted")
    wrapped = JobExited(what)
    wrapped.__cause__ = exc  # keeps the person's file and line for the message
    return wrapped


class _Background:
    def __init__(self, runner: Runner, fn: Callable[[], Any]) -> None:
        self.runner, self.fn = runner, fn
        self.progress_obj = None

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception:  # noqa: BLE001  (background extras never disturb the user)
            return
        _Task._emit(self.runner.background_done, result)


class Worker:
    """One worker thread, shared by the runners that are given it, serving a priority
    queue (a submitted job before background extras, first come first served within).

    One thread: two Python threads busy at once starve the UI thread of the GIL
    (measured: event-loop gaps of 100-450 ms while a second thread counted parameters).
    Its threads are daemons: an abandoned one never keeps the app from quitting."""

    def __init__(self) -> None:
        self._queue: list[tuple[int, int, Any]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running: Any = None  # the task the serving thread runs now
        self.abandoned = 0  # threads left behind with a job that never returned

    def start(self, task, priority: int = 0) -> None:
        with self._changed:
            heapq.heappush(self._queue, (-priority, next(self._order), task))
            if self._thread is None:
                self._spawn()
            self._changed.notify_all()

    def clear(self) -> None:
        """Forget the queued tasks (the running one goes on)."""
        with self._changed:
            self._queue.clear()

    def stop(self) -> None:
        """Forget the queue and let the serving thread end (after its current task)."""
        with self._changed:
            self._queue.clear()
            self._thread = None
            self._changed.notify_all()

    def waitForDone(self, msecs: int = 30000) -> bool:  # noqa: N802  (QThreadPool's name)
        deadline = time.monotonic() + msecs / 1000
        with self._changed:
            while self._queue or self._running is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def abandon_if_stuck(self, progress: Progress) -> bool:
        """Leave the thread running ``progress``'s cancelled job behind; a fresh thread
        takes the queue. The old one exits when (if ever) its job returns."""
        with self._changed:
            task = self._running
            if task is None or task.progress_obj is not progress:
                return False
            self._running = None
            task.abandoned = True
            self.abandoned += 1
            self._spawn()
            self._changed.notify_all()
        return True

    def _spawn(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="explorer-worker",
                                        daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        me = threading.current_thread()
        while True:
            with self._changed:
                while not self._queue and self._thread is me:
                    self._changed.wait()
                if self._thread is not me:
                    return
                _, _, task = heapq.heappop(self._queue)
                self._running = task
            task.run()
            with self._changed:
                if self._running is task:
                    self._running = None
                    self._changed.notify_all()
                if self._thread is not me:
                    return  # abandoned or stopped meanwhile: the queue is not ours


class Runner(QObject):
    """Runs one kind of job at a time; a newer request supersedes older ones."""

    progress = Signal(int, str, float)
    finished = Signal(int, object, str)
    failed = Signal(int, object)  # generation, the exception
    background_done = Signal(object)
    _watch = Signal(object)  # a cancelled Progress; queued to this object's thread

    def __init__(self, parent: QObject | None = None, pool: Worker | None = None) -> None:
        super().__init__(parent)
        self._watch.connect(self._abandon_later)
        self.pool = pool or Worker()  # runners may share it: one worker thread serves all
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
        progress = self._current
        if progress is None or progress.cancelled.is_set():
            return
        progress.cancelled.set()
        self._watch.emit(progress)  # cancel may come from any thread; timers need ours

    def _abandon_later(self, progress: Progress) -> None:
        QTimer.singleShot(int(ABANDON_AFTER * 1000), self,
                          lambda: self.pool.abandon_if_stuck(progress))

    def is_current(self, generation: int) -> bool:
        return generation == self.generation and not (
            self._current is not None and self._current.cancelled.is_set())

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)
