"""A CUDA device on a CPU-only machine, for testing what the project does when one fails.

``fake_cuda`` makes torch report ``count`` CUDA devices and runs everything sent to one
on the CPU instead; tests then raise torch's real exception types with the messages a
real GPU gives (taken from an H200 run, torch 2.11+cu130) where a real one would.
"""

from __future__ import annotations

import torch

# torch.OutOfMemoryError from the caching allocator (the card is full)
CUDA_OOM = ("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
            "of 139.80 GiB of which 1.19 GiB is free. Including non-PyTorch memory, this "
            "process has 138.60 GiB memory in use. Of the allocated memory 137.9 GiB is "
            "allocated by PyTorch.")
# torch.AcceleratorError while CUDA or cuBLAS initialise (another process holds the card)
CUDA_INIT_OOM = ("CUDA error: out of memory\nSearch for `cudaErrorMemoryAllocation' in "
                 "https://docs.nvidia.com/cuda/cuda-runtime-api/group__CUDART__TYPES.html "
                 "for more information.\nCUDA kernel errors might be asynchronously reported "
                 "at some other API call, so the stacktrace below might be incorrect.\nFor "
                 "debugging consider passing CUDA_LAUNCH_BLOCKING=1\nCompile with "
                 "`TORCH_USE_CUDA_DSA` to enable device-side assertions.\n")
CUDA_ORDINAL = ("CUDA error: invalid device ordinal\nCUDA kernel errors might be "
                "asynchronously reported at some other API call, so the stacktrace below "
                "might be incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1\n")
NO_KERNEL = ("CUDA error: no kernel image is available for execution on the device\nCUDA "
             "kernel errors might be asynchronously reported at some other API call.\n")
CUBLAS_ALLOC = ("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`")
CUDNN_INIT = "cuDNN error: CUDNN_STATUS_NOT_INITIALIZED"
NO_DRIVER = ("Found no NVIDIA driver on your system. Please check that you have an NVIDIA "
             "GPU and installed a driver from http://www.nvidia.com/Download/index.aspx")


def _cpu(device):
    if isinstance(device, str) and device.startswith("cuda"):
        return "cpu"
    if isinstance(device, torch.device) and device.type == "cuda":
        return torch.device("cpu")
    return device


def fake_cuda(monkeypatch, count: int = 1) -> None:
    """torch reports ``count`` CUDA devices; tensors sent to one stay on the CPU."""
    real_to = torch.Tensor.to

    def to(self, *args, **kwargs):
        if "device" in kwargs:
            kwargs["device"] = _cpu(kwargs["device"])
        return real_to(self, *(_cpu(a) for a in args), **kwargs)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.Tensor, "to", to)


def raiser(exc: BaseException, real=None):
    """A stand-in for a torch function that fails as a GPU would. With ``real``, calls on
    meta tensors (tracing: shapes only) still go to the real function."""

    def fail(*args, **kwargs):
        if real is not None and args and getattr(args[0], "is_meta", False):
            return real(*args, **kwargs)
        raise exc
    return fail


def kernel_fails(monkeypatch, exc: BaseException) -> None:
    """Every convolution on real data (not tracing's meta tensors) raises ``exc``."""
    monkeypatch.setattr(torch.nn.functional, "conv2d", raiser(exc, torch.nn.functional.conv2d))
