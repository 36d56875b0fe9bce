"""Every way a GPU fails ends in one line naming the device (CLI: exit 2) and offers the
CPU: a full card however torch reports it, at the model's transfer, at the first kernel,
inside capture and inside Grad-CAM; a device index that is not there; a driver or library
failure. Faked on a CPU-only machine with torch's own exception types and the messages a
real GPU gives (tests/fakecuda.py)."""

from __future__ import annotations

import pytest
import torch
from fakecuda import (
    CUBLAS_ALLOC,
    CUDA_INIT_OOM,
    CUDA_OOM,
    CUDA_ORDINAL,
    CUDNN_INIT,
    NO_DRIVER,
    NO_KERNEL,
    fake_cuda,
    kernel_fails,
    raiser,
)
from PIL import Image
from torch import nn

from explorer import zoo
from explorer.cli import main
from explorer.graph import trace
from explorer.inference import runner
from explorer.inference.devices import choose_device
from explorer.inference.failures import (
    DeviceError,
    OutOfMemory,
    device_failure,
    move_model,
    on_device,
    on_gpu,
)
from explorer.inference.predictions import grad_cam


@pytest.mark.parametrize(("exc", "expected"), [
    (torch.OutOfMemoryError(CUDA_OOM), "out of memory on cuda:0 (2.0 GiB asked for)"),
    (torch.AcceleratorError(CUDA_INIT_OOM), "out of memory on cuda:0"),
    (torch.AcceleratorError(CUBLAS_ALLOC), "out of memory on cuda:0"),
    (torch.AcceleratorError(CUDA_ORDINAL), "cuda:0 failed: CUDA error: invalid device ordinal"),
    (torch.AcceleratorError(NO_KERNEL),
     "cuda:0 failed: CUDA error: no kernel image is available for execution on the device"),
    (RuntimeError(CUDNN_INIT), "cuda:0 failed: cuDNN error: CUDNN_STATUS_NOT_INITIALIZED"),
    (RuntimeError(NO_DRIVER), "cuda:0 failed: Found no NVIDIA driver on your system. "
     "Please check that you have an NVIDIA GPU and installed a driver from "
     "http://www.nvidia.com/Download/index.aspx"),
])
def test_each_device_failure_is_one_typed_line(exc, expected):
    failure = device_failure(exc, "cuda:0")
    assert str(failure) == expected and "\n" not in str(failure)
    assert isinstance(failure, OutOfMemory if "memory" in expected else DeviceError)
    assert failure.device == "cuda:0" and on_gpu(failure)


def test_the_models_own_errors_are_not_the_devices():
    for exc in (RuntimeError("mat1 and mat2 shapes cannot be multiplied (1x10 and 20x5)"),
                RuntimeError("Expected all tensors to be on the same device")):
        assert device_failure(exc, "cuda") is None
        with pytest.raises(RuntimeError) as err, on_device("cuda"):
            raise exc
        assert err.value is exc  # raised as it was: a bug in the model is not hidden
    assert not on_gpu(device_failure(MemoryError(), "cpu"))


def test_a_device_index_that_is_not_there_is_refused_before_anything_moves(monkeypatch):
    fake_cuda(monkeypatch, count=1)
    assert choose_device("cuda:0").index == 0 and choose_device("cuda").type == "cuda"
    with pytest.raises(ValueError, match=r"no device cuda:3 here \(this machine has 1 CUDA "
                                         r"device\(s\)\); available: cpu, cuda"):
        choose_device("cuda:3")


def test_cli_cuda_3_on_a_one_gpu_machine_is_one_line(monkeypatch, capsys, tmp_path):
    fake_cuda(monkeypatch, count=1)
    moved = []
    monkeypatch.setattr(nn.Module, "to", lambda self, *a, **k: moved.append(a) or self)
    image = tmp_path / "photo.png"
    Image.new("RGB", (40, 40)).save(image)
    assert main(["run", "lenet5", str(image), "-o", str(tmp_path / "out"),
                 "--device", "cuda:3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no device cuda:3 here" in err and not moved


@pytest.mark.parametrize("where", ["transfer", "first kernel", "capture"])
def test_cli_out_of_memory_on_the_gpu_is_one_line_offering_the_cpu(where, monkeypatch,
                                                                   capsys, tmp_path):
    fake_cuda(monkeypatch)
    if where == "transfer":  # CUDA's context cannot even be created: the card is full
        monkeypatch.setattr(nn.Module, "to", raiser(torch.AcceleratorError(CUDA_INIT_OOM)))
    elif where == "first kernel":
        kernel_fails(monkeypatch, torch.AcceleratorError(CUDA_INIT_OOM))
    else:
        monkeypatch.setattr(runner, "capture", raiser(torch.OutOfMemoryError(CUDA_OOM)))
    image = tmp_path / "photo.png"
    Image.new("RGB", (40, 40)).save(image)
    assert main(["run", "lenet5", str(image), "-o", str(tmp_path / "out"),
                 "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "out of memory on cuda" in err and err.rstrip().endswith("try --device cpu")
    assert not (tmp_path / "out").exists()


def test_cli_driver_failure_is_one_line(monkeypatch, capsys, tmp_path):
    fake_cuda(monkeypatch)
    kernel_fails(monkeypatch, torch.AcceleratorError(NO_KERNEL))
    image = tmp_path / "photo.png"
    Image.new("RGB", (40, 40)).save(image)
    assert main(["run", "lenet5", str(image), "-o", str(tmp_path / "out"),
                 "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err == (f"explorer: {image}: cuda failed: CUDA error: no kernel image is available "
                   "for execution on the device; try --device cpu\n")


def test_model_transfer_and_grad_cam_raise_typed_errors(monkeypatch):
    fake_cuda(monkeypatch)
    model = zoo.build("lenet5").eval()
    assert move_model(model, "cuda") is model  # the fake moves nothing
    with monkeypatch.context() as m:
        m.setattr(nn.Module, "to", raiser(torch.AcceleratorError(CUDA_INIT_OOM)))
        with pytest.raises(OutOfMemory, match="^out of memory on cuda$"):
            move_model(model, "cuda")
    x = torch.randn(1, 1, 32, 32).to("cuda")
    assert grad_cam(model, x, "features.0")[0].shape == (32, 32)  # works before the fault
    kernel_fails(monkeypatch, torch.OutOfMemoryError(CUDA_OOM))
    with pytest.raises(OutOfMemory, match=r"out of memory on cuda \(2.0 GiB asked for\)"):
        with on_device("cuda"):
            grad_cam(model, x, "features.0")


def test_run_image_reports_a_full_card_at_the_first_kernel(monkeypatch):
    fake_cuda(monkeypatch)
    model = zoo.build("lenet5").eval()
    graph = trace(model, (1, 1, 32, 32))
    kernel_fails(monkeypatch, torch.AcceleratorError(CUDA_INIT_OOM))
    with pytest.raises(OutOfMemory, match="^out of memory on cuda$") as err:
        runner.run_image(model, zoo.get_info("lenet5"), graph, Image.new("RGB", (32, 32)),
                         device="cuda")
    assert err.value.device == "cuda" and err.value.requested is None
