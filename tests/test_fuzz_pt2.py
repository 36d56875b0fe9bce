"""Crafted exported programs (.pt2): each hostile archive goes through ``explorer info``
in its own process, under a time limit and a memory cap, and must be refused in one
line naming the file; a marker file proves that nothing in it ever ran.

The archives are made here from one genuine export (no binary fixtures): entries
duplicated in each position, zip bombs, names outside the archive, pickles where torch
would unpickle them without ``weights_only``, guard code, a symbolic size that is
Python, native libraries, sizes that lie."""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from childproc import run_all, run_cli_limited
from torch import nn

MARKER = "ran"  # created in the corpus folder by any payload that runs


class Evil:
    """Unpickling this creates the marker."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)))


Entries = list[tuple[str, bytes]]


def entries_of(path: Path) -> Entries:
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def write(path: Path, entries: Entries, deflate: set[str] = frozenset()) -> Path:
    import warnings

    with warnings.catch_warnings():  # zipfile warns about the duplicates on purpose
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(path, "w") as z:
            for name, data in entries:
                z.writestr(name, data, zipfile.ZIP_DEFLATED if name in deflate
                           else zipfile.ZIP_STORED)
    return path


def find(entries: Entries, suffix: str) -> tuple[int, str, bytes]:
    return next((i, n, d) for i, (n, d) in enumerate(entries) if n.endswith(suffix))


def edit_json(entries: Entries, suffix: str, edit: Callable[[dict], None]) -> Entries:
    i, name, data = find(entries, suffix)
    value = json.loads(data)
    edit(value)
    return [*entries[:i], (name, json.dumps(value).encode()), *entries[i + 1:]]


def evil_pickle(marker: str) -> bytes:
    return pickle.dumps(Evil(marker), protocol=2)


def evil_torch_save(marker: str) -> bytes:
    buf = io.BytesIO()
    torch.save({"x": Evil(marker)}, buf)
    return buf.getvalue()


# ------------------------------------------------------------------------------ cases
@dataclass
class Case:
    id: str
    make: Callable[[Entries, str], Entries]  # (genuine entries, marker path) -> crafted
    reason: str  # a regex the one stderr line must match
    deflate: tuple[str, ...] = ()


def _dup(suffix: str, evil_first: bool):
    def make(entries, marker):
        i, name, data = find(entries, suffix)
        bad = (name, evil_pickle(marker) if suffix.endswith(".pt") else data)
        return [*entries[:i], *((bad, (name, data)) if evil_first else ((name, data), bad)),
                *entries[i + 1:]]
    return make


def _dup_json(suffix: str, edit: Callable[[dict, str], None]):
    def make(entries, marker):
        i, name, data = find(entries, suffix)
        value = json.loads(data)
        edit(value, marker)
        return [*entries[:i], (name, json.dumps(value).encode()), (name, data),
                *entries[i + 1:]]
    return make


def _guards(program, marker):
    program["guards_code"] = [f"open({marker!r}, 'w')"]


def _pickled_weight(config, marker):
    next(iter(config["config"].values()))["use_pickle"] = True


def _root(entries: Entries) -> str:
    return entries[0][0].split("/")[0]


def _sympy_size(entries, marker):
    payload = f"__import__('builtins').open({marker!r}, 'w')"

    def edit(program):
        values = program["graph_module"]["graph"]["tensor_values"]
        meta = next(iter(values.values()))
        meta["sizes"][0] = {"as_expr": {"expr_str": payload, "hint": {"as_int": 1}}}
    return edit_json(entries, "models/model.json", edit)


def _huge_empty_weight(entries, marker):
    def edit(config):
        meta = next(iter(config["config"].values()))
        meta["tensor_meta"]["sizes"] = [{"as_int": 1 << 20}, {"as_int": 1 << 20}]
        meta["tensor_meta"]["strides"] = [{"as_int": 1 << 20}, {"as_int": 1}]
    crafted = edit_json(entries, "model_weights_config.json", edit)
    name = next(iter(json.loads(find(entries, "model_weights_config.json")[2])["config"]
                     .values()))["path_name"]
    return [(n, b"" if n.endswith("/" + name) else d) for n, d in crafted]


def _opaque_constant(entries, marker):
    root = _root(entries)

    def edit(config):
        config["config"]["c"] = {"path_name": "opaque_obj_0", "is_param": False,
                                 "use_pickle": True, "tensor_meta": None}
    crafted = edit_json(entries, "model_constants_config.json", edit)
    return [*crafted, (f"{root}/data/constants/opaque_obj_0", evil_pickle(marker))]


CASES = [
    Case("duplicate sample input, payload first", _dup("sample_inputs/model.pt", True),
         r"two entries named"),
    Case("duplicate sample input, payload last", _dup("sample_inputs/model.pt", False),
         r"two entries named"),
    Case("duplicate program, guard code first", _dup_json("models/model.json", _guards),
         r"two entries named"),
    Case("duplicate weights table, pickle first",
         _dup_json("model_weights_config.json", _pickled_weight), r"two entries named"),
    Case("duplicate archive_format", _dup("archive_format", False), r"two entries named"),
    Case("sample input runs code", lambda e, m: [
        (n, evil_torch_save(m) if n.endswith("sample_inputs/model.pt") else d) for n, d in e],
        r"not plain tensors"),
    Case("sample input is a legacy pickle", lambda e, m: [
        (n, evil_pickle(m) if n.endswith("sample_inputs/model.pt") else d) for n, d in e],
        r"not plain tensors"),
    Case("weight flagged as a pickle", lambda e, m: edit_json(
        e, "model_weights_config.json", lambda c: _pickled_weight(c, m)), r"as a pickle"),
    Case("legacy weights pickle", lambda e, m: [
        *e, (f"{_root(e)}/data/weights/model.pt", evil_pickle(m))], r"legacy layout"),
    Case("opaque constant", _opaque_constant, r"Python object"),
    Case("guard code", lambda e, m: edit_json(e, "models/model.json",
                                               lambda p: _guards(p, m)), r"guard code"),
    Case("symbolic size that is Python", _sympy_size, r"symbolic size"),
    Case("target outside torch.ops", lambda e, m: edit_json(
        e, "models/model.json", lambda p: p["graph_module"]["graph"]["nodes"][0].update(
            target="torch.ops.load_library")), r"not a torch operator"),
    Case("dunder target", lambda e, m: edit_json(
        e, "models/model.json", lambda p: p["graph_module"]["graph"]["nodes"][0].update(
            target="torch.ops.aten.__dict__.get")), r"not a torch operator"),
    Case("native library", lambda e, m: [
        *e, (f"{_root(e)}/data/aotinductor/model/model.so", b"\x7fELF")], r"native code"),
    Case("extra pickle", lambda e, m: [*e, (f"{_root(e)}/data/evil.pkl", evil_pickle(m))],
         r"not part of a torch.export archive"),
    Case("traversal", lambda e, m: [*e, (f"{_root(e)}/../../evil.txt", b"x")],
         r"outside the archive"),
    Case("absolute name", lambda e, m: [*e, ("/tmp/evil.txt", b"x")], r"absolute"),
    Case("two folders", lambda e, m: [*e, ("other/archive_format", b"pt2")],
         r"2 folders|two entries"),
    Case("zip bomb sample input", lambda e, m: [
        (n, bytes(200 << 20) if n.endswith("sample_inputs/model.pt") else d) for n, d in e],
        r"budget|zip bomb", deflate=("sample_inputs/model.pt",)),
    Case("bloated program", lambda e, m: [
        (n, d + b" " * (80 << 20) if n.endswith("models/model.json") else d) for n, d in e],
        r"over its [\d.]+ MiB budget", deflate=("models/model.json",)),
    Case("empty record, huge claimed size", _huge_empty_weight, r"more than its record"),
    Case("broken JSON", lambda e, m: [
        (n, d[:-7] if n.endswith("models/model.json") else d) for n, d in e],
        r"models/model\.json is not valid JSON"),
    Case("not a program", lambda e, m: [
        (n, b"[1, 2]" if n.endswith("models/model.json") else d) for n, d in e],
        r"not an exported program"),
    Case("missing sample input", lambda e, m: [
        (n, d) for n, d in e if not n.endswith("sample_inputs/model.pt")],
        r"no data/sample_inputs/model\.pt"),
]


@pytest.fixture(scope="module")
def genuine(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("pt2") / "genuine.pt2"
    torch.export.save(torch.export.export(Tiny().eval(), (torch.randn(1, 3, 16, 16),)), path)
    return path


def _one_line_refusal(result, name: str, reason: str) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("explorer: ") and name in lines[0], lines[0]
    assert re.search(reason, lines[0]), lines[0]
    assert "Traceback" not in result.stdout + result.stderr


@pytest.fixture(scope="module")
def crafted_results(genuine, tmp_path_factory):
    """Every case made in its own folder and run through ``explorer info``, each in its
    own capped process, a few at a time: (folder, result) by case id."""
    jobs, folders = {}, {}
    for case in CASES:
        folder = tmp_path_factory.mktemp("case")
        entries = entries_of(genuine)
        deflate = {n for n, _ in entries if n.endswith(case.deflate)} if case.deflate \
            else set()
        crafted = write(folder / "crafted.pt2", case.make(entries, str(folder / MARKER)),
                        deflate)
        folders[case.id] = folder
        jobs[case.id] = lambda c=crafted, f=folder: run_cli_limited(["info", str(c)], f)
    results = run_all(jobs)
    return {key: (folders[key], results[key]) for key in jobs}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_crafted_archive_is_refused_and_nothing_runs(crafted_results, case):
    folder, result = crafted_results[case.id]
    assert not isinstance(result, Exception), result
    assert not (folder / MARKER).exists(), "a payload in the archive ran"
    _one_line_refusal(result, "crafted.pt2", case.reason)


def test_the_genuine_archive_and_a_recompressed_copy_open(genuine, tmp_path):
    entries = entries_of(genuine)
    deflated = write(tmp_path / "deflated.pt2", entries, {n for n, _ in entries})
    for path in (genuine, deflated):
        result = run_cli_limited(["info", str(path)], tmp_path)
        assert result.returncode == 0 and not result.stderr, result.stderr
        assert "Tiny" in result.stdout


@pytest.mark.parametrize("kind", ["fifo", "folder", "loop", "empty", "text"])
def test_what_is_not_an_archive_file_says_what_it_is(tmp_path, kind):
    path = tmp_path / "x.pt2"
    reason = {"fifo": r"named pipe \(FIFO\)", "folder": r"is a folder, not an exported program",
              "loop": r"symbolic link loop", "empty": r"not a torch\.export archive",
              "text": r"not a torch\.export archive"}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "loop":
        path.symlink_to(tmp_path / "x.pt2")
    else:
        path.write_bytes(b"" if kind == "empty" else b"hello")
    _one_line_refusal(run_cli_limited(["info", str(path)], tmp_path, timeout=60), "x.pt2",
                      reason)


def test_torch_cannot_fall_back_to_unpickling_code_while_loading(tmp_path):
    """Whatever the checks miss: inside the guard torch's own retry without
    weights_only (serialize.deserialize_torch_artifact) fails, and nothing runs."""
    from torch._export.serde.serialize import deserialize_torch_artifact

    from explorer.zoo.pt2_archive import ExportedModelError, guarded_torch_load

    marker = tmp_path / MARKER
    with pytest.raises(ExportedModelError, match="weights_only=False"):
        with guarded_torch_load(tmp_path / "x.pt2"):
            deserialize_torch_artifact(evil_torch_save(str(marker)))
    assert not marker.exists()
    assert torch.load(io.BytesIO(evil_torch_save(str(marker))), weights_only=False)  # restored
    assert marker.exists()
