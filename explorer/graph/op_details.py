"""How a recorded call is described in the graph: an op's name (an in-place variant or an
alias folded: ``add_`` -> ``add``, ``concat`` -> ``cat``), a module's constructor
attributes, a function's scalar arguments, an index as the person wrote it
(``[:, :16]``), and the tensors found in nested arguments."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils._pytree import tree_flatten

# Tensor methods and functions that only read metadata or that we do not draw.
IGNORED = {"__get__", "__set__", "size", "dim", "numel", "__len__", "__format__", "__repr__",
            "__bool__", "__index__", "__int__", "__float__", "item", "tolist", "element_size",
            "is_contiguous", "stride", "data_ptr", "storage_offset", "is_floating_point",
            "__setstate__", "__reduce_ex__", "__deepcopy__", "detach", "requires_grad_",
            "has_names", "is_complex", "__hash__", "__eq__", "__ne__"}


RENAMES = {"__getitem__": "getitem", "concat": "cat", "concatenate": "cat",
            "max_pool2d_with_indices": "max_pool2d", "truediv": "div", "matmul": "matmul",
            "sub": "sub", "rsub": "sub", "radd": "add", "rmul": "mul", "iadd": "add",
            "imul": "mul", "isub": "sub"}


ATTRS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
          "groups", "in_features", "out_features", "num_features", "eps", "p", "output_size",
          "mode", "scale_factor", "return_indices", "ceil_mode", "negative_slope", "dim",
          "offset", "output_padding")


def op_name(func: Any) -> str:
    # an operator overload (an exported program's aten.add_.Tensor) is named by its op
    name = getattr(func, "__name__", str(func)).split(".")[0]
    bare = name.strip("_")
    if bare.endswith("_") and not name.startswith("__"):
        bare = bare[:-1]  # in-place variant: add_ -> add
    return RENAMES.get(bare, RENAMES.get(name, bare))


def attributes_of(module: nn.Module) -> dict[str, Any]:
    attrs = {}
    for key in ATTRS:
        value = getattr(module, key, None)
        if value is not None and isinstance(value, (int, float, str, bool, tuple)):
            attrs[key] = value
    if isinstance(module, (nn.Conv2d, nn.Linear, nn.ConvTranspose2d, nn.Conv1d, nn.Conv3d)):
        attrs["bias"] = module.bias is not None
    return attrs


def scalar_args(args: tuple, kwargs: dict) -> dict[str, Any]:
    """Non-tensor arguments of a functional op, kept short for display."""
    out: dict[str, Any] = {}
    for i, a in enumerate(args):
        if not isinstance(a, (torch.Tensor, list, tuple)) or isinstance(a, torch.Size):
            out[f"arg{i}"] = a if isinstance(a, (int, float, bool, str)) else repr(a)[:40]
    for k, v in kwargs.items():
        if not isinstance(v, torch.Tensor):
            out[k] = v if isinstance(v, (int, float, bool, str)) else repr(v)[:40]
    return out


def index_text(key: Any) -> str:
    """A tensor index as the person wrote it: ``(slice(None), slice(None, 16))`` ->
    ``[:, :16]``, so a slice can say what it keeps."""
    def one(k: Any) -> str:
        if isinstance(k, slice):
            parts = ["" if v is None else str(v) for v in (k.start, k.stop)]
            return ":".join(parts) + (f":{k.step}" if k.step not in (None, 1) else "")
        if k is Ellipsis:
            return "..."
        if k is None:
            return "None"
        if isinstance(k, torch.Tensor):
            return "tensor"
        if isinstance(k, (list, tuple)):
            return "[" + ", ".join(one(v) for v in k) + "]"
        return str(k)
    keys = key if isinstance(key, tuple) else (key,)
    return "[" + ", ".join(one(k) for k in keys) + "]"


def _tensors(obj: Any) -> list[torch.Tensor]:
    leaves, _ = tree_flatten(obj)
    return [t for t in leaves if isinstance(t, torch.Tensor)]


def shape_of(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(s) for s in t.shape)
