"""What can go wrong on a device, as one typed error each, with one line to show.

torch reports a device's failures in several shapes: ``torch.OutOfMemoryError`` when the
caching allocator cannot grow, ``torch.AcceleratorError`` ("CUDA error: out of memory")
when the allocation fails while CUDA, cuBLAS or cuDNN initialise, a plain RuntimeError
from the CPU allocator, cuBLAS or cuDNN, and a MemoryError from numpy or Python. Every
path that moves a model or runs it on a device goes through ``on_device``, which turns
each of those into an ``OutOfMemory`` or a ``DeviceError`` naming the device, so the CLI
prints one line and the window one message (offering the CPU), never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .limits import gb


class OutOfMemory(torch.OutOfMemoryError):
    """Running would need more memory than the device has or the budget allows; the
    message says how much was asked for. A ``torch.OutOfMemoryError``, so code written
    for the GPU case catches the CPU one too (``device`` tells them apart)."""

    def __init__(self, message: str, device: str, requested: int | None = None) -> None:
        super().__init__(message)
        self.device, self.requested = device, requested


class DeviceError(RuntimeError):
    """The device itself failed (its driver, CUDA, cuBLAS or cuDNN), not the model or the
    input: the message is torch's first line, prefixed with the device."""

    def __init__(self, message: str, device: str) -> None:
        super().__init__(message)
        self.device = device


_ASKED = re.compile(r"(?:tried to allocate|Tried to allocate) ([\d.]+) ?(bytes|[KMGT]iB)?")
_UNITS = {None: 1, "bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
# Allocation failures that libraries report in their own words.
_NO_MEMORY = ("out of memory", "defaultcpuallocator", "cublas_status_alloc_failed",
              "cudnn_status_alloc_failed", "cudaerrormemoryallocation")
# Failures of the driver or a GPU library that are not the model's doing.
_DRIVER = ("cuda error", "cuda driver", "nvidia driver", "cudnn error", "cudnn_status",
           "cublas_status", "cufft_internal_error", "cusolver", "hip error", "mps backend")


def out_of_memory(exc: BaseException, device: torch.device | str) -> OutOfMemory | None:
    """The OutOfMemory that ``exc`` stands for, or None when it is another error: torch's
    CPU allocator raises a plain RuntimeError, the GPU one an OutOfMemoryError (or an
    AcceleratorError while CUDA initialises), numpy and Python a MemoryError."""
    if isinstance(exc, OutOfMemory):
        return exc
    text = str(exc)
    lower = text.lower()
    if not (isinstance(exc, (MemoryError, torch.OutOfMemoryError))
            or any(sign in lower for sign in _NO_MEMORY)):
        return None
    match = _ASKED.search(text)
    asked = int(float(match.group(1)) * _UNITS[match.group(2)]) if match else None
    what = f" ({gb(asked)} asked for)" if asked else ""
    return OutOfMemory(f"out of memory on {device}{what}", str(device), asked)


def device_failure(exc: BaseException,
                   device: torch.device | str) -> OutOfMemory | DeviceError | None:
    """``exc`` as an OutOfMemory or a DeviceError, or None when it is the model's or the
    input's own error (a shape mismatch, a bug in a person's forward)."""
    if isinstance(exc, DeviceError):
        return exc
    oom = out_of_memory(exc, device)
    if oom is not None:
        return oom
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()),
                 type(exc).__name__)
    if isinstance(exc, torch.AcceleratorError) or any(
            sign in first.lower() for sign in _DRIVER):
        return DeviceError(f"{device} failed: {first}", str(device))
    return None


@contextmanager
def on_device(device: torch.device | str) -> Iterator[None]:
    """Run the block and re-raise a device's failure as OutOfMemory or DeviceError."""
    try:
        yield
    except (RuntimeError, MemoryError) as exc:
        failure = device_failure(exc, device)
        if failure is None or failure is exc:
            raise
        raise failure from exc


def move_model(model: torch.nn.Module, device: torch.device | str,
               dtype: torch.dtype | None = None) -> torch.nn.Module:
    """``model.to(device, dtype)``: a full card or a broken driver is a typed error."""
    with on_device(device):
        return model.to(device=device, dtype=dtype)


def on_gpu(failure: BaseException) -> bool:
    """True when the failure happened on a device other than the CPU (the CPU is then a
    way out worth offering)."""
    device = getattr(failure, "device", "cpu")
    return not str(device).startswith(("cpu", "budget"))
