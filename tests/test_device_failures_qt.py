"""A GPU that fails under the window: one message that offers the CPU, and the model,
image and result stay as they were (tests/fakecuda.py fakes the GPU on a CPU machine)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
import torch  # noqa: E402
from apphelpers import TIMEOUT, gradient_png, load, wait_idle  # noqa: E402
from fakecuda import CUDA_INIT_OOM, NO_KERNEL, fake_cuda  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402


@pytest.fixture
def gpu_window(qtbot, window, tmp_path, monkeypatch):
    """LeNet with an image run on the CPU, then the (fake) GPU chosen; convolutions fail
    with ``window.gpu_fault`` while the device is the GPU."""
    fake_cuda(monkeypatch)
    real_conv = torch.nn.functional.conv2d
    window.gpu_fault = None

    def conv2d(x, *args, **kwargs):
        if window.gpu_fault is not None and not x.is_meta and \
                window.inference.device.type == "cuda":
            raise window.gpu_fault
        return real_conv(x, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "conv2d", conv2d)
    window.offers = []
    window.answer = QMessageBox.No
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: window.offers.append((a[1], a[2])) or window.answer)
    load(qtbot, window, "lenet5")
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "good.png")))
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.set_device("cuda")
    return window


def shown(w):
    s = w.state
    return s.model, s.image, s.image_name, s.result, s.weights


@pytest.mark.parametrize(("fault", "title", "line"), [
    (torch.AcceleratorError(CUDA_INIT_OOM), "Out of memory", "out of memory on cuda"),
    (torch.AcceleratorError(NO_KERNEL), "The device failed",
     "cuda failed: CUDA error: no kernel image is available for execution on the device"),
])
def test_a_failing_gpu_offers_the_cpu_and_keeps_the_state(qtbot, gpu_window, tmp_path,
                                                          fault, title, line):
    w = gpu_window
    before = shown(w)
    w.gpu_fault = fault
    w.inference.open_image(str(gradient_png(tmp_path / "new.png", 60, 50)))
    qtbot.waitUntil(lambda: bool(w.offers), timeout=TIMEOUT)
    wait_idle(qtbot, w)
    assert w.offers == [(title, f"{line}\nRun it on the CPU?")]
    assert shown(w) == before and not w.warnings  # "No": everything as it was
    w.answer = QMessageBox.Yes
    with qtbot.waitSignal(w.inference.ran, timeout=TIMEOUT):
        w.inference.open_image(str(gradient_png(tmp_path / "new.png", 60, 50)))
    assert w.inference.device.type == "cpu" and w.state.image_name == "new.png"
    assert len(w.offers) == 2 and not w.warnings


def test_grad_cam_on_a_full_gpu_offers_the_cpu(qtbot, gpu_window):
    w = gpu_window
    before = shown(w)
    w.gpu_fault = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB.")
    w.inference.grad_cam(0)
    qtbot.waitUntil(lambda: bool(w.offers), timeout=TIMEOUT)
    wait_idle(qtbot, w)
    assert w.offers == [("Out of memory", "out of memory on cuda (20.0 MiB asked for)\n"
                                          "Run it on the CPU?")]
    assert shown(w) == before and not w.warnings

