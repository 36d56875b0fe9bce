"""A person's model file, before any of its code runs in the app: the names offered
for choosing (read from the syntax tree, not by running it), the input shape asked for,
and the probe step that runs first in the model job."""

from __future__ import annotations

import ast
from pathlib import Path

from PySide6.QtWidgets import QInputDialog

from .workers import Cancelled, Progress

DEFAULT_SHAPE = "1,3,224,224"


def defined_names(path: Path) -> list[str]:
    """Public classes with a base and functions at the file's top level, in order: what
    ``usermodel.candidates`` finds once the file has run, read without running it."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []  # the probe says what is wrong, with the line
    return [node.name for node in tree.body
            if (isinstance(node, ast.ClassDef) and node.bases
                or isinstance(node, ast.FunctionDef)) and not node.name.startswith("_")]


def ask_input_shape(parent) -> tuple[int, ...] | None:
    """N,C,H,W from a dialog; None when the person cancels; ValueError when not a shape."""
    # a label wider than the title: the dialog was narrower than "Open model file"
    text, ok = QInputDialog.getText(parent, "Open model file",
                                    "Input shape the model takes, N,C,H,W (e.g. 1,3,224,224):",
                                    text=DEFAULT_SHAPE)
    if not ok:
        return None
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"Not an input shape: {text!r} (numbers, e.g. {DEFAULT_SHAPE})") \
            from None
    if not shape or min(shape) < 1:
        raise ValueError(f"Not an input shape: {text!r} (every size at least 1)")
    return shape


def probe_step(spec: str, input_shape: tuple[int, ...], progress: Progress,
               options: dict | None = None) -> None:
    """The probe (a child process with a time and a memory limit) before the model is
    built in-process, with ``options`` (its constructor's arguments); Cancel stops it."""
    from ...probe import probe
    from ...usermodel import UserModelError

    progress.check("trying the file in a separate process", 0.02)
    try:
        probe(spec, input_shape, cancelled=progress.cancelled.is_set, options=options)
    except UserModelError:
        if progress.cancelled.is_set():
            raise Cancelled from None
        raise
