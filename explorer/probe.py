"""The probe: a person's model file loaded, built and run once on the meta device in a
child process with a time limit and a memory limit, before it may run in-process.

An endless loop, ``sys.exit``, ``KeyboardInterrupt``, a crash (a signal), running out of
memory or a forward pass that returns no tensor becomes one ``UserModelError`` naming
the file and line; the caller (the CLI, the app's worker) is never taken down. On a
timeout the child's stack is dumped (faulthandler) to find the line it was stuck on."""

from __future__ import annotations

import inspect
import multiprocessing
import os
import re
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from .inference.limits import PROBE_MEMORY, PROBE_SECONDS, gb
from .inputs import file_problem
from .usermodel import (
    UserModelError,
    _describe,
    _instantiate,
    _pick,
    candidates,
    load_module,
    split_spec,
    user_model_info,
)

DEFAULT_INPUT = (1, 3, 224, 224)
STARTUP_SECONDS = 120.0  # the probe's own imports (torch), before any user code runs


@dataclass(frozen=True)
class ProbeResult:
    """What a passed probe learnt: the model's name, the file's candidates and how a
    forward pass on the meta device went at the probed input."""

    spec: str
    name: str
    candidates: tuple[str, ...]
    input_shape: tuple[int, ...]
    forward_error: str | None  # a failure that a differently shaped input may not have
    seconds: float


def probe(spec: str, input_shape: tuple[int, ...] | None = None,
          timeout: float | None = None, memory: int = PROBE_MEMORY,
          cancelled: Callable[[], bool] | None = None,
          options: dict[str, Any] | None = None) -> ProbeResult:
    """Load ``spec``'s file, build the model and run it once on the meta device, in a
    child process limited to ``timeout`` seconds of user code and ``memory`` bytes beyond
    the interpreter's own. Raises UserModelError with the file and line for anything that
    goes wrong there, hangs, exits and crashes included. ``cancelled`` (polled) stops it.
    ``options`` are the constructor's arguments (checked here; defaults and guesses for
    the rest). ``EXPLORER_PROBE_SECONDS`` overrides the default time limit."""
    path, name = split_spec(spec)
    problem = file_problem(path, "a Python file")
    if problem:
        raise UserModelError(f"{path}: {problem}")
    values = user_model_info(spec).resolve(options or {})
    if timeout is None:
        timeout = float(os.environ.get("EXPLORER_PROBE_SECONDS", PROBE_SECONDS))
    shape = tuple(input_shape or DEFAULT_INPUT)
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    fd, dump_path = tempfile.mkstemp(prefix="explorer-probe-", suffix=".txt")
    os.close(fd)
    try:
        child = ctx.Process(target=_child, args=(send, str(path), name, shape, memory,
                                                 dump_path, values), daemon=True)
        child.start()
        send.close()
        try:
            message = _wait(child, receive, timeout, cancelled, path)
        finally:
            if child.is_alive():
                child.kill()
            child.join()
            receive.close()
        stack = Path(dump_path).read_text(errors="replace")
    finally:
        os.unlink(dump_path)
    if message is None:  # died without a word: a crash or os._exit
        code = child.exitcode
        how = (f"crashed ({signal.Signals(-code).name})" if code and code < 0
               else f"exited with status {code}")
        raise UserModelError(f"{_line_in(stack, path)}: the process {how} while loading "
                             "the model")
    if message[0] == "timeout":
        raise UserModelError(f"{_line_in(stack, path)}: still running after {timeout:g} s"
                             f"{_function_in(stack, path)}; stopped (an endless loop?)")
    if message[0] == "error":
        raise UserModelError(message[1])
    _, picked, found, forward_error, seconds = message
    return ProbeResult(spec, picked, tuple(found), shape, forward_error, seconds)


def _wait(child, receive, timeout: float, cancelled, path: Path):
    """The child's message, ("timeout",) after dumping its stack, or None if it died."""
    deadline = time.monotonic() + STARTUP_SECONDS
    started = False
    while True:
        if cancelled is not None and cancelled():
            raise UserModelError(f"{path}: cancelled")
        if receive.poll(0.05):
            try:
                message = receive.recv()
            except EOFError:
                return None
            if message[0] == "ready" and not started:
                started, deadline = True, time.monotonic() + timeout
                continue
            return message
        if not child.is_alive():
            return receive.recv() if receive.poll(0) else None
        if time.monotonic() > deadline:
            if started and hasattr(signal, "SIGUSR1"):  # faulthandler writes its stack
                os.kill(child.pid, signal.SIGUSR1)
                child.join(1.0)
            return ("timeout",)


_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')


def _line_in(dump: str, path: Path) -> str:
    """file:line of the most recent frame in the user's file in a faulthandler dump."""
    for m in _FRAME.finditer(dump):  # most recent call first
        if Path(m["file"]) == path:
            return f"{path}:{m['line']}"
    return str(path)


def _function_in(dump: str, path: Path) -> str:
    for m in _FRAME.finditer(dump):
        if Path(m["file"]) == path:
            return f" (in {m['func']})"
    return ""


def _child(send, path_text: str, name: str | None, shape: tuple, memory: int,
           dump_path: str, options: dict[str, Any]) -> None:
    """The probe itself, in the child process."""
    import faulthandler

    dump = open(dump_path, "w")  # noqa: SIM115  (open until the process ends)
    faulthandler.enable(dump)  # a crash leaves its stack for the parent
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, dump, all_threads=False)
    import torch

    from .inference.predictions import output_problem

    _limit_memory(memory)
    send.send(("ready",))
    path = Path(path_text)
    start = time.perf_counter()
    try:
        module = load_module(path)
        picked = _pick(module, path, name)
        try:  # shapes only: a model far too large to allocate can still be drawn
            with torch.device("meta"):
                model = _instantiate(module, path, picked, options)
        except UserModelError:  # code that needs real tensors while it builds
            model = _instantiate(module, path, picked, options)
        forward_error = None
        try:
            with torch.no_grad():
                output = model.to("meta").eval()(torch.empty(shape, device="meta"))
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            if isinstance(exc, SystemExit):
                raise UserModelError(_describe(exc, path, "in forward")) from None
            forward_error = _describe(exc, path, "in forward")
        else:
            problem = output_problem(output)
            if problem:
                line = _forward_line(model)
                raise UserModelError(f"{path}:{line}: {problem}" if line else
                                     f"{path}: {problem}")
        send.send(("ok", picked, candidates(module), forward_error,
                   time.perf_counter() - start))
    except UserModelError as exc:
        send.send(("error", str(exc)))
    except MemoryError as exc:
        send.send(("error", f"{_describe(exc, path, 'while loading')} (the probe allows "
                            f"{gb(memory)} more)"))
    except BaseException as exc:  # noqa: BLE001  (KeyboardInterrupt and kin: one message)
        send.send(("error", _describe(exc, path, "while loading")))


def _forward_line(model: nn.Module) -> int | None:
    try:
        return inspect.getsourcelines(type(model).forward)[1]
    except (OSError, TypeError):
        return None


def _limit_memory(extra: int) -> None:
    """Cap the child's address space at what it maps now plus ``extra`` (Linux)."""
    try:
        import resource

        with open("/proc/self/status") as f:
            size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize"))
        limit = size + extra
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, StopIteration, ValueError):
        pass  # no /proc or no RLIMIT_AS (macOS, Windows): the time limit still holds
