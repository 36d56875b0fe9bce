"""One place that turns an exception from a job or a slot into words for a person.

Errors travel as exception objects (never as text to parse); this dispatches on their
type. The core's own errors already read as one sentence naming the input; anything
else is shown by its message, without Python's class names."""

from __future__ import annotations

import errno
import sys
import traceback
from pathlib import Path

_OURS = Path(__file__).resolve().parents[1]  # explorer/


def describe(exc: BaseException) -> str:
    return _with_user_line(_describe(exc), exc)


def _describe(exc: BaseException) -> str:
    from ..graph.trace import TraceError
    from ..zoo.registry import ZooError

    match exc:
        case TraceError() | ZooError():
            return str(exc)
        case MemoryError():
            return ("Not enough memory for this. Try a smaller input, fewer layers, or "
                    "another device.")
        case PermissionError(filename=name):
            return f"{name}: permission denied"
        case FileNotFoundError(filename=name):
            return f"{name}: no such file or folder"
        case OSError(errno=code, filename=name) if code == errno.ENOSPC:
            return f"{name}: the disk is full"
        case OSError(strerror=reason, filename=name) if name:
            return f"{name}: {reason}"
        case KeyError():
            return f"Not found: {exc.args[0] if exc.args else exc}"
        case _ if _is_ours(exc):  # a device's failure, already one line naming it
            return str(exc)
        case _:
            if _is_out_of_memory(exc):
                return ("The device ran out of memory: " + str(exc).splitlines()[0][:200])
            text = str(exc).strip() or type(exc).__name__
            return text.splitlines()[0] if len(text) > 2000 else text


def _is_ours(exc: BaseException) -> bool:
    from ..inference.failures import DeviceError, OutOfMemory

    return isinstance(exc, (DeviceError, OutOfMemory))


def _is_out_of_memory(exc: BaseException) -> bool:
    """However torch says it (an AcceleratorError while CUDA initialises, too)."""
    from ..inference.failures import out_of_memory

    return out_of_memory(exc, "") is not None


def user_frame(exc: BaseException) -> tuple[str, int] | None:
    """The last line of a person's own file (not ours, not a library's) that the error
    went through, following the chain of causes."""
    libraries = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}
    found = None
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for frame in traceback.extract_tb(exc.__traceback__):
            path = Path(frame.filename)
            if not path.is_file() or path.resolve().is_relative_to(_OURS):
                continue
            if any(path.resolve().is_relative_to(lib) for lib in libraries):
                continue
            found = (frame.filename, frame.lineno)
        exc = exc.__cause__ or exc.__context__
    return found


def _with_user_line(message: str, exc: BaseException) -> str:
    where = user_frame(exc)
    if where is None or f"{where[0]}:{where[1]}" in message:
        return message
    return f"{message}\n(at {where[0]}:{where[1]})"
