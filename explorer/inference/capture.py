"""Activation capture: run a model on a real input and keep chosen nodes' outputs.

Node ids are the traced graph's, so a feature map can be asked for any node the graph
shows, functional ones included (the output of a residual ``add`` or a dense ``cat``).

Cost is kept close to a plain forward pass:
- first choice, the model's ``torch.fx`` program (``capture_fx``): one generated forward
  that returns the model's output and every asked-for node's tensor, its values named
  exactly as the graph's nodes, its in-place ops written out of place; made once per live
  model. A model fx cannot trace or name exactly, one with hooks on a block, or tensors
  over the budget take the hook path below, with the same result;
- on the hook path, every node is seen by a module where the trace found one that sees
  its tensor: a leaf module's output; a functional node as the input of the leaf module
  that consumes it, or else as a container module's input or output (an SE block
  returns its ``mul``, a ShuffleNet unit its channel shuffle, a GoogLeNet
  ``BasicConv2d`` its functional ReLU, the model its final ``interpolate``); those
  modules' forwards are wrapped for the pass (``capture_pass``); a cheap join no module
  sees is computed again from its inputs;
- only a node none of these gives makes the pass run under the tracer's function mode
  (``record``), which costs Python work for every op;
- a tensor a later in-place op overwrites is kept whole: torch's in-place activations run
  out of place for the pass (``inference.inplace``), and a tensor that another op
  overwrites (``out += identity``) is copied; others are kept as they are;
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
from ..graph.trace import record
from .capture_fx import fx_capture
from .capture_pass import model_lock, named_modules, seen_pass
from .capture_plan import (  # noqa: F401  (plan_capture re-exported)
    CaptureError,
    CapturePlan,
    cached_plan,
    every_node,
    plan_capture,
)
from .devices import tune_cpu_allocator
from .inplace import out_of_place, switchable
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
        nodes = list(every_node(graph))
        aliases = dict(zip(nodes, nodes))
    else:
        try:
            aliases = {n: graph.resolve(n) for n in nodes}
        except KeyError as exc:
            raise CaptureError(exc.args[0]) from None
        nodes = list(dict.fromkeys(aliases.values()))
    if x.device.type == "cpu":
        tune_cpu_allocator()
    budget = None if budget_mb is None else int(budget_mb * 2**20)
    start = time.perf_counter()
    with float32_math(tf32):
        done = fx_capture(model, x, graph, nodes, budget)
        if done is not None:  # the model's fx program returned every node
            output, tensors = done
            over: list[str] = []
        else:
            output, tensors, over = _hook_capture(model, x, graph, nodes, budget)
        if x.device.type == "cuda":
            torch.cuda.synchronize(x.device)
    seconds = time.perf_counter() - start

    def recompute(node: str) -> torch.Tensor:
        again = capture(model, x, graph, [node], budget_mb=None, tf32=tf32)
        return again.tensors[node]

    return Capture(output, tensors, over, x.device, seconds, aliases, _recompute=recompute)


def _hook_capture(model: nn.Module, x: torch.Tensor, graph: LayerGraph, nodes: list[str],
                  budget: int | None) -> tuple[Any, dict[str, torch.Tensor], list[str]]:
    """Capture by wrapped module forwards, replays, or else the function mode."""
    plan = cached_plan(graph, nodes)
    if plan.recorded:  # some node needs the function mode: record the whole pass
        return _recorded_forward(model, x, graph, nodes, budget)
    modules = named_modules(model)
    switch, copy = _switch_in_place(plan, modules)
    with model_lock(model), out_of_place(switch):
        return _hooked_forward(model, x, plan, modules, copy, budget)


def _switch_in_place(plan: CapturePlan, modules: dict[str, nn.Module]
                     ) -> tuple[list[nn.Module], set[str]]:
    """The in-place modules to run out of place, and the nodes still to copy: those that
    something else overwrites (``out += identity``, a module of the user's own)."""
    switch, copy = [], set()
    for node in plan.copy:
        by = plan.overwriters.get(node, [None])
        if all(p is not None and switchable(modules[p]) for p in by):
            switch += [modules[p] for p in by]
        else:
            copy.add(node)
    return switch, copy


def _recorded_forward(model: nn.Module, x: torch.Tensor, graph: LayerGraph,
                      nodes: list[str], budget: int | None):
    """The whole pass under the function mode, which names nodes as the trace did before
    merging reshape chains: a merged node is kept as its chain's last op (``raw``)."""
    raw = {graph.nx.nodes[n].get("raw", n): n for n in nodes}
    output, kept, over = record(model, x, set(raw), budget)
    return output, {raw[k]: t for k, t in kept.items()}, [raw[k] for k in over]


class _Keeper:
    """What the pass hands over, kept up to ``budget`` bytes; a replay runs as soon as its
    last input is kept, while its inputs are still in the CPU's caches (after the pass,
    ShuffleNet's 31 joins cost twice as much)."""

    def __init__(self, plan: CapturePlan, x: torch.Tensor, copy: set[str],
                 budget: int | None) -> None:
        self.plan, self.x, self.copy, self.budget = plan, x, copy, budget
        self.tensors: dict[str, torch.Tensor] = {}
        self.over: list[str] = []
        self.used = 0
        self.missing: list[int] = []  # per replay: its inputs not kept yet
        self.waiting: dict[str, list[int]] = {}  # node -> the replays that need it
        for k, (_, _, names) in enumerate(plan.replays):
            needed = set(names.values()) - {"input"}
            self.missing.append(len(needed))
            for n in needed:
                self.waiting.setdefault(n, []).append(k)

    def start(self) -> None:
        for k, missing in enumerate(self.missing):
            if not missing:  # computed from the model's input alone
                self._replay(k)

    def keep(self, node: str, t: torch.Tensor, fresh: bool = False) -> None:
        if self.budget is not None:
            size = t.numel() * t.element_size()
            if self.used + size > self.budget:
                self.over.append(node)
                return
            self.used += size
        if t.requires_grad:  # not under inference_mode or no_grad
            t = t.detach()
        self.tensors[node] = t.clone() if node in self.copy and not fresh else t
        for k in self.waiting.get(node, ()):
            self.missing[k] -= 1
            if not self.missing[k]:
                self._replay(k)

    def _replay(self, k: int) -> None:
        node, replay, names = self.plan.replays[k]
        t = replay.run({i: self.x if n == "input" else self.tensors[n]
                        for i, n in names.items()})
        self.keep(node, t, fresh=True)

    def finish(self) -> tuple[dict[str, torch.Tensor], list[str]]:
        """The tensors and the nodes over budget (a replay whose input was over budget
        among them), the helpers dropped."""
        for k, missing in enumerate(self.missing):
            if missing:
                self.over.append(self.plan.replays[k][0])
        for helper in self.plan.helpers:
            self.tensors.pop(helper, None)
        return self.tensors, [n for n in self.over if n not in self.plan.helpers]


def _hooked_forward(model: nn.Module, x: torch.Tensor, plan: CapturePlan,
                    modules: dict[str, nn.Module], copy: set[str], budget: int | None):
    keeper = _Keeper(plan, x, copy, budget)
    keeper.start()
    output = seen_pass(model, x, plan, modules, keeper.keep)
    return (output, *keeper.finish())
