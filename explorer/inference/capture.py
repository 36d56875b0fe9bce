"""Activation capture: run a model on a real input and keep chosen nodes' outputs.

Node ids are the traced graph's, so a feature map can be asked for any node the graph
shows, functional ones included (the output of a residual ``add`` or a dense ``cat``).

Cost is kept close to a plain forward pass:
- leaf modules are captured with plain forward hooks;
- a functional node is captured as the input of the leaf module that consumes it, seen
  in that module's pre-hook; only when no leaf consumes it does the pass run under the
  tracer's function mode (``record``);
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
from ..graph.trace import record
from .devices import tune_cpu_allocator
from .limits import MEMORY_BUDGET
from .precision import float32_math

DEFAULT_BUDGET_MB = MEMORY_BUDGET / 2**20


class CaptureError(KeyError):
    """A requested node is not in the model's graph."""


@dataclass
class _Plan:
    module_outputs: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    module_inputs: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    recorded: set[str] = field(default_factory=set)  # need the function mode
    copy: set[str] = field(default_factory=set)  # overwritten in place later


def _call_index(node_id: str) -> int:
    last = node_id.rsplit(".", 1)[-1]
    return int(last.rsplit(":", 1)[1]) if ":" in last else 0


def plan_capture(graph: LayerGraph, nodes: Iterable[str]) -> _Plan:
    g = graph.nx
    plan = _Plan()
    overwritten = {d["inplace_of"] for _, d in g.nodes(data=True) if "inplace_of" in d}
    for n in nodes:
        if n not in g:
            raise CaptureError(f"no node {n!r} in the graph of {graph.model}")
        d = g.nodes[n]
        if d["kind"] in ("input", "output"):
            continue
        raw = d.get("raw", n)
        if raw != n:  # a merged reshape chain: its output is its last op's
            plan.recorded.add(n)
            continue
        if n in overwritten:
            plan.copy.add(n)
        if d["kind"] == "module":
            plan.module_outputs.setdefault(d["path"], []).append((_call_index(n), n))
            continue
        consumers = [(v, e) for v, e in ((v, g.edges[n, v]) for v in g.successors(n))
                     if g.nodes[v]["kind"] == "module"]
        if consumers:
            v, e = consumers[0]
            plan.module_inputs.setdefault(g.nodes[v]["path"], []).append(
                (_call_index(v), e["arg_index"], n))
        else:
            plan.recorded.add(n)
    return plan


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
            output, tensors, over = record(model, x, set(nodes), budget)
        else:
            output, tensors, over = _hooked_forward(model, x, plan, budget)
        if x.device.type == "cuda":
            torch.cuda.synchronize(x.device)
    seconds = time.perf_counter() - start

    def recompute(node: str) -> torch.Tensor:
        again = capture(model, x, graph, [node], budget_mb=None, tf32=tf32)
        return again.tensors[node]

    return Capture(output, tensors, over, x.device, seconds, aliases, _recompute=recompute)


def _hooked_forward(model: nn.Module, x: torch.Tensor, plan: _Plan, budget: int | None):
    tensors: dict[str, torch.Tensor] = {}
    over: list[str] = []
    used = [0]
    calls: dict[str, int] = {}

    def keep(node: str, t: torch.Tensor) -> None:
        size = t.numel() * t.element_size()
        if budget is not None and used[0] + size > budget:
            over.append(node)
            return
        tensors[node] = t.detach().clone() if node in plan.copy else t.detach()
        used[0] += size

    def pre(path: str):
        wanted = plan.module_inputs.get(path, [])

        def hook(module, args):
            call = calls.get(path, 0)
            for idx, arg_index, node in wanted:
                if idx == call:
                    flat = [a for a in args if isinstance(a, torch.Tensor)]
                    keep(node, flat[arg_index])
        return hook

    def post(path: str):
        wanted = plan.module_outputs.get(path, [])

        def hook(module, args, output):
            call = calls.get(path, 0)
            calls[path] = call + 1
            for idx, node in wanted:
                if idx == call:
                    keep(node, output if isinstance(output, torch.Tensor) else output[0])
        return hook

    handles = []
    modules = dict(model.named_modules())
    for path in set(plan.module_outputs) | set(plan.module_inputs):
        m = modules[path]
        if path in plan.module_inputs:
            handles.append(m.register_forward_pre_hook(pre(path)))
        handles.append(m.register_forward_hook(post(path)))
    try:
        output = model(x)
    finally:
        for h in handles:
            h.remove()
    return output, tensors, over
