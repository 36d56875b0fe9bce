"""Writing files safely: the destination is checked before any work is done, and a file
appears whole or not at all (written beside its destination, then renamed over it).

A destination is refused when it is one of the inputs of the work in hand (the same file,
by device and inode, whatever name reaches it: ``summary M.py:Net -o M.py`` would replace
the model's source) or when it exists and is not a regular file (a rename onto
``/dev/full`` would replace the device node). The inputs are declared once per command or
export with ``protecting``."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from contextvars import ContextVar
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)  # read it the only way there is, at import, before any thread
    os.umask(mask)
    return mask


_UMASK = _umask()


class DestinationError(ValueError):
    """The file cannot be written there; the message names the path and the reason."""


_INPUTS: ContextVar[tuple[tuple[tuple[int, int], str], ...]] = ContextVar(
    "explorer_inputs", default=())  # ((device, inode), name) of the inputs in hand


def _identity(path: str | Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


@contextlib.contextmanager
def protecting(paths: Iterable[str | Path]) -> Iterator[None]:
    """While inside, no destination may be one of ``paths`` (those that exist)."""
    known = list(_INPUTS.get())
    for path in paths:
        ident = _identity(path) if path else None
        if ident is not None:
            known.append((ident, str(path)))
    token = _INPUTS.set(tuple(known))
    try:
        yield
    finally:
        _INPUTS.reset(token)


def check_not_input(path: str | Path) -> None:
    """Refuse ``path`` if it exists and is not a regular file, or is one of the inputs."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return
    if stat.S_ISDIR(info.st_mode):
        return  # the caller says what a folder means for it
    if not stat.S_ISREG(info.st_mode):
        raise DestinationError(f"{path}: exists and is not a regular file (a device, pipe "
                               "or socket); refused")
    source = dict(reversed(_INPUTS.get())).get((info.st_dev, info.st_ino))
    if source is not None:
        same = "" if str(source) == str(path) else f" ({source})"
        raise DestinationError(f"{path}: is one of the files being read{same}; writing "
                               "there would destroy it; choose another file")


def check_destination(path: str | Path) -> Path:
    """Refuse a destination that cannot be written: a folder, a missing or read-only
    parent folder. Call before the work that produces the file."""
    path = Path(path)
    if path.is_dir():
        raise DestinationError(f"{path}: is a folder; give a file name")
    check_not_input(path)
    parent = path.parent
    if not parent.exists():
        raise DestinationError(f"{path}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise DestinationError(f"{path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or path.exists() and not os.access(path,
                                                                                  os.W_OK):
        raise DestinationError(f"{path}: permission denied")
    return path


def check_folder(folder: str | Path, create: bool = True) -> Path:
    """Make sure files can be written in ``folder``, creating it if ``create``; without,
    only check that it could be created (its nearest existing parent is writable)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DestinationError(f"{folder}: exists and is not a folder")
    if not create:
        existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
        if not existing.is_dir():
            raise DestinationError(f"{folder}: {existing} is not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise DestinationError(f"{folder}: permission denied")
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DestinationError(f"{folder}: cannot create the folder "
                               f"({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DestinationError(f"{folder}: permission denied")
    return folder


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary path)`` and rename the result onto ``path``; on any failure
    nothing is left behind and ``path`` keeps what it held."""
    path = check_destination(path)
    # the temporary keeps the suffix: writers that pick a format by it still can
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}",
                               dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 would make every export private
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise DestinationError(f"{path}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        _remove(tmp)
        raise
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def save_image_atomic(path: str | Path, image) -> Path:
    """A Pillow image, in the format its suffix names."""
    return write_atomic(path, image.save)


def _remove(path: str) -> None:
    with suppress(OSError):
        os.unlink(path)
