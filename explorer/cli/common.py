"""What every command shares: the one-line error, the lazy zoo, the parsers of
``--option``, ``--input``, ``--depth`` and ``--scale``, and writing a result."""

from __future__ import annotations

import argparse
import math
import sys

from ..inference.limits import MAX_INPUT_ELEMENTS, MAX_INPUT_SIDE


class CLIError(Exception):
    """A failure to report as one line on stderr."""


class _LazyZoo:
    """The zoo imports torch (1-2 s); the GUI launcher must not wait for it."""

    def __getattr__(self, name):
        from .. import zoo as module

        return getattr(module, name)


zoo = _LazyZoo()


def parse_options(pairs: list[str] | None) -> dict[str, str]:
    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CLIError(f"--option takes key=value, not {pair!r}")
        options[key.strip()] = value.strip()
    return options


def parse_shape(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        shape = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        raise CLIError(f"--input takes numbers like 1,3,224,224, not {text!r}") from None
    if len(shape) != 4 or min(shape) < 1:
        raise CLIError(f"--input needs four positive sizes (N,C,H,W), not {text!r}")
    if max(shape) > MAX_INPUT_SIDE or math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise CLIError(f"--input {text} is too large: each size at most {MAX_INPUT_SIDE:,}, "
                       f"and N*C*H*W at most {MAX_INPUT_ELEMENTS:,}")
    return shape


def parse_depth(text: str | None, words: tuple[str, ...] = ()) -> int | str | None:
    """A fold depth: a whole number from 1, or one of ``words``."""
    if text is None or text in words:
        return text
    try:
        depth = int(text)
    except ValueError:
        allowed = "a number" + "".join(f", {w!r}" for w in words)
        raise CLIError(f"--depth takes {allowed}, not {text!r}") from None
    if depth < 1:
        raise CLIError(f"--depth must be at least 1, not {depth}")
    return depth


def parse_scale(text: str) -> float:
    """argparse's type for ``--scale``: its error becomes argparse's one-line message."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0.05 <= value <= 16):
        raise argparse.ArgumentTypeError(f"takes a number from 0.05 to 16, not {text!r}")
    return value


def emit(text: str, output: str | None) -> None:
    """A command's text to ``-o`` (written atomically) or to stdout."""
    from ..export.files import write_text_atomic

    if output:
        write_text_atomic(output, text)
    else:
        sys.stdout.write(text)
