"""The fuzz corpus of tests/test_fuzz_cli.py through the window: every bad image, weights
file and model file keeps the window alive, shows one readable message and changes
nothing; a job that never returns does not hold the app after Cancel."""

from __future__ import annotations

import re
import threading

import pytest

pytest.importorskip("pytestqt")
from apphelpers import TIMEOUT, gradient_png, load, wait_idle  # noqa: E402
from test_fuzz_cli import USER_MODELS, float_tiff, forged_jpeg, png, state_dict_files  # noqa: E402

CLASS_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception|Interrupt|Exit)\b:|explorer\.\w+\.")

BAD_IMAGES = {
    "strip20k.png": lambda p: p.write_bytes(png(20000, 1)),
    "bomb.png": lambda p: p.write_bytes(png(40000, 40000, rows=False)),
    "liar.png": lambda p: p.write_bytes(png(2000, 2000, rows=False)),
    "liar.jpg": lambda p: p.write_bytes(forged_jpeg(8000)),
    "nan.tif": lambda p: float_tiff(p, float("nan")),
    "empty.png": lambda p: p.write_bytes(b""),
    "text.jpg": lambda p: p.write_text("not an image"),
    "folder.png": lambda p: p.mkdir(),
    "missing.png": lambda p: None,
}
BAD_WEIGHTS = ["meta.pth", "sparse.pth", "complex.pth", "int.pth", "evil.pth",
               "pickle.safetensors", "badheader.safetensors", "text.pth"]
BAD_MODELS = ["exits", "interrupts", "crashes", "returns_none", "returns_text",
              "returns_scalar", "syntax"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("window_corpus")
    for name, make in BAD_IMAGES.items():
        make(root / name)
    state_dict_files(root)
    for name, body in USER_MODELS.items():
        (root / f"{name}.py").write_text("from torch import nn\n" + body)
    return root


def snapshot(w):
    s = w.state
    return (s.model, s.image, s.image_name, s.result, s.weights, s.live)


def readable(message: str) -> bool:
    return bool(message.strip()) and not CLASS_NAME.search(message) and \
        "Traceback" not in message


def expect_message(qtbot, w, count: int) -> str:
    qtbot.waitUntil(lambda: len(w.warnings) > count, timeout=TIMEOUT)
    wait_idle(qtbot, w)
    assert len(w.warnings) == count + 1, w.warnings[count:]
    return w.warnings[-1]


@pytest.fixture
def lenet_with_image(qtbot, window, tmp_path):
    load(qtbot, window, "lenet5")
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "good.png")))
    return window


def test_bad_images_show_a_message_and_change_nothing(qtbot, lenet_with_image, corpus):
    w = lenet_with_image
    before = snapshot(w)
    for name in BAD_IMAGES:
        count = len(w.warnings)
        w.inference.open_image(str(corpus / name))
        message = expect_message(qtbot, w, count)
        assert name in message and readable(message), message
        assert snapshot(w) == before, name
    load(qtbot, w, "resnet18")  # a model switch does not bring any of them back
    qtbot.waitUntil(lambda: w.inference.result is not None, timeout=TIMEOUT)
    assert w.state.image_name == "good.png" and len(w.warnings) == len(BAD_IMAGES)


def test_an_image_that_fails_to_run_is_dropped(qtbot, lenet_with_image, tmp_path,
                                               monkeypatch):
    import explorer.inference.runner as runner

    w = lenet_with_image
    before = snapshot(w)
    monkeypatch.setattr(runner, "run_image", lambda *a, **k: [][1])  # an IndexError
    w.inference.open_image(str(gradient_png(tmp_path / "other.png", 50, 40)))
    message = expect_message(qtbot, w, 0)
    assert readable(message) and "IndexError" not in message
    assert snapshot(w) == before


def test_bad_weights_show_a_message_and_change_nothing(qtbot, lenet_with_image, corpus):
    w = lenet_with_image
    before = snapshot(w)
    for name in BAD_WEIGHTS:
        count = len(w.warnings)
        w.inference.load_weights(str(corpus / name))
        message = expect_message(qtbot, w, count)
        assert name in message and readable(message), message
        assert snapshot(w) == before, name
    assert not (corpus / "ran").exists()  # no pickle code ran
    assert w.windowTitle().endswith("(random init)")


def test_nan_weights_load_with_a_visible_warning(qtbot, lenet_with_image, corpus):
    w = lenet_with_image
    w.inference.load_weights(str(corpus / "nan.pth"))
    message = expect_message(qtbot, w, 0)
    assert "nan.pth" in message and "NaN" in message
    qtbot.waitUntil(lambda: w.state.weights.label == "nan.pth", timeout=TIMEOUT)


def test_bad_model_files_show_their_line_and_change_nothing(qtbot, window, corpus,
                                                            monkeypatch):
    monkeypatch.setenv("EXPLORER_PROBE_SECONDS", "20")
    load(qtbot, window, "lenet5")
    before = snapshot(window)
    for stem in BAD_MODELS:
        count = len(window.warnings)
        window.open_model_file(str(corpus / f"{stem}.py"), None, (1, 3, 32, 32))
        message = expect_message(qtbot, window, count)
        assert re.search(rf"{stem}\.py:\d+", message) and readable(message), message
        assert snapshot(window) == before and window.isVisible(), stem
    assert "sys.exit(0)" in window.warnings[len(window.warnings) - len(BAD_MODELS)]


