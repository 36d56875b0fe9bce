"""ONNX files in the window: File ▸ Open model file, drag and drop, Open recent and the
command line's "Open with"; the title names the file, its opset and producer; the
inspector shows the ONNX node beside the module; a broken file is one message."""

from __future__ import annotations

from pathlib import Path

import onnx
import torch
from apphelpers import TIMEOUT, drop, gradient_png, load

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
SQUEEZENET = str(LIGHT / "light_squeezenet.onnx")


def _opened(qtbot, window, path: str) -> None:
    qtbot.waitUntil(lambda: window.prepared is not None and window.prepared.name == path
                    and not window.progress.isVisible(), timeout=TIMEOUT)


def test_open_model_file_shows_it_titled_and_remembers_it(qtbot, window):
    window.open_model_path(SQUEEZENET)
    _opened(qtbot, window, SQUEEZENET)
    assert "light_squeezenet.onnx: ONNX opset 9, from onnx-caffe2" in window.windowTitle()
    assert window.settings.value("recent")[0] == SQUEEZENET
    load(qtbot, window, "resnet18")
    action = next(a for a in window.recent_menu.actions() if a.text() == SQUEEZENET)
    action.trigger()  # Open recent
    _opened(qtbot, window, SQUEEZENET)


def test_a_dropped_onnx_file_opens(qtbot, window):
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        drop(window, SQUEEZENET)
    assert window.state.model.name == SQUEEZENET


def test_open_with_on_the_command_line(qtbot, window):
    from explorer.app.main import open_files

    assert open_files(window, [SQUEEZENET])
    _opened(qtbot, window, SQUEEZENET)


def test_the_inspector_shows_the_onnx_node_beside_the_module(qtbot, window):
    window.open_model_path(SQUEEZENET)
    _opened(qtbot, window, SQUEEZENET)
    window.expand_all()
    qtbot.waitUntil(lambda: "fire2.squeeze1x1" in window.state.model.view.nx, timeout=TIMEOUT)
    window.select_node("fire2.squeeze1x1")
    ins = window.inspector
    qtbot.waitUntil(lambda: ins.info is not None and ins.info.node == "fire2.squeeze1x1"
                    and ins.status.text().startswith("weights:"), timeout=TIMEOUT)
    assert ins.fields["ONNX op"] == "Conv (ai.onnx)"
    assert "kernel_shape=[1, 1]" in ins.fields["ONNX attributes"]
    assert ins.fields["kernel_size"] == "1×1"
    assert ins.tensors.rowCount() == 2  # weight and bias, the file's own
    assert ins.status.text() == "weights: weights in the file"


def test_an_image_runs_through_the_files_weights(qtbot, window, tmp_path):
    window.open_model_path(SQUEEZENET)
    _opened(qtbot, window, SQUEEZENET)
    window.inference.open_image(str(gradient_png(tmp_path / "g.png")))
    qtbot.waitUntil(lambda: window.state.result is not None, timeout=TIMEOUT)
    out = window.state.result.capture.output
    assert out.numel() == 1000 and torch.allclose(out.sum(), torch.tensor(1.0))  # softmax
    assert window.state.result.task == "classification" and window.state.result.top_k
    assert not window.inference.predictions.weights_note.isVisible()  # not "noise" here


def test_a_broken_file_is_one_message_and_stays_out_of_recent(qtbot, window, tmp_path):
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(Path(SQUEEZENET).read_bytes()[:500])
    window.open_model_path(str(bad))
    qtbot.waitUntil(lambda: len(window.warnings) > 0, timeout=TIMEOUT)
    assert "not an ONNX model" in window.warnings[-1] and str(bad) in window.warnings[-1]
    assert str(bad) not in (window.settings.value("recent") or [])


def test_the_weights_menu_offers_the_files_own_weights(qtbot, window):
    window.open_model_path(SQUEEZENET)
    _opened(qtbot, window, SQUEEZENET)
    window.weights_menu.refresh()
    first = window.weights_menu.menu.actions()[0]
    assert first.text() == "Weights in the file" and first.isChecked()
    assert not any(a.text() == "Random init" for a in window.weights_menu.menu.actions())
