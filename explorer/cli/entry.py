"""The ``explorer`` entry point: the window (no arguments, or files to open) or a
command, and the one error path every command reports through."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .common import CLIError, parse_shape
from .parser import build_parser

# what "explorer FILE..." opens in the window (the desktop entry's types)
GUI_SUFFIXES = (".py", ".onnx", ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")


def _opens_in_window(arg: str) -> bool:
    """A file the window opens: a known suffix or ``path.py:Name``. Anything else is a
    command word, even when a file of that name exists (a file called ``list``)."""
    path = Path(arg.rpartition(":")[0] if ".py:" in arg else arg)
    return path.suffix.lower() in GUI_SUFFIXES and path.is_file()


def _has_display() -> bool:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or platform and not platform.startswith(
            ("xcb", "wayland")):
        return True  # macOS, Windows, or a platform plugin chosen on purpose (offscreen)
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _probe_user_models(args: argparse.Namespace) -> None:
    """A model file named on the command line runs in a time- and memory-limited child
    process first: a hang or sys.exit there becomes one message, not a stuck CLI."""
    specs = [getattr(args, key, None) for key in ("name", "a", "b")]
    specs = [s for s in specs if isinstance(s, str) and ".py" in s]
    if not specs:
        return
    from ..probe import probe
    from ..usermodel import is_user_model
    from .common import parse_options

    shape = parse_shape(getattr(args, "input", None))
    for spec in specs:
        if is_user_model(spec):  # with the options given (its constructor's arguments)
            own = spec == getattr(args, "name", None) or spec == getattr(args, "model", None)
            probe(spec, shape, options=parse_options(getattr(args, "option", None))
                  if own else None)


def _one_line(exc: BaseException) -> str:
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return "; ".join(line.strip() for line in str(text).splitlines() if line.strip()) or \
        type(exc).__name__


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"explorer: warning: {_one_line(Warning(str(message)))}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    """The one error path of every command. The core's own errors (bad input: a model,
    an option, an image, weights, a destination) print one line and exit 2; anything
    else is a bug and prints one line too ("internal error", status 3), never a
    traceback unless EXPLORER_DEBUG is set."""
    import warnings

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            _probe_user_models(args)
            from ..export.files import check_not_input, protecting
            from .guards import command_inputs, guarded_stdout

            with protecting(command_inputs(args)), guarded_stdout():
                if getattr(args, "output", None):  # -o onto an input: refused before work
                    check_not_input(args.output)
                return args.func(args)
        except BrokenPipeError:
            return 0
        except KeyboardInterrupt:
            print("explorer: interrupted", file=sys.stderr)
            return 130
        except MemoryError:
            print("explorer: out of memory", file=sys.stderr)
            return 2
        except Exception as exc:  # noqa: BLE001  (this is the one place that reports)
            if isinstance(exc, CLIError) or type(exc).__module__.startswith("explorer."):
                print(f"explorer: {_one_line(exc)}", file=sys.stderr)
                return 2
            if os.environ.get("EXPLORER_DEBUG"):
                raise
            print(f"explorer: internal error: {type(exc).__name__}: {_one_line(exc)} "
                  "(a bug; EXPLORER_DEBUG=1 shows where)", file=sys.stderr)
            return 3


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if getattr(sys, "frozen", False):  # the user-model probe's child in a bundle
        import multiprocessing

        multiprocessing.freeze_support()
    if not argv or argv == ["--self-test"] or all(_opens_in_window(a) for a in argv):
        if not _has_display():
            print("explorer: no display to open the window on (DISPLAY and WAYLAND_DISPLAY "
                  "are unset); the commands need none: explorer --help", file=sys.stderr)
            return 2
        from ..app.main import launch  # no arguments, or files to open ("Open with"): the GUI

        return launch(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return _run(args)
