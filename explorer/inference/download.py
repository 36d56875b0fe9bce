"""Fetching a published weight set into torch.hub's checkpoint folder (or a data set's file
into its cache, explorer.training.catalogue), as a careful
client does: stream to a temporary file beside the target, hash while writing, check the
sha256 prefix the file name carries, then rename; no partial or corrupt file is ever left
in the cache. Progress goes to a callback, a ``threading.Event`` cancels, and every
failure is a DownloadError whose one-line message names the URL and what to do.

A hostile or broken server cannot keep it going: a ``Content-Length`` that disagrees
with the catalogue's size is refused before the body, a body longer than that size plus a
margin is cut, fewer than ``STALL_BYTES`` in ``STALL_S`` seconds is a stall, and a
redirect may only lead to http(s). SIGTERM and SIGHUP end a download like Ctrl-C, taking
the partial file with them. A file already in the cache is called by its published name
only once its hash matches that name (explorer.inference.cache_check).

Qt-free: the app calls ``load_published`` from a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import http.client
import os
import signal
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from torch import nn

from .cache_check import cached_digest, remember
from .catalogue import WeightSet
from .weights import WeightsReport, load_weights

BASE_URL_ENV = "EXPLORER_WEIGHTS_BASE_URL"  # a mirror (or a test server) holding the files
CHUNK = 1 << 16
TIMEOUT_S = 30.0
STALL_S = 30.0  # at least STALL_BYTES must arrive in every window this long
STALL_BYTES = 64 << 10
SIZE_MARGIN = 1 << 20  # + 2%: the catalogue rounds sizes to 0.1 MiB

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
    ($EXPLORER_WEIGHTS_BASE_URL for weights), which must be an http(s) address."""
    base = os.environ.get(base_url_env(ws), "").strip()
    if not base:
        return ws.url
    parts = urllib.parse.urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DownloadError(f"{base_url_env(ws)}={base!r} is not an http(s) address; give "
                            "one like https://host/folder, or unset it", base)
    return f"{base.rstrip('/')}/{ws.file_name}"


def expected_size(ws: Remote) -> int | None:
    """The file's size as the catalogue gives it, in bytes (None: not published)."""
    size = getattr(ws, "size", None)
    if isinstance(size, int):
        return size
    mib = getattr(ws, "file_size_mib", None)
    return round(mib * 2**20) if mib else None


def _margin(size: int) -> int:
    return SIZE_MARGIN + size // 50


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        scheme = urllib.parse.urlsplit(newurl).scheme
        if scheme not in ("http", "https"):
            raise DownloadError(f"{req.full_url}: the server redirected to {newurl[:120]}, "
                                "which is not an http(s) address; refused", req.full_url)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@contextlib.contextmanager
def _signals_end_it() -> Iterator[None]:
    """SIGTERM and SIGHUP end the download like Ctrl-C (the partial file goes), where
    this is the main thread and the signal would otherwise just kill the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    saved = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            saved[sig] = signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _by_hand(ws: Remote) -> str:
    return f"or put {ws.file_name} into {ws.cache_path().parent} by hand"


def fetch(ws: Remote, progress: Progress | None = None,
          cancel: threading.Event | None = None, timeout: float = TIMEOUT_S) -> Path:
    """The cached file of ``ws`` (checked against the hash its name carries), downloaded
    first if it is not there yet."""
    target = ws.cache_path()
    if target.is_file():
        return _checked_cache(ws, target)
    url = source_url(ws)
    with _signals_end_it():
        return _download(ws, url, target, progress, cancel, timeout)


def _remove_orphans(target: Path) -> None:
    """Partial files of ``target`` left by a process that is gone (killed in a way no
    handler sees: SIGKILL, a window closed by the system): their names carry its pid."""
    for part in target.parent.glob(f".{glob.escape(target.name)}.*.part"):
        pid = part.name[len(target.name) + 2:].partition(".")[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            part.unlink(missing_ok=True)
        except OSError:
            pass  # alive, someone else's


def _checked_cache(ws: Remote, target: Path) -> Path:
    prefix = ws.sha256_prefix
    try:
        digest = cached_digest(target) if prefix else ""
    except OSError as exc:
        raise DiskFullError(f"{target}: cannot read the cached file ({exc.strerror})",
                            ws.url) from None
    if prefix and not digest.startswith(prefix):
        raise ChecksumError(f"{target}: this file's sha256 starts {digest[:len(prefix)]}, "
                            f"not {prefix} as its published name says: it is not the "
                            "published file; delete it to download the real one", ws.url)
    return target


def _download(ws: Remote, url: str, target: Path, progress: Progress | None,
              cancel: threading.Event | None, timeout: float) -> Path:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(target)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent,
                                        prefix=f".{ws.file_name}.{os.getpid()}.",
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
    remember(target, digest)
    return target


def _stream(ws: Remote, url: str, out, progress: Progress | None,
            cancel: threading.Event | None, timeout: float) -> str:
    """Copy ``url`` into ``out``; returns the sha256 hex digest of what was written."""
    sha = hashlib.sha256()
    done, total = 0, None
    expected = expected_size(ws)
    limit = None if expected is None else expected + _margin(expected)
    request = urllib.request.Request(url, headers={"User-Agent": "architecture-explorer"})
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and expected is not None and abs(total - expected) > \
                    _margin(expected):
                raise DownloadError(f"{url}: the server announces {total:,} bytes, but the "
                                    f"file is {ws.size_text()}; refused (a different file "
                                    f"or a broken mirror), {_by_hand(ws)}", url)
            if progress:
                progress(0, total)
            window_start, window_bytes = time.monotonic(), 0
            while True:
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"{url}: download cancelled", url)
                chunk = response.read1(CHUNK)  # what has arrived: a trickle cannot block
                if not chunk:
                    break
                done += len(chunk)
                if limit is not None and done > limit:
                    raise DownloadError(f"{url}: the server sent more than {limit:,} bytes "
                                        f"for a file of {ws.size_text()}; cut and refused, "
                                        f"{_by_hand(ws)}", url)
                out.write(chunk)
                sha.update(chunk)
                window_bytes += len(chunk)
                now = time.monotonic()
                if now - window_start >= STALL_S:
                    if window_bytes < STALL_BYTES:
                        raise InterruptedDownload(
                            f"{url}: stalled ({window_bytes:,} bytes in the last "
                            f"{STALL_S:.0f} s, after {done:,}); nothing was kept; try "
                            f"again, {_by_hand(ws)}", url)
                    window_start, window_bytes = now, 0
                if progress:
                    progress(done, total)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the answer's connection open (a ResourceWarning when collected)
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
