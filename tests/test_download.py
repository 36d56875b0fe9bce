"""Fetching published weights from a local HTTP server on 127.0.0.1 (never the internet):
download then load, the cache, and every way a transfer can fail leaving nothing behind."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import io
import os
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch

from explorer import zoo
from explorer.inference import download
from explorer.inference.catalogue import checkpoint_dir, get_weight_set
from explorer.inference.download import (
    BASE_URL_ENV,
    ChecksumError,
    DiskFullError,
    DownloadCancelled,
    HTTPStatusError,
    InterruptedDownload,
    OfflineError,
    fetch,
    load_published,
)


class Server:
    """Serves ``files`` (name -> bytes); a name in ``cut`` gets half its body, then the
    connection closes. ``requests`` lists the paths asked for."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: set[str] = set()
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                name = self.path.rsplit("/", 1)[-1]
                server.requests.append(self.path)
                body = server.files.get(name)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if name in server.cut else body)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mirror"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # torch.hub's cache goes here
    s = Server()
    monkeypatch.setenv(BASE_URL_ENV, s.url)
    yield s
    s.close()


def _serialise(state: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def publish(server: Server, ws, state: dict, stem: str, good_hash: bool = True):
    """Serve ``state`` under a torchvision-style name carrying its sha256 prefix (or a
    wrong one) and return ``ws`` pointed at it."""
    body = _serialise(state)
    prefix = hashlib.sha256(body).hexdigest()[:8] if good_hash else "00000000"
    name = f"{stem}-{prefix}.pth"
    server.files[name] = body
    return dataclasses.replace(ws, url=f"https://download.example.org/models/{name}",
                               file_size_mib=round(len(body) / 2**20, 1))


@pytest.fixture
def lenet_set(server):
    """A tiny fabricated set (LeNet-5, about 250 kB: several chunks) and its weights."""
    source = zoo.build("lenet5")
    base = dataclasses.replace(get_weight_set("resnet18"), model="lenet5", options={},
                               num_classes=10, labels="digits", key_rules=())
    return publish(server, base, source.state_dict(), "lenet5"), source


def leftovers() -> list[str]:
    folder = checkpoint_dir()
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_download_then_load_with_monotone_progress(server, lenet_set):
    ws, source = lenet_set
    seen: list[tuple[int, int | None]] = []
    result = load_published(ws, progress=lambda done, total: seen.append((done, total)))
    size = len(server.files[ws.file_name])
    assert result.path == checkpoint_dir() / ws.file_name and result.path.stat().st_size == size
    assert leftovers() == [ws.file_name]  # no temporary file left beside it
    assert result.path.stat().st_mode & 0o044  # readable by others, as torch.hub's files
    for key, tensor in source.state_dict().items():
        assert torch.equal(result.model.state_dict()[key], tensor), key
    assert result.report.ok and result.weight_set is ws
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[0] == 0 and seen[-1] == (size, size)
    assert len(seen) > 3  # streamed in chunks, not in one piece
    assert server.requests == [f"/mirror/{ws.file_name}"]  # the base URL override was used


def test_second_load_makes_no_request(server, lenet_set):
    ws, _ = lenet_set
    load_published(ws)
    load_published(ws)
    assert ws.is_cached() and len(server.requests) == 1


def test_wrong_hash_is_refused_and_nothing_kept(server, lenet_set):
    _, source = lenet_set
    ws = publish(server, get_weight_set("resnet18"), source.state_dict(), "lenet5",
                 good_hash=False)
    with pytest.raises(ChecksumError) as err:
        fetch(ws)
    message = str(err.value)
    assert ws.file_name in message and "sha256" in message and "\n" not in message
    assert str(checkpoint_dir()) in message  # says where to put the file by hand
    assert leftovers() == [] and not ws.is_cached()


def test_http_404(server, lenet_set):
    ws, _ = lenet_set
    missing = dataclasses.replace(ws, url=ws.url.replace("lenet5-", "gone-"))
    with pytest.raises(HTTPStatusError, match="answered 404") as err:
        fetch(missing)
    assert err.value.status == 404 and err.value.url.endswith(missing.file_name)
    assert leftovers() == []


def test_refused_connection_reads_as_offline(server, lenet_set, monkeypatch):
    ws, _ = lenet_set
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(BASE_URL_ENV, f"http://127.0.0.1:{port}")
    with pytest.raises(OfflineError, match=re.escape(f"127.0.0.1:{port}/{ws.file_name}")) as err:
        fetch(ws)
    assert "offline" in str(err.value) and "by hand" in str(err.value)
    assert leftovers() == []


def test_server_closing_mid_body(server, lenet_set):
    ws, _ = lenet_set
    server.cut.add(ws.file_name)
    with pytest.raises(InterruptedDownload, match="broke off after") as err:
        fetch(ws)
    assert ws.file_name in str(err.value)
    assert leftovers() == []


def test_cancel_mid_way(server, lenet_set):
    ws, _ = lenet_set
    cancel = threading.Event()

    def progress(done, total):
        if done > 0:  # after the first chunk
            cancel.set()

    with pytest.raises(DownloadCancelled):
        load_published(ws, progress, cancel)
    assert leftovers() == [] and len(server.requests) == 1


def test_disk_full_leaves_nothing(server, lenet_set, monkeypatch):
    ws, _ = lenet_set
    real_fdopen = os.fdopen

    class Full(io.RawIOBase):
        """A file that takes 100 kB, then reports ENOSPC as a full disk does."""

        def __init__(self, f):
            self.f, self.n = f, 0

        def write(self, data):
            self.n += len(data)
            if self.n > 100_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(data)

        def close(self):
            self.f.close()
            super().close()

    with monkeypatch.context() as patch:
        patch.setattr(download.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
        with pytest.raises(DiskFullError, match="disk full") as err:
            fetch(ws)
    assert ws.file_name in str(err.value) and "TORCH_HOME" in str(err.value)
    assert leftovers() == []


def test_unwritable_cache_folder(server, lenet_set, tmp_path, monkeypatch):
    ws, _ = lenet_set
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    monkeypatch.setenv("TORCH_HOME", str(blocker))
    with pytest.raises(DiskFullError, match="TORCH_HOME"):
        fetch(ws)
    assert server.requests == []


def test_file_already_in_torchvision_cache_is_used(server, lenet_set):
    """A person who used torchvision has the file already: nothing is downloaded."""
    ws, source = lenet_set
    checkpoint_dir().mkdir(parents=True)
    (checkpoint_dir() / ws.file_name).write_bytes(server.files[ws.file_name])
    load_published(ws)
    assert server.requests == []


def test_densenet_legacy_keys_load(server):
    """torchvision's DenseNet files predate PyTorch 0.4.1: keys 'norm.1', 'conv.2', ...
    and no BatchNorm counters. The catalogue's key rule (torchvision's regex) maps them."""
    ws = get_weight_set("densenet121")
    small = {**ws.options, "growth_rate": 4}  # the same layout, a few kB per layer
    source = zoo.build("densenet121", **small)
    legacy = {}
    for key, tensor in source.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        legacy[re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", key)] = tensor
    assert "features.denseblock1.denselayer1.norm.1.weight" in legacy
    ws = publish(server, dataclasses.replace(ws, options=small), legacy, "densenet121")
    result = load_published(ws)
    assert result.report.ok
    for key, tensor in source.state_dict().items():
        assert torch.equal(result.model.state_dict()[key], tensor), key


# ---- the command line ---------------------------------------------------------------------

def test_cli_weights_download_and_list(server, lenet_set, monkeypatch, capsys):
    from explorer import cli
    from explorer.inference import catalogue

    ws, _ = lenet_set
    monkeypatch.setattr(catalogue, "load_catalogue", lambda: catalogue.Catalogue((ws,), ()))
    assert cli.main(["weights", "download", "lenet5"]) == 0
    assert ws.is_cached() and str(ws.cache_path()) in capsys.readouterr().out
    assert cli.main(["weights", "lenet5"]) == 0
    assert "cached" in capsys.readouterr().out


def test_cli_download_failure_is_one_line(server, monkeypatch, capsys):
    from explorer import cli

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(BASE_URL_ENV, f"http://127.0.0.1:{port}")
    assert cli.main(["weights", "download", "resnet18"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("explorer: ") and "offline" in err[-1] and len(err) == 2
    assert leftovers() == []


def test_cli_run_pretrained_uses_the_sets_labels(server, tmp_path, monkeypatch, capsys):
    """A file already in the cache whose hash matches its name is used as is; the
    prediction names the set. A file that only has the name is not the set."""
    import json

    from explorer import cli
    from explorer.assets import sample_images
    from explorer.inference import catalogue

    real = get_weight_set("shufflenet_v2_x0_5")
    base = dataclasses.replace(real, options={**real.options, "num_classes": 10},
                               num_classes=10, labels="digits")
    ws = publish(server, base, zoo.build(real.model, **base.options).state_dict(),
                 "shufflenet_v2_x0_5")
    monkeypatch.setattr(catalogue, "load_catalogue", lambda: catalogue.Catalogue((ws,), ()))
    checkpoint_dir().mkdir(parents=True)
    ws.cache_path().write_bytes(server.files[ws.file_name])
    out = tmp_path / "out"
    argv = ["run", ws.model, str(sample_images()[0]), "--weights", "pretrained", "-o",
            str(out)]
    assert cli.main(argv) == 0
    pred = json.loads((out / "prediction.json").read_text())
    assert pred["weights"] == ws.label and server.requests == []
    assert pred["top_k"][0]["label"] in ("zero", "one", "two", "three", "four", "five", "six",
                                         "seven", "eight", "nine")
    other = tmp_path / "other.pth"  # same size, not the file: replaced, then hashed again
    torch.manual_seed(1)
    torch.save(zoo.build(real.model, **base.options).state_dict(), other)
    os.replace(other, ws.cache_path())
    assert cli.main(argv) == 2
    assert "not the published file" in capsys.readouterr().err


def test_a_cached_file_is_hashed_once_then_remembered(server, lenet_set, monkeypatch):
    from explorer.inference import cache_check

    ws, _ = lenet_set
    checkpoint_dir().mkdir(parents=True)
    ws.cache_path().write_bytes(server.files[ws.file_name])
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda f, *a, **k: opened.append(str(f)) or
                        real_open(f, *a, **k))
    fetch(ws)
    fetch(ws)
    assert opened.count(str(ws.cache_path())) == 1  # read for its hash once
    os.utime(ws.cache_path(), ns=(1, 1))  # touched: hashed again
    fetch(ws)
    assert opened.count(str(ws.cache_path())) == 2
    assert cache_check.memo_path(ws.cache_path()).exists() and server.requests == []
