"""float32 means IEEE float32: the project's own runs turn TF32 off, and put it back.

PyTorch lets cuDNN convolutions use TF32 (a 10-bit mantissa) on Ampere and newer GPUs by
default, and ``torch.set_float32_matmul_precision("high")`` does the same for matrix
products on the GPU and, through oneDNN, on some CPUs. Measured on an H200, CPU vs CUDA
logits differed by 2.3e-2 (SegNet) with TF32 and 6.4e-7 without. So every run of the
project (capture, Grad-CAM, gradients; the CLI and the window call those) computes in
IEEE float32 unless the caller asks for TF32 as an explicitly faster choice.

The switches are process-wide (torch keeps them in its global context), so the scope saves
what it changes and restores it on the way out, exception or not: a program that imports
the library keeps its own choice. torch >= 2.9 keeps two sets of switches that must agree
(the legacy ``allow_tf32`` flags and matmul precision, and the per-backend
``fp32_precision`` strings; when they disagree torch refuses to read the legacy ones), so
inside the scope both are set to agree, and on the way out both are put back as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

_CPU = ("mkldnn",)  # oneDNN: the CPU's backend


def _backends() -> list[tuple[str, object]]:
    """(name, backend) for each operation whose float32 precision torch lets one choose
    (torch >= 2.9): cuBLAS matmul, cuDNN conv and RNN, oneDNN matmul, conv and RNN."""
    b = torch.backends
    found = []
    for parent, ops in (("cuda", ("matmul",)), ("cudnn", ("conv", "rnn")),
                        ("mkldnn", ("matmul", "conv", "rnn"))):
        for op in ops:
            backend = getattr(getattr(b, parent, None), op, None)
            if backend is not None and hasattr(backend, "fp32_precision"):
                found.append((f"{parent}.{op}", backend))
    return found


def _read(getter):
    try:
        return getter()
    except RuntimeError:  # torch refuses to read a legacy flag the new API contradicts
        return None


def settings() -> dict[str, object]:
    """Every float32 switch as torch reports it (None: torch refuses to read it)."""
    out: dict[str, object] = {name: b.fp32_precision for name, b in _backends()}
    out["matmul_precision"] = _read(torch.get_float32_matmul_precision)
    out["cuda.matmul.allow_tf32"] = _read(lambda: torch.backends.cuda.matmul.allow_tf32)
    out["cudnn.allow_tf32"] = _read(lambda: torch.backends.cudnn.allow_tf32)
    return out


def _set_legacy(matmul: str | None, cudnn: bool | None) -> None:
    if matmul is not None:
        torch.set_float32_matmul_precision(matmul)
    if cudnn is not None:
        torch.backends.cudnn.allow_tf32 = cudnn


@contextmanager
def float32_math(tf32: bool = False) -> Iterator[None]:
    """Inside the block float32 work is IEEE float32 (``tf32=False``), or may use TF32 on
    GPUs (``tf32=True``: faster, about three significant digits)."""
    backends = _backends()
    saved_strings = [(b, b.fp32_precision) for _, b in backends]
    saved_matmul = _read(torch.get_float32_matmul_precision)
    saved_cudnn = _read(lambda: torch.backends.cudnn.allow_tf32)
    # the legacy setters first (they also write the new strings), then every string
    _set_legacy("high" if tf32 else "highest", tf32)
    for name, backend in backends:
        if name != "mkldnn.matmul":  # set with the matmul precision above
            backend.fp32_precision = "tf32" if tf32 and not name.startswith(_CPU) else "ieee"
    try:
        yield
    finally:
        _set_legacy(saved_matmul, saved_cudnn)
        for backend, value in saved_strings:
            backend.fp32_precision = value
