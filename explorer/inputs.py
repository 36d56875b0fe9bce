"""What is wrong with a path a person gave as an input, in their words: a missing file, a
symbolic link loop, a folder, or something that is not a regular file (a named pipe
would block a read forever; a link to /dev/zero never ends)."""

from __future__ import annotations

import errno
import stat
from pathlib import Path


def file_problem(path: Path, what: str = "a file") -> str | None:
    """None for a regular file (through links); otherwise why it cannot be read as one."""
    try:
        info = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop"
        if exc.errno == errno.EACCES:
            return "cannot be read (permission denied)"
        return "no such file"
    if stat.S_ISDIR(info.st_mode):
        return f"is a folder, not {what}"
    if stat.S_ISREG(info.st_mode):
        return None
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else
            "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
            "a socket")
    return f"is {kind}, not {what}; refused"
