"""Headless commands over the same core the app uses.

    explorer list [PATTERN] [--task T]
    explorer info NAME
    explorer graph NAME [--depth N] [--expand PATH ...] -o out.{dot,json,svg,png}
    explorer summary NAME [--input 1,3,224,224] [--option k=v ...] [--format md|csv|json]
    explorer compare A B
    explorer lessons [ID]

Every failure on bad input exits non-zero with one line on stderr, no traceback.

common.py holds what the commands share, model_commands.py, run_command.py and
weights_commands.py the commands, parser.py their arguments, entry.py ``main``.
Importing this package imports no torch: every command imports what it needs itself.
"""

from .common import CLIError
from .entry import _opens_in_window as _opens_in_window  # the window-or-command rule
from .entry import main
from .parser import build_parser

__all__ = ["CLIError", "build_parser", "main"]
