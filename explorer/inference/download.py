"""Fetching a published weight set into torch.hub's checkpoint folder (or a data set's file
into its cache, explorer.training.catalogue), as a careful
client does: stream to a temporary file beside the target, hash while writing, check the
sha256 prefix the file name carries, then rename; no partial or corrupt file is ever left
in the cache. Progress goes to a callback, a ``threading.Event`` cancels, and every
failure is a DownloadError whose one-line message names the URL and what to do.

Qt-free: the app calls ``load_published`` from a worker thread.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import socket
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from torch import nn

from .catalogue import WeightSet
from .weights import WeightsReport, load_weights

BASE_URL_ENV = "EXPLORER_WEIGHTS_BASE_URL"  # a mirror (or a test server) holding the files
CHUNK = 1 << 16
TIMEOUT_S = 30.0

Progress = Callable[[int, "int | None"], None]  # (bytes done, bytes in all or None)


class Remote(Protocol):
    """A file this client can fetch: a published weight set (WeightSet) or a data set's
    file (explorer.training.catalogue.DataFile). ``sha256_prefix`` may be the whole digest;
    ``base_url_env`` names the variable that points at a mirror (absent: the weights')."""

    @property
    def url(self) -> str: ...
    @property
    def file_name(self) -> str: ...
    @property
    def sha256_prefix(self) -> str: ...
    def cache_path(self) -> Path: ...
    def size_text(self) -> str: ...


class DownloadError(Exception):
    """A weight file could not be fetched; ``url`` is what was asked for."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class OfflineError(DownloadError):
    """No connection to the server (no network, refused, name not resolved, timed out)."""


class HTTPStatusError(DownloadError):
    def __init__(self, message: str, url: str, status: int) -> None:
        super().__init__(message, url)
        self.status = status


class ChecksumError(DownloadError):
    """The file's sha256 does not start with the prefix in its name."""


class InterruptedDownload(DownloadError):
    """The transfer broke off before the end."""


class DiskFullError(DownloadError):
    """No space (or no permission) to write into the cache folder."""


class DownloadCancelled(DownloadError):
    """The caller set the cancel event."""


def base_url_env(ws: Remote) -> str:
    return getattr(ws, "base_url_env", BASE_URL_ENV)


def source_url(ws: Remote) -> str:
    """The URL to fetch: the publisher's, or the same file name under the mirror's base URL
    ($EXPLORER_WEIGHTS_BASE_URL for weights)."""
    base = os.environ.get(base_url_env(ws), "").strip()
    return f"{base.rstrip('/')}/{ws.file_name}" if base else ws.url


def _by_hand(ws: Remote) -> str:
    return f"or put {ws.file_name} into {ws.cache_path().parent} by hand"


def fetch(ws: Remote, progress: Progress | None = None,
          cancel: threading.Event | None = None, timeout: float = TIMEOUT_S) -> Path:
    """The cached file of ``ws``, downloaded first if it is not there yet."""
    target = ws.cache_path()
    if target.is_file():
        return target
    url = source_url(ws)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{ws.file_name}.",
                                        suffix=".part")
    except OSError as exc:
        raise DiskFullError(f"cannot write into {target.parent} ({exc.strerror}); set "
                            f"TORCH_HOME to a writable folder to download {url}", url) from None
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as out:
                digest = _stream(ws, url, out, progress, cancel, timeout)
        except OSError as exc:  # the last write, flushed on close
            raise DiskFullError(f"{target.parent}: cannot write {url} ({exc.strerror}); free "
                                f"{ws.size_text()} or set TORCH_HOME to another disk",
                                url) from None
        prefix = ws.sha256_prefix
        if prefix and not digest.startswith(prefix):
            raise ChecksumError(
                f"{url}: the file's sha256 starts {digest[:len(prefix)]}, not {prefix} as its "
                f"name says (a corrupt or different file, not kept); try again, check "
                f"{base_url_env(ws)}, {_by_hand(ws)}", url)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private; the cache's are not
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _stream(ws: Remote, url: str, out, progress: Progress | None,
            cancel: threading.Event | None, timeout: float) -> str:
    """Copy ``url`` into ``out``; returns the sha256 hex digest of what was written."""
    sha = hashlib.sha256()
    done, total = 0, None
    request = urllib.request.Request(url, headers={"User-Agent": "architecture-explorer"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if progress:
                progress(0, total)
            while True:
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"{url}: download cancelled", url)
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                sha.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    except urllib.error.HTTPError as exc:
        raise HTTPStatusError(f"{url}: the server answered {exc.code} {exc.reason}; check the "
                              f"address ({base_url_env(ws)}) {_by_hand(ws)}", url,
                              exc.code) from None
    except urllib.error.URLError as exc:
        reason = getattr(exc.reason, "strerror", None) or str(exc.reason)
        raise OfflineError(f"{url}: cannot connect ({reason}); are you offline? Try again "
                           f"when connected, {_by_hand(ws)}", url) from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(f"{ws.cache_path().parent}: disk full after {done:,} bytes of "
                                f"{url}; "
                                f"free {ws.size_text()} or set TORCH_HOME to another disk",
                                url) from None
        if isinstance(exc, (socket.timeout, ConnectionError)) and done == 0 and total is None:
            raise OfflineError(f"{url}: cannot connect ({exc}); are you offline? Try again "
                               f"when connected, {_by_hand(ws)}", url) from None
        raise _interrupted(ws, url, done, total, exc) from None
    except http.client.HTTPException as exc:
        raise _interrupted(ws, url, done, total, exc) from None
    if total is not None and done != total:
        raise _interrupted(ws, url, done, total, None)
    return sha.hexdigest()


def _interrupted(ws: Remote, url: str, done: int, total: int | None,
                 exc: BaseException | None) -> InterruptedDownload:
    of = f" of {total:,}" if total else ""
    why = f" ({type(exc).__name__})" if exc is not None else ""
    return InterruptedDownload(f"{url}: the transfer broke off after {done:,}{of} bytes{why}; "
                               f"nothing was kept; try again, {_by_hand(ws)}", url)


@dataclass
class PublishedModel:
    """A zoo model built with the options a weight set needs, with the set loaded."""

    model: nn.Module
    weight_set: WeightSet
    path: Path
    report: WeightsReport


def load_published(ws: WeightSet, progress: Progress | None = None,
                   cancel: threading.Event | None = None,
                   model: nn.Module | None = None) -> PublishedModel:
    """Fetch ``ws`` if needed and load it (weights_only, strict, key names remapped) into
    ``model``, or into a fresh zoo model built with the set's options. Raises
    DownloadError (DownloadCancelled on cancel) or WeightsError."""
    from .. import zoo

    path = fetch(ws, progress, cancel)
    if model is None:
        model = zoo.build(ws.model, **ws.options)
    report = load_weights(model, path, remap=ws.remap)
    return PublishedModel(model.eval(), ws, path, report)
