"""One place that turns an exception from a job or a slot into words for a person.

Errors travel as exception objects (never as text to parse); this dispatches on their
type. The core's own errors already read as one sentence naming the input; anything
else is shown by its message, without Python's class names."""

from __future__ import annotations

import errno


def describe(exc: BaseException) -> str:
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
        case _:
            if _is_out_of_memory(exc):
                return ("The device ran out of memory: " + str(exc).splitlines()[0][:200])
            text = str(exc).strip() or type(exc).__name__
            return text.splitlines()[0] if len(text) > 2000 else text


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError)
