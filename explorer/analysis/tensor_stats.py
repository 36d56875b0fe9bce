"""What a tensor holds, in figures: min, max, mean, standard deviation, the share of
zeros and a histogram, computed by torch (``tensor_stats``), and each parameter and
buffer of a module with its shape, dtype and statistics (``tensor_infos``). A meta
tensor (a model built for tracing) has a shape but no values: its statistics are None."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import nn

HIST_BINS = 64


@dataclass(frozen=True)
class Histogram:
    counts: list[int]
    edges: list[float]  # len(counts) + 1


@dataclass(frozen=True)
class Stats:
    min: float
    max: float
    mean: float
    std: float  # population standard deviation (correction 0)
    zeros: float  # share of exact zeros (sparsity)
    histogram: Histogram


@dataclass(frozen=True)
class TensorInfo:
    name: str
    kind: str  # "parameter" or "buffer"
    shape: tuple[int, ...]
    dtype: str
    count: int
    stats: Stats | None  # None on the meta device


def tensor_stats(t: torch.Tensor, bins: int = HIST_BINS) -> Stats | None:
    """min/max/mean/std, the share of zeros and a histogram; None for meta tensors."""
    import torch

    if t.is_meta or t.numel() == 0:
        return None
    x = t.detach().to("cpu", torch.float64).flatten()
    finite = x[torch.isfinite(x)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.numel() else (0.0, 0.0)
    if hi <= lo:  # one value (a constant bias, num_batches_tracked): one bin around it
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = torch.histogram(finite, bins=bins, range=(lo, hi))
    return Stats(min=float(x.min()), max=float(x.max()), mean=float(x.mean()),
                 std=float(x.std(correction=0)), zeros=float((x == 0).double().mean()),
                 histogram=Histogram([int(c) for c in counts], [float(e) for e in edges]))


def tensor_infos(module: nn.Module) -> list[TensorInfo]:
    found = [(n, "parameter", p) for n, p in module.named_parameters()]
    found += [(n, "buffer", b) for n, b in module.named_buffers()]
    return [TensorInfo(name, kind, tuple(int(s) for s in t.shape), str(t.dtype)[6:],
                       t.numel(), tensor_stats(t)) for name, kind, t in found]
