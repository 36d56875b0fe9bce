"""Activation capture: run a model on a real input and keep chosen nodes' outputs.

Node ids are the traced graph's, so a feature map can be asked for any node the graph
shows, functional ones included (the output of a residual ``add`` or a dense ``cat``).

Cost is kept close to a plain forward pass:
- every node is seen from module hooks where the trace found one that sees its tensor: a
  leaf module's output (forward hook); a functional node as the input of the leaf module
  that consumes it (pre-hook), or else as a container module's input or output (an SE
  block returns its ``mul``, a ShuffleNet unit its channel shuffle, a GoogLeNet
  ``BasicConv2d`` its functional ReLU, the model its final ``interpolate``);
- only a node no hook sees makes the pass run under the tracer's function mode
  (``record``), which costs Python work for every op;
- a tensor is copied only when the graph says a later in-place op overwrites it
  (``ReLU(inplace=True)``, ``out += identity``); others are kept as they are;
- tensors stay on the device until asked for, then move to the CPU once;
- a memory budget caps what is kept; nodes over budget are recomputed when asked for.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..graph.layergraph import LayerGraph
from ..graph.trace import _tensors, record
from .capture_plan import CaptureError, CapturePlan, plan_capture  # noqa: F401  (re-exported)
from .devices import tune_cpu_allocator
from .limits import MEMORY_BUDGET
from .precision import float32_math

DEFAULT_BUDGET_MB = MEMORY_BUDGET / 2**20


@dataclass
class Capture:
    """The model's output and the activations kept for the requested nodes."""

    output: Any
    tensors: dict[str, torch.Tensor]
    over_budget: list[str]
    device: torch.device
    seconds: float
    aliases: dict[str, str] = field(default_factory=dict)  # block path -> its last node
    _cpu: dict[str, torch.Tensor] = field(default_factory=dict)
    _recompute: Any = None

    def __contains__(self, node: str) -> bool:
        node = self.aliases.get(node, node)
        return node in self.tensors or node in self.over_budget

    def get(self, node: str) -> torch.Tensor:
        """The activation on the CPU (float32), moved or recomputed on first use."""
        node = self.aliases.get(node, node)
        if node not in self._cpu:
            tensor = self.tensors.get(node)
            if tensor is None:
                if node not in self.over_budget or self._recompute is None:
                    raise CaptureError(f"{node!r} was not captured")
                tensor = self._recompute(node)
            self._cpu[node] = tensor.detach().to("cpu", torch.float32)
        return self._cpu[node]

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.tensors.values())


def capture(model: nn.Module, x: torch.Tensor, graph: LayerGraph,
            nodes: Iterable[str] | str = "all",
            budget_mb: float | None = DEFAULT_BUDGET_MB, tf32: bool = False) -> Capture:
    """Run ``model`` on ``x`` (already on the model's device) keeping ``nodes``' outputs.
    float32 is IEEE float32 on every device unless ``tf32`` (GPUs: faster, less exact).

    Call inside ``torch.inference_mode()`` (grad mode is per thread: a worker sets it)."""
    if nodes == "all":
        nodes = [n for n, d in graph.nx.nodes(data=True) if d["kind"] not in ("input", "output")]
    try:
        aliases = {n: graph.resolve(n) for n in nodes}
    except KeyError as exc:
        raise CaptureError(exc.args[0]) from None
    nodes = list(dict.fromkeys(aliases.values()))
    plan = plan_capture(graph, nodes)
    if x.device.type == "cpu":
        tune_cpu_allocator()
    budget = None if budget_mb is None else int(budget_mb * 2**20)
    start = time.perf_counter()
    with float32_math(tf32):
        if plan.recorded:  # some node needs the function mode: record the whole pass
            output, tensors, over = _recorded_forward(model, x, graph, nodes, budget)
        else:
            output, tensors, over = _hooked_forward(model, x, plan, budget)
            _replay(plan, x, tensors, over, budget)
        if x.device.type == "cuda":
            torch.cuda.synchronize(x.device)
    seconds = time.perf_counter() - start

    def recompute(node: str) -> torch.Tensor:
        again = capture(model, x, graph, [node], budget_mb=None, tf32=tf32)
        return again.tensors[node]

    return Capture(output, tensors, over, x.device, seconds, aliases, _recompute=recompute)


def _replay(plan: CapturePlan, x: torch.Tensor, tensors: dict[str, torch.Tensor],
            over: list[str], budget: int | None) -> None:
    """Compute the planned replays from the kept tensors, then drop the helpers."""
    used = sum(t.numel() * t.element_size() for t in tensors.values())
    for node, replay, names in plan.replays:
        try:
            given = {i: x if n == "input" else tensors[n] for i, n in names.items()}
        except KeyError:  # an input over the budget: recomputed when asked for
            over.append(node)
            continue
        t = replay.run(given)
        size = t.numel() * t.element_size()
        if budget is not None and used + size > budget:
            over.append(node)
            continue
        tensors[node] = t
        used += size
    for helper in plan.helpers:
        tensors.pop(helper, None)
    over[:] = [n for n in over if n not in plan.helpers]


def _recorded_forward(model: nn.Module, x: torch.Tensor, graph: LayerGraph,
                      nodes: list[str], budget: int | None):
    """The whole pass under the function mode, which names nodes as the trace did before
    merging reshape chains: a merged node is kept as its chain's last op (``raw``)."""
    raw = {graph.nx.nodes[n].get("raw", n): n for n in nodes}
    output, kept, over = record(model, x, set(raw), budget)
    return output, {raw[k]: t for k, t in kept.items()}, [raw[k] for k in over]


def _flat(args: tuple, kwargs: dict) -> tuple | list:
    """The tensors among a hook's arguments, flattened as the trace flattened them."""
    if not kwargs and all(isinstance(a, torch.Tensor) for a in args):
        return args
    return _tensors((args, kwargs))


def _hooked_forward(model: nn.Module, x: torch.Tensor, plan: CapturePlan,
                    budget: int | None):
    tensors: dict[str, torch.Tensor] = {}
    over: list[str] = []
    used = [0]

    def keep(node: str, t: torch.Tensor) -> None:
        size = t.numel() * t.element_size()
        if budget is not None and used[0] + size > budget:
            over.append(node)
            return
        tensors[node] = t.detach().clone() if node in plan.copy else t.detach()
        used[0] += size

    def hooks(wanted: list[tuple[int, str, int, str]]):
        calls = [0]  # this module's calls so far (a module called twice: ``relu:1``)
        inputs = [(c, i, n) for c, where, i, n in wanted if where == "in"]
        outputs = [(c, i, n) for c, where, i, n in wanted if where == "out"]

        def pre(module, args, kwargs):
            call = calls[0]
            for c, i, node in inputs:
                if c == call:
                    keep(node, _flat(args, kwargs)[i])

        def post(module, args, kwargs, output):
            call = calls[0]
            calls[0] = call + 1
            for c, i, node in outputs:
                if c == call:
                    keep(node, output if isinstance(output, torch.Tensor) and i == 0
                         else _tensors(output)[i])
        return (pre if inputs else None), post

    handles = []
    modules = dict(model.named_modules())
    for path, wanted in plan.seen.items():
        pre, post = hooks(wanted)
        m = modules[path]
        if pre is not None:
            handles.append(m.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(m.register_forward_hook(post, with_kwargs=True))
    try:
        output = model(x)
    finally:
        for h in handles:
            h.remove()
    return output, tensors, over
