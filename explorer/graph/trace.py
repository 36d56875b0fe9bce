"""Trace a model into a LayerGraph: one forward pass on the ``meta`` device.

Module calls are seen through forward hooks; functional ops that containers run between
them (``add``, ``cat``, ``mul``, ``chunk``, ``max_unpool2d``, reshapes...) through a
``TorchFunctionMode``. Ops inside a leaf module (a ``Conv2d`` calling ``F.conv2d``) are part
of that module's node. Tensors are matched to the node that produced them by identity,
so in-place ops (``out += identity``, ``ReLU(inplace=True)``) hand the tensor to their node.

The live model is never touched: tracing runs on a structural copy whose parameters and
buffers are meta tensors, so no weight is copied and nothing is computed.

The recorder lives in ``recorder`` (with ``record`` and ``run_recorded``, which capture
uses on a real input), how an op is described in ``op_details``, and how a functional op
is computed again in ``replay``; their names are importable from here as before.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from typing import Any

import networkx as nx
import torch
from torch import nn

from ..limits import input_shape_problem
from .classify import classify_edges
from .layergraph import LayerGraph
from .op_details import _tensors, op_name
from .recorder import _TRACE_LOCK, _Recorder, hooks_on, record, run_recorded
from .replay import Replay
from .simplify import merge_reshape_chains

# What other modules import from here (the recorder's parts moved out of this file).
__all__ = ["Replay", "TraceError", "_Recorder", "_TRACE_LOCK", "_tensors", "meta_copy",
           "op_name", "record", "run_recorded", "trace", "trace_zoo"]


class TraceError(RuntimeError):
    """The model could not be traced; the message names the failing module or op."""


def meta_copy(model: nn.Module) -> nn.Module:
    """A structural copy whose parameters and buffers live on the meta device."""
    memo: dict[int, Any] = {}
    for p in model.parameters():
        memo[id(p)] = nn.Parameter(torch.empty_like(p, device="meta"), p.requires_grad)
    for b in model.buffers():
        memo[id(b)] = torch.empty_like(b, device="meta")
    with warnings.catch_warnings():
        # torch's own pytree specs of an unflattened exported program warn when copied
        warnings.filterwarnings("ignore", "`isinstance\\(treespec, LeafSpec\\)`",
                                FutureWarning)
        return copy.deepcopy(model, memo)


def _size_mismatch(module: nn.Module | None, rec: _Recorder) -> str | None:
    """A linear layer or convolution given another width than it was made for, in words
    (torch says "a and b must have same reduction dim" or "expected input[…] to have 3
    channels"), with what to change: a layer sized for one input size."""
    shape = rec.last_in
    if module is None or not shape:
        return None
    label = f"{rec.names.get(module, '?')} ({type(module).__name__})"
    if isinstance(module, nn.Linear) and shape[-1] != module.in_features:
        return (f"{label} takes {module.in_features:,} input features and gets "
                f"{shape[-1]:,}: the layers before it make that many from this input size; "
                "give the input shape it was made for (or size the layer for this one)")
    if isinstance(module, nn.modules.conv._ConvNd) and len(shape) >= 2 \
            and shape[1] != module.in_channels:
        return (f"{label} takes {module.in_channels:,} input channels and gets "
                f"{shape[1]:,}: give an input shape with {module.in_channels} channels "
                "(N,C,H,W)")
    return None


def trace(model: nn.Module, input_shape: tuple[int, ...], name: str | None = None,
          dtype: torch.dtype = torch.float32) -> LayerGraph:
    """Trace ``model`` (left untouched) for an input of ``input_shape`` into a LayerGraph.
    Raises TraceError for a bad shape, a forward that fails or one that returns no tensor."""
    label = name or type(model).__name__
    problem = input_shape_problem(input_shape)
    if problem:
        raise TraceError(f"{label}: input shape {input_shape!r} {problem}")
    shape = tuple(int(s) for s in input_shape)
    meta = model if _is_meta(model) else meta_copy(model)
    meta.eval()
    rec = _Recorder(meta)
    x = torch.empty(shape, device="meta", dtype=dtype)
    with hooks_on(rec):
        try:
            with _TRACE_LOCK:
                rec.add_input(x)
                with rec, rec.flop_counter or contextlib.nullcontext(), torch.no_grad():
                    result = meta(x)
                if not _tensors(result):
                    raise TraceError(f"{label}: forward returned {_returned(result)}, "
                                     "not a tensor")
                rec.add_outputs(result)
        except TraceError:
            raise
        except Exception as exc:
            raise _failure(exc, rec, label, shape) from exc
    graph = nx.DiGraph(rec.g)
    for node, place in rec.seen_at.items():  # before merging: a chain's output is its raw
        graph.nodes[node]["seen_at"] = place
    merge_reshape_chains(graph)
    classify_edges(graph)
    modules = {n: type(m).__name__ for m, n in rec.names.items() if n}
    unused = {}  # modules with parameters that this forward pass never called
    for module, path in rec.names.items():
        if module in rec.leaves and module not in rec.counted:
            n_params = sum(p.numel() for p in module.parameters())
            if n_params:
                n_train = sum(p.numel() for p in module.parameters() if p.requires_grad)
                unused[path] = (n_params, n_train)
    return LayerGraph(graph, model=name or type(model).__name__, input_shape=shape,
                      modules=modules, unused=unused, dtype=str(dtype)[6:])


def _failure(exc: Exception, rec: _Recorder, label: str, shape: tuple[int, ...]) -> TraceError:
    """The forward's exception as one TraceError naming the module or op it failed in."""
    hint = _size_mismatch(rec.stack[-1] if rec.stack else None, rec)
    if hint:
        return TraceError(f"cannot trace {label} at input {'x'.join(map(str, shape))}: {hint}")
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "meta" in detail:
        detail += " (the forward pass depends on tensor values, which tracing never computes)"
    return TraceError(f"cannot trace {label} at input {'x'.join(map(str, shape))}: "
                      f"{type(exc).__name__} in {rec.last}: {detail}")


def _returned(value: Any) -> str:
    if value is None:
        return "None"
    kind = type(value).__name__
    if isinstance(value, (dict, tuple, list)):
        return f"an empty {kind}" if not value else f"a {kind} with no tensor in it"
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _is_meta(model: nn.Module) -> bool:
    tensors = [*model.parameters(), *model.buffers()]
    return bool(tensors) and all(t.is_meta for t in tensors)


def trace_zoo(name: str, input_shape: tuple[int, ...] | None = None, **options: Any) -> LayerGraph:
    """Build a zoo model directly on the meta device (no weight init) and trace it."""
    from .. import zoo

    with torch.device("meta"):
        model = zoo.build(name, **options)
    return trace(model, input_shape or zoo.input_shape(name, **options), name=name)
