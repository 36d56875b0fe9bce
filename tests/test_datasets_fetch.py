"""Fetching MNIST and CIFAR-10 from a local server on 127.0.0.1 (never the internet), with
tiny files in the publishers' formats and their checksums: a good fetch reads back, a
wrong checksum, a truncated body and no server each fail in one line and keep nothing."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import pickle
import socket
import struct
import tarfile

import numpy as np
import pytest
import torch
from test_download import Server

from explorer.inference.download import ChecksumError, InterruptedDownload, OfflineError
from explorer.training import DataError, catalogue, load_dataset
from explorer.training.catalogue import BASE_URL_ENV, datasets_dir


def idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def cifar_tarball(rng: np.random.Generator, per_batch: int = 6) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        def add(name: str, obj) -> None:
            body = pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))

        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            add(name, {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                       b"labels": rng.integers(0, 10, per_batch).tolist()})
        add("batches.meta", {b"label_names": [f"c{i}".encode() for i in range(10)]})
    return buffer.getvalue()


@pytest.fixture
def served(tmp_path, monkeypatch):
    """Tiny MNIST and CIFAR-10 files on a local server, the catalogue pointed at them."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    server = Server()
    monkeypatch.setenv(BASE_URL_ENV, server.url)
    rng = np.random.default_rng(0)
    bodies = {
        "train-images-idx3-ubyte.gz": idx(rng.integers(0, 256, (20, 28, 28))),
        "train-labels-idx1-ubyte.gz": idx(rng.integers(0, 10, 20)),
        "t10k-images-idx3-ubyte.gz": idx(rng.integers(0, 256, (8, 28, 28))),
        "t10k-labels-idx1-ubyte.gz": idx(rng.integers(0, 10, 8)),
        "cifar-10-python.tar.gz": cifar_tarball(rng),
    }
    server.files.update(bodies)
    table = {}
    for name, remote in catalogue.CATALOGUE.items():
        files = tuple(dataclasses.replace(f, sha256=hashlib.sha256(bodies[f.file_name])
                                          .hexdigest(), size=len(bodies[f.file_name]))
                      for f in remote.files)
        table[name] = dataclasses.replace(remote, files=files)
    monkeypatch.setattr(catalogue, "CATALOGUE", table)
    yield server
    server.close()


def cached(name: str) -> list[str]:
    folder = datasets_dir() / name
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_mnist_fetched_checked_and_read(served):
    seen = []
    data = load_dataset("mnist", progress=lambda done, total: seen.append((done, total)))
    assert tuple(data.train_x.shape) == (20, 1, 28, 28) and len(data.test_y) == 8
    assert data.train_x.dtype == torch.uint8 and not data.flippable
    assert len(cached("mnist")) == 4  # no temporary file beside them
    total = catalogue.CATALOGUE["mnist"].size()
    assert seen[-1] == (total, total) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    load_dataset("mnist")
    assert len(served.requests) == 4  # the second load is from the cache


def test_cifar10_tarball_read_without_extracting(served):
    data = load_dataset("cifar10")
    assert tuple(data.train_x.shape) == (30, 3, 32, 32) and len(data.test_x) == 6
    assert data.classes == tuple(f"c{i}" for i in range(10))
    assert cached("cifar10") == ["cifar-10-python.tar.gz"]


def test_wrong_checksum_keeps_nothing(served, monkeypatch):
    remote = catalogue.CATALOGUE["cifar10"]
    bad = dataclasses.replace(remote, files=(dataclasses.replace(remote.files[0],
                                                                 sha256="0" * 64),))
    monkeypatch.setitem(catalogue.CATALOGUE, "cifar10", bad)
    with pytest.raises(ChecksumError, match="sha256") as err:
        load_dataset("cifar10")
    assert "\n" not in str(err.value) and str(datasets_dir() / "cifar10") in str(err.value)
    assert cached("cifar10") == []


def test_truncated_body_keeps_nothing(served):
    served.cut.add("cifar-10-python.tar.gz")
    with pytest.raises(InterruptedDownload, match="broke off"):
        load_dataset("cifar10")
    assert cached("cifar10") == []


def test_offline_is_one_line(served, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(BASE_URL_ENV, f"http://127.0.0.1:{port}")
    with pytest.raises(OfflineError, match="offline") as err:
        load_dataset("mnist")
    assert "\n" not in str(err.value) and cached("mnist") == []


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    from explorer.training.readers import read_cifar10

    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    body = pickle.dumps({b"data": Evil(), b"labels": []})
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in ("data_batch_1", "test_batch"):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    with pytest.raises(DataError, match="refused builtins.print"):
        read_cifar10(path)


def test_damaged_idx_is_named(tmp_path):
    from explorer.training.readers import read_idx

    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"abc"))
    with pytest.raises(DataError, match="header says"):
        read_idx(path)
