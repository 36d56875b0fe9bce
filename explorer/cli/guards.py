"""What a command must not harm: its own input files (no output may land on one) and the
person's terminal (a closed or full standard output is one line, not a traceback)."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Iterator

from ..zoo import model_file
from .common import CLIError

_OUTPUT_KEYS = {"output"}


def command_inputs(args: argparse.Namespace) -> list[str]:
    """Every argument that names an existing file: models (``file.py:Name`` too), images,
    weights, runs. Outputs are not inputs."""
    found = []
    for key, value in vars(args).items():
        if key in _OUTPUT_KEYS or key == "func":
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item:
                found.append(model_file(item))
    return [f for f in found if os.path.exists(f)]


class StdoutError(CLIError):
    """Standard output is closed or cannot take what the command prints."""


class _GuardedStdout(io.TextIOBase):
    """sys.stdout while a command runs: a write that fails says so as a StdoutError."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def _do(self, action, *args):
        if self.stream is None:
            raise StdoutError("cannot write to standard output: it is closed")
        try:
            return getattr(self.stream, action)(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            _silence_fd1()
            raise StdoutError(f"cannot write to standard output "
                              f"({exc.strerror or exc})") from None

    def write(self, text: str) -> int:
        return self._do("write", text)

    def flush(self) -> None:
        if self.stream is not None:
            self._do("flush")

    def isatty(self) -> bool:
        return self.stream is not None and self.stream.isatty()

    @property
    def encoding(self):  # noqa: D102
        return getattr(self.stream, "encoding", "utf-8")


def _silence_fd1() -> None:
    """What the interpreter still holds for stdout goes nowhere at exit (no second error)."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)


@contextlib.contextmanager
def guarded_stdout() -> Iterator[None]:
    original = sys.stdout
    sys.stdout = _GuardedStdout(original)
    try:
        yield
        sys.stdout.flush()
    finally:
        sys.stdout = original
