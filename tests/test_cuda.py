"""The GPU held to the CPU's standard, on a real CUDA device (skipped without one): every
zoo model agrees with the CPU in float32, a full card and a device that is not there end
in one line. Needs torch with CUDA, no Qt: ``make test-gpu``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from explorer import zoo
from explorer.cli import main
from explorer.inference.precision import settings
from explorer.inference.predictions import main_output

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
ROOT = Path(__file__).resolve().parents[1]
SMALL = {"inception_v3": 96, "xception": 96, "unet": 188, "deconvnet": 224, "segnet": 64,
         "lenet5": 32}  # the smallest input each family takes (tests/test_zoo.py)


def _input(name: str) -> torch.Tensor:
    c = zoo.input_shape(name)[1]
    size = 32 if name.endswith("_cifar") or "_cifar_" in name else SMALL.get(name, 64)
    return torch.randn(1, c, size, size)


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_zoo_model_agrees_with_the_cpu_in_float32(name):
    """Random weights, fixed seed: relative difference ≤ 1e-4, same top-5 or same mask."""
    from explorer.graph import trace
    from explorer.inference.capture import capture

    torch.manual_seed(0)
    model = zoo.build(name).eval()
    x = _input(name)
    graph = trace(model, x.shape)
    before = settings()
    with torch.inference_mode():
        cpu = main_output(capture(model, x, graph, [], budget_mb=None).output).float()
        model.cuda()
        gpu = main_output(capture(model, x.cuda(), graph, [], budget_mb=None).output)
        gpu = gpu.float().cpu()
    assert settings() == before  # TF32 was off for the pass only
    assert float((cpu - gpu).norm() / cpu.norm()) <= 1e-4
    if zoo.get_info(name).task == "classification":
        assert torch.equal(cpu[0].topk(5).indices, gpu[0].topk(5).indices)
    else:
        assert torch.equal(cpu.argmax(1), gpu.argmax(1))


def _photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.new("RGB", (64, 48), (120, 80, 40)).save(path)
    return path


def test_a_device_index_that_is_not_there_is_one_line(tmp_path, capsys):
    missing = f"cuda:{torch.cuda.device_count()}"
    assert main(["run", "resnet18", str(_photo(tmp_path)), "-o", str(tmp_path / "o"),
                 "--device", missing]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"no device {missing} here" in err


def test_a_full_card_is_one_line_offering_the_cpu(tmp_path):
    """Another process holds the card: the command's own CUDA start-up fails."""
    hog = []
    try:
        while True:  # leave almost nothing: 64 MiB blocks until the allocator refuses
            hog.append(torch.empty(64 << 20, dtype=torch.uint8, device="cuda"))
    except torch.OutOfMemoryError:
        pass
    try:
        done = subprocess.run(
            [sys.executable, "-m", "explorer", "run", "resnet50", str(_photo(tmp_path)), "-o",
             str(tmp_path / "o"), "--device", "cuda"], capture_output=True, text=True,
            timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        del hog
        torch.cuda.empty_cache()
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "out of memory on cuda" in done.stderr
    assert done.stderr.rstrip().endswith("try --device cpu")
