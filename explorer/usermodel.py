"""Bring your own model: a Python file that defines an ``nn.Module`` subclass or a
function returning one, named as ``path/to/file.py:Name`` wherever a zoo name is taken.

The file is the user's own code. It runs first in a child process (a probe) with a time
limit and a memory limit: an endless loop, ``sys.exit``, a crash or a forward pass that
returns no tensor becomes one message with the file and line, and the caller's process
(the CLI, the app) is never taken down. Only a file that passed its probe is then loaded
in-process, where errors are still reported with the file's line instead of a
traceback."""

from __future__ import annotations

import hashlib
import inspect
import multiprocessing
import os
import re
import signal
import sys
import tempfile
import time
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from .inference.limits import PROBE_MEMORY, PROBE_SECONDS, gb
from .zoo.registry import ModelInfo, ZooError

DEFAULT_INPUT = (1, 3, 224, 224)
STARTUP_SECONDS = 120.0  # the probe's own imports (torch), before any user code runs


class UserModelError(ZooError):
    """The file could not be loaded; the message names the file and line."""


def is_user_model(spec: str) -> bool:
    return ".py" in spec and (spec.endswith(".py") or ".py:" in spec)


def split_spec(spec: str) -> tuple[Path, str | None]:
    path, sep, name = spec.rpartition(":") if ".py:" in spec else (spec, "", "")
    return Path(path), (name or None)


def _where(exc: BaseException, path: Path) -> str:
    """file:line of the deepest frame in the user's file."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == path:
            line = frame.lineno
    return f"{path}:{line}" if line else str(path)


def _describe(exc: BaseException, path: Path, doing: str) -> str:
    """One line for anything user code can raise, exits and interrupts included."""
    where = _where(exc, path)
    if isinstance(exc, SystemExit):
        return f"{where}: the file calls sys.exit({exc.code!r}) {doing}; a model file must not exit"
    if isinstance(exc, MemoryError):
        return f"{where}: out of memory {doing} (the probe allows {gb(PROBE_MEMORY)} more)"
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{where}: {type(exc).__name__} {doing}" + (f": {text}" if text else "")


def load_module(path: Path) -> types.ModuleType:
    if not path.is_file():
        raise UserModelError(f"{path}: no such file")
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UserModelError(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise UserModelError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except ValueError as exc:  # e.g. a NUL byte in the source
        raise UserModelError(f"{path}: not Python source ({exc})") from None
    name = "explorer_user_" + hashlib.blake2b(str(path).encode(), digest_size=6).hexdigest()
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # dataclasses and pickling look the module up
    try:
        exec(code, module.__dict__)  # noqa: S102  (the user's own model file)
    except (Exception, SystemExit) as exc:  # noqa: BLE001  (any error in user code is reported)
        raise UserModelError(_describe(exc, path, "while loading")) from None
    return module


def candidates(module: types.ModuleType) -> list[str]:
    """Module subclasses and functions defined in the file itself."""
    names = []
    for key, value in vars(module).items():
        if getattr(value, "__module__", None) != module.__name__ or key.startswith("_"):
            continue
        if inspect.isclass(value) and issubclass(value, nn.Module) or inspect.isfunction(value):
            names.append(key)
    return names


def _pick(module: types.ModuleType, path: Path, name: str | None) -> str:
    found = candidates(module)
    if name is None:
        classes = [n for n in found if inspect.isclass(getattr(module, n))]
        if len(classes) != 1:
            raise UserModelError(f"{path}: name the model as {path}:Name; the file defines "
                                 + (", ".join(found) or "no nn.Module subclass or function"))
        name = classes[0]
    if getattr(module, name, None) is None:
        raise UserModelError(f"{path}: no {name!r} in the file; it defines "
                             + (", ".join(found) or "nothing usable"))
    return name


def _instantiate(module: types.ModuleType, path: Path, name: str) -> nn.Module:
    try:
        model = getattr(module, name)()
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        raise UserModelError(_describe(exc, path, f"in {name}()")) from None
    if not isinstance(model, nn.Module):
        raise UserModelError(f"{path}: {name}() returned {type(model).__name__}, "
                             "not an nn.Module")
    return model


def load_user_model(spec: str, probe_first: bool = True) -> nn.Module:
    """The model in eval mode. Unless a probe of this very file already passed, the file
    is probed in a child process first (see ``probe``)."""
    path, name = split_spec(spec)
    if probe_first and _probe_key(path, name) not in _PASSED:
        probe(spec)
    module = load_module(path)
    name = _pick(module, path, name)
    return _instantiate(module, path, name).eval()


def user_model_info(spec: str, input_shape: tuple[int, int, int] = (3, 224, 224)) -> ModelInfo:
    path, name = split_spec(spec)
    return ModelInfo(name=spec, family="Your models", task="classification",
                     paper=str(path), year=0, input_shape=input_shape,
                     builder=lambda: load_user_model(spec),
                     description=f"{name or 'model'} from {path}")


# ------------------------------------------------------------------------------ the probe
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


_PASSED: dict[tuple, ProbeResult] = {}


def _probe_key(path: Path, name: str | None) -> tuple:
    try:
        st = path.stat()
    except OSError:
        return (str(path), name)
    return (str(path.resolve()), name, st.st_mtime_ns, st.st_size)


def probe(spec: str, input_shape: tuple[int, ...] | None = None,
          timeout: float | None = None, memory: int = PROBE_MEMORY,
          cancelled: Callable[[], bool] | None = None) -> ProbeResult:
    """Load ``spec``'s file, build the model and run it once on the meta device, in a
    child process limited to ``timeout`` seconds of user code and ``memory`` bytes beyond
    the interpreter's own. Raises UserModelError with the file and line for anything that
    goes wrong there, hangs, exits and crashes included. ``cancelled`` (polled) stops it.
    ``EXPLORER_PROBE_SECONDS`` overrides the default time limit."""
    path, name = split_spec(spec)
    if not path.is_file():
        raise UserModelError(f"{path}: no such file")
    if timeout is None:
        timeout = float(os.environ.get("EXPLORER_PROBE_SECONDS", PROBE_SECONDS))
    shape = tuple(input_shape or DEFAULT_INPUT)
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    fd, dump_path = tempfile.mkstemp(prefix="explorer-probe-", suffix=".txt")
    os.close(fd)
    try:
        child = ctx.Process(target=_child, args=(send, str(path), name, shape, memory,
                                                 dump_path), daemon=True)
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
    result = ProbeResult(spec, picked, tuple(found), shape, forward_error, seconds)
    _PASSED[_probe_key(path, name)] = result
    return result


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
           dump_path: str) -> None:
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
        model = _instantiate(module, path, picked)
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
