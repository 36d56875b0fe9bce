"""Model ▸ Weights in the app: a published set downloaded from a local server on
127.0.0.1 (never the internet) with progress and cancel, the model rebuilt with the
options the set fixes, and images read with the set's own categories."""

from __future__ import annotations

import dataclasses
import os

import pytest

pytest.importorskip("pytestqt")
from apphelpers import TIMEOUT, load  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QProgressBar  # noqa: E402
from test_download import Server, publish  # noqa: E402

from explorer import zoo  # noqa: E402
from explorer.assets import sample_images  # noqa: E402
from explorer.inference import catalogue  # noqa: E402
from explorer.inference.download import BASE_URL_ENV  # noqa: E402
from explorer.inference.predictions import load_labels  # noqa: E402

MODEL = "shufflenet_v2_x0_5"  # the smallest torchvision set in the catalogue (5 MB)


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A fabricated set for MODEL that needs 10 classes named as digits (other options
    and other categories than the model shown by default), served locally."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    server = Server()
    monkeypatch.setenv(BASE_URL_ENV, server.url)
    real = catalogue.get_weight_set(MODEL)
    base = dataclasses.replace(real, name="DIGITS_V1", options={**real.options,
                                                                "num_classes": 10},
                               num_classes=10, labels="digits")
    ws = publish(server, base, zoo.build(MODEL, **base.options).state_dict(), MODEL)
    monkeypatch.setattr(catalogue, "weight_sets", lambda m: [ws] if m == MODEL else [])
    yield server, ws
    server.close()


def choose(w, ws):
    """Trigger the set's entry of Model ▸ Weights, as a person does."""
    w.weights_menu.refresh()
    action = next(a for a in w.weights_menu.menu.actions() if a.text().startswith(ws.name))
    action.trigger()


def leftovers() -> list[str]:
    folder = catalogue.checkpoint_dir()
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_choosing_a_set_downloads_rebuilds_and_uses_its_categories(qtbot, window, served):  # noqa: F811
    server, ws = served
    load(qtbot, window, MODEL)
    window.inference.open_image(str(sample_images()[0]))
    qtbot.waitUntil(lambda: window.state.result is not None, timeout=TIMEOUT)
    panel = window.inference.predictions
    assert not panel.note_box.isHidden()  # untrained, said plainly, with the way out
    assert panel.offer_button.text().startswith("Use DIGITS_V1")

    seen: list[tuple[int, int]] = []
    window.weights_menu.progressed.connect(lambda done, total: seen.append((done, total)))
    texts = [a.text() for a in window.weights_menu.menu.actions()]
    assert any(t.startswith("DIGITS_V1") and t.endswith("download") for t in texts)
    choose(window, ws)
    qtbot.waitUntil(lambda: window.state.weights.label == ws.label
                    and window.state.result is not None and not window.progress.isVisible(),
                    timeout=TIMEOUT)
    size = len(server.files[ws.file_name])
    done = [d for d, _ in seen]
    assert done == sorted(done) and len(seen) > 3 and seen[-1] == (size, size)
    assert window.windowTitle() == f"Architecture Explorer — {MODEL} ({ws.label})"
    assert window.state.model.options["num_classes"] == 10  # the options followed the set
    digits = set(load_labels("digits", 10))
    top = window.state.result.top_k
    assert len(top) == 5 and {p["label"] for p in top} <= digits
    bars = panel.bars.findChildren(QProgressBar, "top_k")
    assert bars and all(b.format().split()[0] in digits for b in bars)
    assert panel.note_box.isHidden()
    assert leftovers() == [ws.file_name]

    # back to random init, then the set again: from the cache, no second request
    next(a for a in window.weights_menu.menu.actions() if a.text() == "Random init").trigger()
    assert not window.state.weights.trained
    qtbot.waitUntil(lambda: window.state.result is not None
                    and not panel.note_box.isHidden(), timeout=TIMEOUT)
    choose(window, ws)
    qtbot.waitUntil(lambda: window.state.weights.label == ws.label, timeout=TIMEOUT)
    assert len(server.requests) == 1
    assert any(a.isChecked() and a.text().startswith(ws.name) and a.text().endswith("cached")
               for a in window.weights_menu.menu.actions())


def test_the_offer_button_loads_the_published_weights(qtbot, window, served):  # noqa: F811
    _, ws = served
    load(qtbot, window, MODEL)
    window.inference.open_image(str(sample_images()[0]))
    qtbot.waitUntil(lambda: window.state.result is not None, timeout=TIMEOUT)
    qtbot.mouseClick(window.inference.predictions.offer_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.state.weights.label == ws.label, timeout=TIMEOUT)


def test_cancel_mid_download_leaves_nothing(qtbot, window, served):  # noqa: F811
    server, ws = served
    load(qtbot, window, MODEL)
    menu = window.weights_menu

    def cancel_once_started(done, total):  # on the download's thread, mid-transfer
        if done > 0:
            menu.runner.cancel()

    menu.progressed.connect(cancel_once_started, Qt.DirectConnection)
    choose(window, ws)
    qtbot.waitUntil(lambda: menu.downloading is None, timeout=TIMEOUT)
    assert "cancelled" in window.status_label.text()
    assert leftovers() == [] and not ws.is_cached()
    assert not window.state.weights.trained and window.warnings == []
    assert window.state.model.options.get("num_classes") != 10  # the model stayed


def test_a_failed_download_is_one_message_and_keeps_the_model(qtbot, window, served):  # noqa: F811
    server, ws = served
    server.files.clear()  # 404
    load(qtbot, window, MODEL)
    asked = []  # the offline dialog: its message, then Open folder / Choose file
    window.weights_menu.offline_choice = lambda message, folder: asked.append(
        (message, folder)) or "file"
    window.ask_weights = lambda: asked.append("chose a file")
    choose(window, ws)
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=TIMEOUT)
    message, folder = asked[0]
    assert "404" in message and ws.file_name in message and folder == ws.cache_path().parent
    assert asked[1] == "chose a file" and not window.warnings
    assert leftovers() == [] and not window.state.weights.trained


def test_sigterm_mid_download_closes_the_window_and_leaves_nothing(qtbot, window, served):  # noqa: F811
    """A logout or ``kill`` during a download: the window closes as its close button
    does, and the partial file goes with it (it used to stay until the next download)."""
    import signal

    from explorer.app.main import close_on_signals

    server, ws = served
    load(qtbot, window, MODEL)
    menu = window.weights_menu
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    for sig in saved:
        signal.signal(sig, signal.SIG_DFL)
    try:
        close_on_signals(window)
        sent = []

        def terminate_once_started(done, total):  # on the download's thread, mid-transfer
            if done > 0 and not sent:
                sent.append(done)
                os.kill(os.getpid(), signal.SIGTERM)
                menu.runner._current.cancelled.wait(30)  # held mid-transfer until closed

        menu.progressed.connect(terminate_once_started, Qt.DirectConnection)
        choose(window, ws)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)
        assert sent and leftovers() == [] and not ws.is_cached()
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
