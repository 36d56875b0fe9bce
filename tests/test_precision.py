"""float32 means IEEE float32: the project's runs turn TF32 off for their own work and
give a program that imports the library its own settings back; TF32 is a choice that
must be asked for (``--dtype tf32``, CUDA only). The switches are torch's global flags,
so all of this is checked on the CPU."""

from __future__ import annotations

import pytest
import torch
from fakecuda import fake_cuda
from PIL import Image

from explorer import zoo
from explorer.cli import main
from explorer.graph import trace
from explorer.inference.capture import capture
from explorer.inference.devices import choose_dtype
from explorer.inference.precision import float32_math, settings
from explorer.inference.predictions import grad_cam
from explorer.inference.runner import run_image

IEEE = {"cuda.matmul": "ieee", "cudnn.conv": "ieee", "cudnn.rnn": "ieee",
        "mkldnn.matmul": "ieee", "mkldnn.conv": "ieee", "mkldnn.rnn": "ieee",
        "matmul_precision": "highest", "cuda.matmul.allow_tf32": False,
        "cudnn.allow_tf32": False}


@pytest.fixture(autouse=True)
def torch_defaults():
    """Each test starts from torch's defaults and leaves them behind."""
    def reset():
        torch.set_float32_matmul_precision("highest")
        torch.backends.cudnn.allow_tf32 = True
        for name in ("cuda.matmul", "mkldnn.matmul", "mkldnn.conv", "mkldnn.rnn"):
            _backend(name).fp32_precision = "none"
        for name in ("cudnn.conv", "cudnn.rnn"):
            _backend(name).fp32_precision = "tf32"
    reset()
    defaults = settings()
    yield defaults
    reset()


def _backend(name: str):
    parent, op = name.split(".")
    return getattr(getattr(torch.backends, parent), op)


USERS = {  # what a program importing the library may have chosen
    "defaults": lambda: None,
    "legacy tf32 on": lambda: (setattr(torch.backends.cuda.matmul, "allow_tf32", True),
                               setattr(torch.backends.cudnn, "allow_tf32", True)),
    "legacy tf32 off": lambda: (torch.set_float32_matmul_precision("highest"),
                                setattr(torch.backends.cudnn, "allow_tf32", False)),
    "matmul medium": lambda: torch.set_float32_matmul_precision("medium"),
    "new api": lambda: (setattr(torch.backends.cudnn.conv, "fp32_precision", "ieee"),
                        setattr(torch.backends.cuda.matmul, "fp32_precision", "tf32")),
}


@pytest.mark.parametrize("user", USERS)
def test_the_scope_is_ieee_inside_and_restores_the_users_settings(user):
    USERS[user]()
    before = settings()
    with float32_math():
        assert settings() == IEEE
        with float32_math():  # nested (run_image calls capture): still IEEE
            assert settings() == IEEE
        assert settings() == IEEE
    assert settings() == before
    with pytest.raises(KeyError), float32_math():
        raise KeyError("a failure inside")
    assert settings() == before


def test_tf32_is_a_choice_for_the_gpu_only(torch_defaults):
    with float32_math(tf32=True):
        inside = settings()
    assert inside["cuda.matmul"] == inside["cudnn.conv"] == inside["cudnn.rnn"] == "tf32"
    assert inside["cuda.matmul.allow_tf32"] and inside["cudnn.allow_tf32"]
    assert inside["mkldnn.conv"] == "ieee"  # the CPU's convolutions stay IEEE
    assert settings() == torch_defaults


def _recording(model, seen):
    model.register_forward_hook(lambda m, a, o: seen.append(settings()))
    return model


def test_capture_grad_cam_and_run_image_compute_in_ieee_float32():
    torch.set_float32_matmul_precision("high")  # the importing program's own choice
    torch.backends.cudnn.allow_tf32 = True
    before = settings()
    seen = []
    model = zoo.build("lenet5").eval()
    graph = trace(model, (1, 1, 32, 32))
    _recording(model, seen)
    x = torch.randn(1, 1, 32, 32)
    with torch.inference_mode():
        capture(model, x, graph, "all")
        capture(model, x, graph, ["features.0"], tf32=True)
    grad_cam(model, x, "features.3")
    run_image(model, zoo.get_info("lenet5"), graph, Image.new("RGB", (32, 32)))
    assert seen[0] == seen[2] == seen[3] == IEEE
    assert seen[1]["cudnn.conv"] == "tf32" and len(seen) == 4
    assert settings() == before


def test_cli_dtype_tf32(monkeypatch, capsys, tmp_path):
    image = tmp_path / "photo.png"
    Image.new("RGB", (40, 40)).save(image)
    assert main(["run", "lenet5", str(image), "-o", str(tmp_path / "o"), "--device", "cpu",
                 "--dtype", "tf32"]) == 2
    assert capsys.readouterr().err == ("explorer: tf32 is offered on GPUs only; use float32 "
                                       "on the CPU\n")
    fake_cuda(monkeypatch)
    assert choose_dtype("tf32", torch.device("cuda")) is torch.float32
    seen = []
    real_build = zoo.build
    monkeypatch.setattr(zoo, "build", lambda *a, **k: _recording(real_build(*a, **k), seen))
    for dtype in ("tf32", "float32"):
        assert main(["run", "lenet5", str(image), "-o", str(tmp_path / dtype),
                     "--device", "cuda", "--dtype", dtype]) == 0
    runs = seen[1::2]  # each command traces (on meta: no arithmetic), then runs
    assert len(seen) == 4 and [s["cudnn.conv"] for s in runs] == ["tf32", "ieee"]
    assert settings()["cudnn.conv"] == "tf32"  # torch's default, back after each run