def test_a_hanging_model_is_cancelled_and_the_next_model_shows(qtbot, window, corpus,
                                                               monkeypatch):
    monkeypatch.setenv("EXPLORER_PROBE_SECONDS", "3")
    load(qtbot, window, "resnet18")
    window.open_model_file(str(corpus / "hang_init.py"), "Net", (1, 3, 32, 32))
    window.cancel()
    load(qtbot, window, "lenet5")
    assert not window.warnings  # cancelled: no message about the stopped probe
    window.open_model_file(str(corpus / "hang_init.py"), "Net", (1, 3, 32, 32))
    message = expect_message(qtbot, window, 0)  # the probe's time limit
    assert "hang_init.py:" in message and "still running after 3 s" in message
    assert window.prepared.name == "lenet5"


def test_a_job_stuck_in_user_code_is_abandoned_on_cancel(qtbot, window, tmp_path):
    """In-process user code that never returns (past its probe): Cancel frees the app."""
    release = tmp_path / "release"
    stuck = tmp_path / "stuck.py"
    stuck.write_text("import os, time\nfrom torch import nn\n\nclass Net(nn.Module):\n"
                     "    def __init__(self):\n        super().__init__()\n"
                     f"        while not os.path.exists({str(release)!r}):\n"
                     "            time.sleep(0.05)\n")
    entered = threading.Event()
    try:
        window.models.open_model(f"{stuck}:Net", {}, (1, 3, 8, 8),
                                 first=lambda progress: entered.set())
        assert entered.wait(TIMEOUT / 1000)
        window.cancel()
        load(qtbot, window, "lenet5")
        assert window.runner.pool.abandoned == 1 and not window.warnings
    finally:
        release.write_text("")  # the abandoned thread ends; its result is dropped


def test_the_worker_runs_one_job_at_a_time(qtbot):
    from explorer.app.controllers.workers import Runner, Worker

    pool = Worker()
    a, b = Runner(pool=pool), Runner(pool=pool)
    busy, overlaps, threads = [0], [], set()
    lock = threading.Lock()

    def job(progress):
        with lock:
            busy[0] += 1
            overlaps.append(busy[0])
            threads.add(threading.get_ident())
        total = sum(range(200_000))
        with lock:
            busy[0] -= 1
        return total

    with qtbot.waitSignal(b.finished, timeout=TIMEOUT):
        for _ in range(3):
            a.background(lambda: job(None))
        a.submit(job)
        b.submit(job)
    assert pool.waitForDone(TIMEOUT)
    assert max(overlaps) == 1 and len(threads) == 1 and len(overlaps) == 5


def test_export_to_a_missing_folder_says_so(qtbot, lenet_with_image, tmp_path):
    from explorer.app.dialogs.export import ExportRequest

    w = lenet_with_image
    before = snapshot(w)
    missing = tmp_path / "nowhere"
    for fmt in ("png", "svg", "json", "csv"):
        assert not w.export(ExportRequest(fmt=fmt, path=str(missing / f"x.{fmt}")))
    assert not w.export_image("overlay", str(missing / "o.png"))
    assert len(w.warnings) == 5 and all("does not exist" in m for m in w.warnings)
    assert snapshot(w) == before and not missing.exists()


def test_sys_exit_in_a_model_file_does_not_close_the_app(qtbot, window, corpus):
    window.open_model_file(str(corpus / "exits.py"), None, (1, 3, 32, 32))
    message = expect_message(qtbot, window, 0)
    assert "exits.py:3" in message and "sys.exit(0)" in message
    assert window.isVisible()
    load(qtbot, window, "lenet5")


def test_open_with_a_model_file_and_its_class_name(qtbot, window, corpus, monkeypatch,
                                                    tmp_path):
    """The CLI hands ``file.py:Name`` to the window ("Open with"); it opens that model."""
    from PySide6.QtWidgets import QInputDialog

    from explorer.app.main import open_files

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("1,3,32,32", True))
    image = gradient_png(tmp_path / "with.png")
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        assert open_files(window, [f"{corpus / 'good.py'}:Net", str(image)])
    assert window.prepared.name == f"{corpus / 'good.py'}:Net"
    assert window.state.image_name == "with.png"


def test_out_of_memory_on_the_cpu_is_a_message_not_an_offer(qtbot, lenet_with_image,
                                                              tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    import explorer.inference.runner as runner

    w = lenet_with_image
    before = snapshot(w)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]))

    def no_memory(*a, **k):
        raise runner.OutOfMemory("out of memory on cpu (3.0 GiB asked for)", "cpu", 3 << 30)

    monkeypatch.setattr(runner, "run_image", no_memory)
    w.inference.open_image(str(gradient_png(tmp_path / "big.png", 60, 50)))
    message = expect_message(qtbot, w, 0)
    assert "out of memory" in message and not asked
    assert snapshot(w)[:5] == before[:5]
