"""A hostile server on 127.0.0.1 cannot make a download last forever, fill the disk or
lead the client off http(s); a signal ends it without a partial file; a file that only
carries a published name is not loaded as the published set."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch
from childproc import REPO

from explorer import zoo
from explorer.inference import download
from explorer.inference.catalogue import checkpoint_dir, get_weight_set
from explorer.inference.download import BASE_URL_ENV, DownloadError, fetch, load_published


class Hostile:
    """Answers every GET the way ``mode`` says."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sent = 0
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                mode = hostile.mode
                if mode.startswith("redirect:"):
                    self.send_response(302)
                    self.send_header("Location", mode.partition(":")[2])
                    self.end_headers()
                    return
                self.send_response(200)
                if mode == "huge length":
                    self.send_header("Content-Length", str(50 * 10**9))
                self.end_headers()
                try:
                    while True:  # "trickle": a byte a tick; "endless": as fast as it goes
                        self.wfile.write(b"x" if mode == "trickle" else bytes(1 << 16))
                        self.wfile.flush()
                        hostile.sent += 1
                        if mode == "trickle":
                            time.sleep(0.05)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/m"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    servers = []

    def start(mode: str) -> Hostile:
        server = Hostile(mode)
        servers.append(server)
        monkeypatch.setenv(BASE_URL_ENV, server.url)
        return server

    yield start
    for server in servers:
        server.close()


def small_set():
    """resnet18's entry, said to be 1 MiB: enough to judge, quick to exceed."""
    return dataclasses.replace(get_weight_set("resnet18"), file_size_mib=1.0)


def nothing_left() -> bool:
    folder = checkpoint_dir()
    return not folder.exists() or not [p for p in os.listdir(folder) if ".part" in p]


def test_a_trickle_is_a_stall(hostile, monkeypatch):
    monkeypatch.setattr(download, "STALL_S", 0.5)
    hostile("trickle")
    with pytest.raises(download.InterruptedDownload, match=r"stalled"):
        fetch(small_set())
    assert nothing_left()


def test_an_endless_body_is_cut_after_the_catalogues_size(hostile):
    server = hostile("endless")
    with pytest.raises(DownloadError, match=r"more than .* bytes for a file of 1\.0 MiB"):
        fetch(small_set())
    assert server.sent * (1 << 16) < 8 << 20 and nothing_left()


def test_a_content_length_far_from_the_catalogue_is_refused_before_the_body(hostile):
    hostile("huge length")
    with pytest.raises(DownloadError, match=r"announces 50,000,000,000 bytes"):
        fetch(small_set())
    assert nothing_left()


@pytest.mark.parametrize("where", ["ftp://example.org/x.pth", "file:///etc/passwd"])
def test_a_redirect_off_http_is_refused(hostile, where):
    hostile(f"redirect:{where}")  # urllib itself already refuses file:
    with pytest.raises(DownloadError, match=r"not an http\(s\) address|is not allowed"):
        fetch(small_set())


@pytest.mark.parametrize("base", ["not a url", "ftp://mirror/x", "file:///tmp"])
def test_a_bad_base_url_is_one_line(tmp_path, monkeypatch, capsys, base):
    from explorer.cli import main

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv(BASE_URL_ENV, base)
    assert main(["weights", "download", "resnet18"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("explorer: ") and "is not an http(s) address" in err[-1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_download_and_takes_the_partial_file(hostile, tmp_path, sig):
    hostile("trickle")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-m", "explorer", "weights", "download",
                              "resnet18"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    deadline = time.monotonic() + 60
    while not (folder.exists() and any(".part" in p for p in os.listdir(folder))):
        assert time.monotonic() < deadline and child.poll() is None, child.communicate()
        time.sleep(0.05)
    child.send_signal(sig)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 2 and "download interrupted; nothing was kept" in err, err
    assert not [p for p in os.listdir(folder) if ".part" in p]


def test_a_file_named_like_a_published_set_is_not_loaded_as_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    ws = get_weight_set("resnet18")
    checkpoint_dir().mkdir(parents=True)
    torch.save(zoo.build("resnet18").state_dict(), ws.cache_path())
    with pytest.raises(download.ChecksumError, match=r"not the published file"):
        load_published(ws)


def test_a_partial_file_of_a_process_that_is_gone_is_removed(tmp_path, monkeypatch):
    """SIGKILL leaves a .part no handler could remove: the next download does."""
    from test_download import Server, publish

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    server = Server()
    monkeypatch.setenv(BASE_URL_ENV, server.url)
    try:
        ws = publish(server, get_weight_set("resnet18"), zoo.build("lenet5").state_dict(),
                     "lenet5")
        gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout.strip()
        checkpoint_dir().mkdir(parents=True)
        orphan = checkpoint_dir() / f".{ws.file_name}.{gone}.abc123.part"
        alive = checkpoint_dir() / f".{ws.file_name}.{os.getppid()}.def456.part"
        orphan.write_bytes(b"half")
        alive.write_bytes(b"still being written")
        fetch(ws)
        assert not orphan.exists() and alive.exists()
    finally:
        server.close()
