"""Whether a file in the weights (or data) cache is the published one, before it is
called by its published name: its sha256 must start with the prefix the name carries.
A file is hashed once; the answer is remembered next to the cache folder
(``../.explorer-verified/``, out of its listing) with the file's size, modification time
and inode, so a 500 MB file is not read again on every run, and a file replaced or
edited since is hashed again."""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import suppress
from pathlib import Path

CHUNK = 1 << 20


def memo_path(path: Path) -> Path:
    return path.parent.parent / ".explorer-verified" / path.parent.name / f"{path.name}.json"


def _stamp(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns, info.st_ino


def remember(path: Path, digest: str, stamp: tuple[int, int, int] | None = None) -> None:
    """Note that ``path`` (as it was at ``stamp``, or now) hashes to ``digest``; not if it
    changed meanwhile. Best effort: a read-only cache only means hashing again."""
    now = _stamp(path)
    if stamp is not None and stamp != now:
        return
    memo = memo_path(path)
    tmp = memo.with_name(memo.name + ".tmp")
    with suppress(OSError):
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"stamp": now, "sha256": digest}))
        os.replace(tmp, memo)


def cached_digest(path: Path) -> str:
    """The file's sha256, from the memo when size and mtime still match."""
    with suppress(OSError, ValueError, TypeError, KeyError):
        memo = json.loads(memo_path(path).read_text())
        if tuple(memo["stamp"]) == _stamp(path):
            return str(memo["sha256"])
    stamp = _stamp(path)
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
    digest = sha.hexdigest()
    remember(path, digest, stamp)
    return digest
