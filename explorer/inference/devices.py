"""Device and dtype choice, and one allocator setting that makes CPU capture cheap."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

import torch

# tf32: float32 tensors whose GPU convolutions and matmuls may round to TF32 (faster);
# float32 itself is IEEE float32 everywhere (inference.precision)
DTYPES = {"float32": torch.float32, "tf32": torch.float32, "bfloat16": torch.bfloat16,
          "float16": torch.float16}


def available_devices() -> list[str]:
    """Devices this machine can run on, best first is not implied: cpu is always there."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" if torch.cuda.device_count() > 1 else "cuda"
                    for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def choose_device(preference: str | None = None) -> torch.device:
    """CUDA when available, else MPS, else CPU; ``preference`` overrides, and asking for a
    device that is not there raises a ValueError that names what is."""
    if preference in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(preference)
    except RuntimeError:
        raise ValueError(f"unknown device {preference!r}; available: "
                         + ", ".join(available_devices())) from None
    if device.type not in ("cpu", "cuda", "mps"):  # meta holds no data; xpu etc. not built in
        raise ValueError(f"cannot run on {preference!r}; available: "
                         + ", ".join(available_devices()))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"no CUDA device here; available: {', '.join(available_devices())}")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        # checked before anything moves: CUDA's own "invalid device ordinal" comes late
        raise ValueError(f"no device {preference} here (this machine has "
                         f"{torch.cuda.device_count()} CUDA device(s)); available: "
                         + ", ".join(available_devices()))
    if device.type == "cpu" and device.index:  # torch accepts cpu:1 and runs on the CPU
        raise ValueError(f"no device {preference} here (the CPU is one device: cpu); "
                         "available: " + ", ".join(available_devices()))
    if device.type == "mps" and device.index:
        raise ValueError(f"no device {preference} here; available: "
                         + ", ".join(available_devices()))
    if device.type == "mps" and "mps" not in available_devices():
        raise ValueError(f"no MPS device here; available: {', '.join(available_devices())}")
    return device


def choose_dtype(name: str, device: torch.device) -> torch.dtype:
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {name!r}; use one of {', '.join(DTYPES)}")
    if name != "float32" and device.type == "cpu":
        raise ValueError(f"{name} is offered on GPUs only; use float32 on the CPU")
    if name == "tf32" and device.type != "cuda":
        raise ValueError(f"tf32 is offered on CUDA GPUs only; use float32 on {device}")
    return DTYPES[name]


_TUNED = False
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
# glibc before 2.35 refuses an mmap threshold above 32 MiB on 64-bit machines
_MMAP_THRESHOLDS = (1 << 30, 32 << 20)


def tune_cpu_allocator() -> bool:
    """Keep freed activation memory in glibc's heap instead of returning it to the OS.

    Keeping every layer's output alive (all-layer capture) otherwise makes each forward
    pass fault in fresh pages: measured on ResNet-50 at 224x224, merely holding references
    to all leaf outputs cost 1.49x a plain forward; with this setting 1.03x. Linux/glibc
    only; EXPLORER_NO_MALLOPT=1 turns it off. An older glibc that refuses the 1 GiB mmap
    threshold gets its largest (32 MiB); the trim threshold is set either way."""
    global _TUNED
    if _TUNED or not sys.platform.startswith("linux") or os.environ.get("EXPLORER_NO_MALLOPT"):
        return _TUNED
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mmap = any(libc.mallopt(_M_MMAP_THRESHOLD, size) for size in _MMAP_THRESHOLDS)
        trim = libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    except (OSError, AttributeError):
        return False
    _TUNED = bool(mmap and trim)
    return _TUNED
