"""The benchmark scripts still run against today's code (on the smallest inputs; their
figures are read by people, never asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ui_bench_runs_and_prints_its_table():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ui_bench.py"), "--repeat", "1",
         "--models", "lenet5", "--image-model", "lenet5"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 4 and "UI thread" in done.stdout and "worker (app)" in done.stdout


def test_diff_bench_runs_and_prints_its_table():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "diff_bench.py"), "--repeat", "1",
         "--pairs", "lenet5:alexnet"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 and rows[1].startswith("| lenet5 | alexnet |")


def test_train_bench_runs_and_prints_its_table():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "train_bench.py"), "--models", "lenet5",
         "--devices", "cpu", "--steps", "3", "--layouts"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 2, done.stdout
    assert rows[1].startswith("| lenet5 | 1 | channels_last |")
    assert rows[2].startswith("| lenet5 | 1 | contiguous |")
    assert "quick preset: 3,200 training and 1,000 test images" in done.stdout


def test_inference_bench_runs_and_prints_its_table():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "inference_bench.py"), "--repeat", "1",
         "--models", "lenet5", "--devices", "cpu"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 1 and rows[1].startswith("| lenet5 | 1x1x32x32 | cpu |")
    assert "| fx program |" in rows[1]


def test_gpu_report_says_why_it_has_nothing_without_cuda():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_report.py"),
                           "--models", "lenet5"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("gpu_report: no CUDA device here")


def test_gpu_report_rows_on_a_faked_gpu(monkeypatch):
    """Every column is computed (on the CPU behind a fake CUDA device)."""
    import importlib.util

    import torch
    from fakecuda import fake_cuda

    fake_cuda(monkeypatch)
    for name in ("synchronize", "reset_peak_memory_stats", "empty_cache"):
        monkeypatch.setattr(torch.cuda, name, lambda *a, **k: None)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda *a, **k: 3 << 20)
    spec = importlib.util.spec_from_file_location("gpu_report",
                                                  ROOT / "benchmarks" / "gpu_report.py")
    gpu_report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_report)
    cells = gpu_report.report("lenet5", full=False, repeat=2).strip("| ").split(" | ")
    assert cells[:2] == ["lenet5", "1x1x32x32"] and cells[4] == "top-5 same"
    assert float(cells[2]) == 0.0 and cells[-1] == "3" and len(cells) == 12
    unet = gpu_report.report("unet_padded", full=False, repeat=1).strip("| ").split(" | ")
    assert unet[4] == "mask same" and unet[7] == ""  # no Grad-CAM for segmentation


def test_flow_bench_runs_and_prints_its_table():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "flow_bench.py"), "--repeat", "1",
         "--cases", "resnet20_cifar@2,3,32,32"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 and rows[1].startswith("| resnet20_cifar | 2x3x32x32 |")
