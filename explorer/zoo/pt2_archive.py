"""A ``.pt2`` archive read once, as data, and handed to torch only as a clean copy.

``torch.export.load`` trusts its archive (torch 2.13): a payload flagged ``use_pickle``
goes through ``torch.load(weights_only=False)``, opaque constants through
``pickle.loads``, a sample input that ``weights_only`` refuses is retried without it,
``data/aotinductor/`` loads a shared library, a symbolic size is parsed by
``sympy.sympify`` (an ``eval``), an empty weight record becomes ``torch.zeros`` of
whatever size the JSON claims, and the program's ``guards_code`` is Python that
``module()`` runs. Python's ``zipfile`` and torch's reader can also disagree about an
archive (two entries of one name: each reads a different one).

So the file is opened once. Every entry is judged from the zip directory first (its
name, the torch.export layout, its size against a budget, its compression ratio) and
only then inflated, checked (JSON parsed, the pickle loaded with ``weights_only=True``,
each tensor's extent against its record) and copied into a fresh archive in a private
temporary folder. Torch loads that copy, never the person's file, while
``guarded_torch_load`` makes any unpickling without ``weights_only`` fail in this
process, and with torch's own logging (tracebacks included) kept out of our output.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import shutil
import tempfile
import threading
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ..inputs import file_problem
from ..limits import (
    MAX_COMPRESSION_RATIO,
    PT2_ENTRY_BYTES,
    PT2_MAX_ENTRIES,
    PT2_TENSOR_BYTES,
    gb,
)
from .registry import ZooError

ROOT = "archive"  # the copy's folder name (torch's reader takes it from the first entry)
_TARGET = re.compile(r"^torch\.ops\.(?!.*__)\w+\.\w+\.\w+$")
_PY_TARGETS = {"_operator.getitem"}
# a symbolic size: numbers, symbols (s0, u3), torch's sympy functions and arithmetic
_EXPR = re.compile(r"^[\w\s+\-*/%(),.<>=!]*$")
_EXPR_WORD = re.compile(r"[A-Za-z_]\w*")
_SYMBOL = re.compile(r"^[a-z]{1,4}\d+$")

_SMALL = 4096
_LAYOUT: list[tuple[re.Pattern, str, int]] = [  # name in the archive, kind, byte budget
    (re.compile(r"archive_format|archive_version|byteorder|\.data/version"
                r"|\.data/serialization_id"), "text", _SMALL),
    (re.compile(r"models/model\.json"), "program", PT2_ENTRY_BYTES),
    (re.compile(r"data/(weights/model_weights|constants/model_constants)_config\.json"),
     "config", PT2_ENTRY_BYTES),
    (re.compile(r"data/sample_inputs/model\.pt"), "pickle", PT2_ENTRY_BYTES),
    (re.compile(r"data/weights/weight_\d+|data/constants/tensor_\d+"), "tensor",
     PT2_TENSOR_BYTES),
    (re.compile(r"extra/[\w.-]+"), "text", PT2_ENTRY_BYTES),
]
_NAMED = [  # entries of torch's layout that loading would run, with the reason
    (re.compile(r"data/(aotinductor|mtia|executorch)|xl_model_weights/"),
     "holds compiled native code ({}), which loading would run"),
    (re.compile(r"data/constants/(custom|opaque)_obj"), "holds a Python object ({})"),
    (re.compile(r"data/(weights|constants)/model\.pt$"),
     "holds a pickle in torch's legacy layout ({})"),
]
_REQUIRED = ("archive_format", "archive_version", "models/model.json",
             "data/sample_inputs/model.pt", "data/weights/model_weights_config.json",
             "data/constants/model_constants_config.json")
_TORCH_LOGGERS = ("torch.export", "torch.export.pt2_archive._package",
                  "torch._export.serde.serialize", "torch.export._unlift")


class ExportedModelError(ZooError):
    """The file is not a loadable, safe exported program; the message says why."""


def fail(path: Path, reason: str) -> ExportedModelError:
    return ExportedModelError(f"{path}: {reason}")


def _open_regular(path: Path):
    """The file, opened once; a folder, FIFO, device or link loop named as such."""
    problem = file_problem(path, "an exported program")
    if problem:
        raise fail(path, problem)
    size = path.stat().st_size
    if size > PT2_TENSOR_BYTES + 4 * PT2_ENTRY_BYTES:
        raise fail(path, f"is {gb(size)}, over the {gb(PT2_TENSOR_BYTES)} budget "
                   "for an exported program's weights; refused")
    try:
        return open(path, "rb")  # noqa: SIM115  (closed by the caller's with)
    except OSError as exc:
        raise fail(path, f"cannot be read ({exc.strerror})") from None


def _kind(path: Path, rel: str) -> tuple[str, int]:
    for pattern, reason in _NAMED:
        if pattern.match(rel):
            raise fail(path, reason.format(rel) + "; refused")
    for pattern, kind, budget in _LAYOUT:
        if pattern.fullmatch(rel):
            return kind, budget
    raise fail(path, f"holds {rel!r}, which is not part of a torch.export archive; refused")


def _judge_directory(path: Path, archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo,
                                                                          str, str]]:
    """(entry, name inside the root, kind) for every entry, from the directory alone."""
    infos = archive.infolist()
    if len(infos) > PT2_MAX_ENTRIES:
        raise fail(path, f"holds {len(infos)} entries; refused")
    seen: set[str] = set()
    roots: set[str] = set()
    judged = []
    tensor_bytes = 0
    for info in infos:
        name = info.filename
        if name in seen:
            raise fail(path, f"holds two entries named {name!r}; refused")
        seen.add(name)
        parts = name.split("/")
        if name.startswith(("/", "\\")) or ".." in parts or "\\" in name or "\0" in name \
                or re.match(r"^[A-Za-z]:", name):
            raise fail(path, f"holds an entry named {name!r} (absolute or outside the "
                       "archive); refused")
        if info.is_dir():
            continue
        if len(parts) < 2 or not parts[0]:
            raise fail(path, f"holds {name!r} outside the archive's folder; refused")
        roots.add(parts[0])
        rel = "/".join(parts[1:])
        kind, budget = _kind(path, rel)
        if info.flag_bits & 0x1:
            raise fail(path, f"{name} is encrypted; refused")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise fail(path, f"{name} uses a compression Python cannot check; refused")
        if info.file_size > budget:
            raise fail(path, f"{name} would inflate to {gb(info.file_size)}, over its "
                       f"{gb(budget)} budget; refused")
        if info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > \
                MAX_COMPRESSION_RATIO * max(info.compress_size, 1) + _SMALL:
            raise fail(path, f"{name} is compressed more than {MAX_COMPRESSION_RATIO}:1 "
                       "(a zip bomb); refused")
        if kind == "tensor":
            tensor_bytes += info.file_size
        judged.append((info, rel, kind))
    if tensor_bytes > PT2_TENSOR_BYTES:
        raise fail(path, f"holds {gb(tensor_bytes)} of weights, over the "
                   f"{gb(PT2_TENSOR_BYTES)} budget; refused")
    if len(roots) > 1:
        raise fail(path, f"holds entries under {len(roots)} folders; refused")
    present = {rel for _, rel, _ in judged}
    missing = [r for r in _REQUIRED if r not in present]
    if missing:
        raise fail(path, f"not a torch.export archive (no {missing[0]})")
    return judged


def _json(path: Path, rel: str, data: bytes):
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise fail(path, f"{rel} is not valid JSON{where}; refused") from None


def _check_pickle(path: Path, rel: str, data: bytes) -> None:
    """What torch would retry with weights_only=False must load without it."""
    import torch

    if data[:2] == b"PK":  # torch.save's own zip: judged like the outer one
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            if sum(i.file_size for i in inner.infolist()) > PT2_ENTRY_BYTES or any(
                    i.compress_type != zipfile.ZIP_STORED for i in inner.infolist()):
                raise fail(path, f"{rel} holds compressed or oversized records; refused")
    try:
        with warnings.catch_warnings():  # a protocol note is not the person's
            warnings.simplefilter("ignore")
            torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001  (any refusal is a refusal)
        raise fail(path, f"{rel} is a pickle that is not plain tensors "
                   f"({type(exc).__name__}); refused") from None


def _check_program(path: Path, program) -> None:
    if not isinstance(program, dict) or not isinstance(program.get("graph_module"), dict):
        raise fail(path, "models/model.json is not an exported program; refused")
    if program.get("guards_code"):
        raise fail(path, "carries Python guard code, which loading would execute; refused")
    stack = [program]
    while stack:  # every node target and symbolic size, in the main graph and subgraphs
        item = stack.pop()
        if isinstance(item, dict):
            target = item.get("target")
            if isinstance(target, str) and "inputs" in item and not (
                    _TARGET.match(target) or target in _PY_TARGETS):
                raise fail(path, f"calls {target!r}, which is not a torch operator; refused")
            expr = item.get("expr_str")
            if expr is not None and not _safe_expr(expr):
                raise fail(path, f"holds a symbolic size {str(expr)[:60]!r} that is not "
                           "arithmetic; refused")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _safe_expr(expr) -> bool:
    from torch.utils._sympy import functions

    return isinstance(expr, str) and len(expr) < 10_000 and bool(_EXPR.match(expr)) and all(
        _SYMBOL.match(w) or (w[0].isupper() and "__" not in w and hasattr(functions, w))
        or w in ("True", "False") for w in _EXPR_WORD.findall(expr))


def _check_payloads(path: Path, rel: str, config, sizes: dict[str, int]) -> None:
    """Each weight or constant: no pickle, a record that exists, and a size and strides
    that stay inside it (an empty record would become torch.zeros of any claimed size)."""
    from torch._export.serde.schema import ScalarType
    from torch._export.serde.serialize import _SERIALIZE_TO_TORCH_DTYPE

    folder = rel.rpartition("/")[0]
    entries = config.get("config") if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        raise fail(path, f"{rel} is not a payload table; refused")
    for fqn, meta in entries.items():
        if not isinstance(meta, dict) or meta.get("use_pickle"):
            raise fail(path, f"{fqn} is stored as a pickle; refused")
        record = f"{folder}/{meta.get('path_name')}"
        tensor = meta.get("tensor_meta")
        if record not in sizes or not isinstance(tensor, dict):
            raise fail(path, f"{fqn} names a record the archive does not hold; refused")
        try:
            itemsize = _SERIALIZE_TO_TORCH_DTYPE[ScalarType(tensor["dtype"])].itemsize
            shape = [int(s["as_int"]) for s in tensor["sizes"]]
            strides = [int(s["as_int"]) for s in tensor["strides"]]
            offset = int(tensor["storage_offset"]["as_int"])
        except (KeyError, TypeError, ValueError):
            raise fail(path, f"{fqn} has no plain dtype, size and strides; refused") from None
        if any(v < 0 for v in [*shape, *strides, offset]) or len(shape) != len(strides):
            raise fail(path, f"{fqn} has a negative or mismatched size; refused")
        extent = 0 if 0 in shape else offset + 1 + sum(
            (n - 1) * s for n, s in zip(shape, strides, strict=True))
        if extent * itemsize > max(sizes[record], 0) or (sizes[record] == 0 and extent):
            raise fail(path, f"{fqn} claims {tuple(shape)} ({gb(extent * itemsize)}), more "
                       f"than its record holds ({sizes[record]} bytes); refused")


def sanitized_copy(path: Path, folder: Path) -> Path:
    """Check ``path`` and write what was checked, and only that, to ``folder``."""
    with _open_regular(path) as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise fail(path, f"not a torch.export archive ({exc})") from None
        with archive:
            judged = _judge_directory(path, archive)
            sizes = {rel: info.file_size for info, rel, _ in judged}
            copy = folder / "checked.pt2"
            with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
                for info, rel, kind in sorted(judged, key=lambda j: j[2] == "tensor"):
                    _copy_entry(path, archive, info, rel, kind, out, sizes)
    return copy


def _copy_entry(path, archive, info, rel, kind, out, sizes) -> None:
    try:
        with archive.open(info) as src:
            if kind == "tensor":  # raw bytes, streamed
                with out.open(f"{ROOT}/{rel}", "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                return
            data = src.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        raise fail(path, f"{info.filename} cannot be read ({exc}); refused") from None
    if len(data) != info.file_size:
        raise fail(path, f"{info.filename} is not the size its directory says; refused")
    if kind == "program":
        _check_program(path, _json(path, rel, data))
    elif kind == "config":
        _check_payloads(path, rel, _json(path, rel, data), sizes)
    elif kind == "pickle":
        _check_pickle(path, rel, data)
    else:
        try:
            data.decode()
        except UnicodeDecodeError:
            raise fail(path, f"{rel} is not text; refused") from None
    out.writestr(f"{ROOT}/{rel}", data)


class _UnsafeLoad(Exception):  # noqa: N818  (not a RuntimeError: torch swallows those)
    """Torch asked to unpickle without weights_only while loading an archive."""


_guard = threading.Lock()


@contextlib.contextmanager
def guarded_torch_load(path: Path) -> Iterator[list[str]]:
    """While torch loads a checked copy: ``torch.load`` only with ``weights_only=True``,
    no ``pickle.loads`` or native library from the archive code, torch's log silent.
    Yields the list of refused attempts; any entry there fails the load closed."""
    import torch
    from torch.export.pt2_archive import _package

    tried: list[str] = []
    real_load = torch.load

    def load(f, *args, weights_only=None, **kwargs):
        if weights_only is not True:
            tried.append("torch.load(weights_only=False)")
            raise _UnsafeLoad("unpickling without weights_only")
        return real_load(f, *args, weights_only=True, **kwargs)

    def refuse(what):
        def refused(*_a, **_k):
            tried.append(what)
            raise _UnsafeLoad(what)
        return refused

    class _NoPickle:
        loads = staticmethod(refuse("pickle.loads"))

    loggers = [logging.getLogger(n) for n in _TORCH_LOGGERS]
    with _guard:
        saved = (_package.pickle, _package._load_aoti, [lg.disabled for lg in loggers])
        torch.load, _package.pickle, _package._load_aoti = load, _NoPickle, refuse("aoti")
        for logger in loggers:
            logger.disabled = True
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield tried
        except Exception:
            if not tried:
                raise
        finally:
            torch.load = real_load
            _package.pickle, _package._load_aoti = saved[0], saved[1]
            for logger, was in zip(loggers, saved[2], strict=True):
                logger.disabled = was
    if tried:
        raise fail(path, f"loading it asked for {tried[0]}, which would run code from "
                   "the file; refused")


def load_program(path: Path):
    """The exported program of ``path``, loaded by torch from a checked copy."""
    import torch

    with tempfile.TemporaryDirectory(prefix="explorer-pt2-") as folder:
        copy = sanitized_copy(path, Path(folder))
        try:
            with guarded_torch_load(path), torch.device("cpu"):
                return torch.export.load(copy)
        except ExportedModelError:
            raise
        except Exception as exc:  # noqa: BLE001  (a damaged archive is one message)
            text = str(exc).strip()
            raise fail(path, f"cannot load the program ({type(exc).__name__}"
                       f"{': ' + text.splitlines()[0][:160] if text else ''})") from None
