"""Gradient and activation flow: what one backward pass does in a network.

One forward and one backward pass on a batch, in train mode (BN normalises with the
batch's statistics, as in training) or eval mode, with a cross-entropy loss against labels
the caller chooses (random, or the model's own top class). Measured, in the order the
layers run:

- per weight layer (a module whose weight has two or more dimensions: convolutions and
  fully connected layers): the RMS of the weight's gradient, the RMS of the weight, and
  their ratio (the size of one SGD step relative to the weight, at learning rate 1);
- per layer output (every node of the traced graph, functional ones included): the mean,
  the standard deviation and the fraction of exact zeros (after a ReLU: the dead share);
- per residual join: the RMS of the residual branch over that of the shortcut.

Node names are the traced graph's (``layer1.0.relu:1`` is that ReLU's second call), so a
row selects its box in the diagram. The model is left as it was: gradients are taken with
``torch.autograd.grad`` (``.grad`` is not touched), BN's running statistics are restored
after a train-mode pass and the random state is forked. Seeded, deterministic on the CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..graph.classify import classify_edges
from ..graph.layergraph import LayerGraph
from ..graph.trace import _Recorder, run_recorded, trace
from ..limits import FLOW_MEMORY, bytes_text

MODES = ("train", "eval")
LABELS = ("random", "top")


class FlowError(ValueError):
    """A flow pass that cannot run as asked (over the memory budget, no gradient)."""


@dataclass(frozen=True)
class LayerFlow:
    """One node of the graph: its output's statistics and, for a weight layer, its
    gradient. ``depth`` counts the weight layers up to and including this node."""

    name: str
    op: str
    depth: int
    act_mean: float
    act_std: float
    act_rms: float
    zero_fraction: float
    grad_rms: float | None = None
    weight_rms: float | None = None

    @property
    def weighted(self) -> bool:
        return self.grad_rms is not None

    @property
    def ratio(self) -> float | None:
        """Gradient RMS over weight RMS: one SGD step's size relative to the weight."""
        if self.grad_rms is None or not self.weight_rms:
            return None
        return self.grad_rms / self.weight_rms

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "depth": self.depth,
                "grad_rms": self.grad_rms, "weight_rms": self.weight_rms,
                "ratio": self.ratio, "act_mean": self.act_mean, "act_std": self.act_std,
                "act_rms": self.act_rms, "zero_fraction": self.zero_fraction}


@dataclass(frozen=True)
class BlockFlow:
    """One residual join: the branch's and the shortcut's RMS where they are added."""

    name: str  # the block (the join's scope), e.g. layer2.0
    join: str  # the add node
    depth: int
    branch_rms: float
    shortcut_rms: float

    @property
    def ratio(self) -> float:
        return self.branch_rms / self.shortcut_rms if self.shortcut_rms else math.inf

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "join": self.join, "depth": self.depth,
                "branch_rms": self.branch_rms, "shortcut_rms": self.shortcut_rms,
                "ratio": self.ratio}


@dataclass(frozen=True)
class FlowResult:
    model: str
    mode: str
    labels: str
    seed: int
    input_shape: tuple[int, ...]
    loss: float
    layers: list[LayerFlow]
    blocks: list[BlockFlow] = field(default_factory=list)

    @property
    def weight_layers(self) -> list[LayerFlow]:
        return [r for r in self.layers if r.weighted]

    def layer(self, name: str) -> LayerFlow:
        for r in self.layers:
            if r.name == name:
                return r
        raise KeyError(f"no layer {name!r} in the flow of {self.model}")

    @property
    def body_layers(self) -> list[LayerFlow]:
        """The weight layers of the first one's kind: a CNN's convolutions, the
        fully connected classifier left out."""
        weighted = self.weight_layers
        return [r for r in weighted if r.op == weighted[0].op] if weighted else []

    def first_over_last(self) -> float:
        """Gradient RMS at the first convolution over that at the last (``body_layers``):
        above 1 the gradient grows toward the input (explodes), below 1 it shrinks."""
        weighted = self.body_layers
        if len(weighted) < 2:
            raise FlowError(f"{self.model}: fewer than two weight layers")
        if not weighted[-1].grad_rms:
            raise FlowError(f"{self.model}: {weighted[-1].name} has no gradient (a residual "
                            f"branch that starts at zero gives its layers none)")
        return weighted[0].grad_rms / weighted[-1].grad_rms

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "mode": self.mode, "labels": self.labels,
                "seed": self.seed, "input": list(self.input_shape), "loss": self.loss,
                "layers": [r.as_dict() for r in self.layers],
                "blocks": [b.as_dict() for b in self.blocks]}


# ------------------------------------------------------------------ the batch
def random_batch(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """Standard normal inputs (what a normalised image looks like to the first layer)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator)


def image_batch(image: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """A batch of ``n`` from one preprocessed image (1×C×H×W): the image, its mirror,
    then random crops of the image padded by an eighth of its side (reflected), each
    mirrored at random: the augmentations a CIFAR or ImageNet recipe uses."""
    if image.dim() == 3:
        image = image.unsqueeze(0)
    image = image[:1].float()
    h, w = image.shape[-2:]
    pad = max(1, min(h, w) // 8)
    padded = F.pad(image, (pad, pad, pad, pad), mode="reflect") if min(h, w) > pad else \
        F.pad(image, (pad, pad, pad, pad))
    generator = torch.Generator().manual_seed(seed)
    items = [image, image.flip(-1)]
    while len(items) < n:
        dy, dx = (int(v) for v in torch.randint(0, 2 * pad + 1, (2,), generator=generator))
        crop = padded[..., dy:dy + h, dx:dx + w]
        if torch.rand((), generator=generator) < 0.5:
            crop = crop.flip(-1)
        items.append(crop)
    return torch.cat(items[:n])


# ------------------------------------------------------------------ the budget
def flow_bytes(graph: LayerGraph, params: int, batch: int | None = None) -> int:
    """What one forward and backward pass holds at its peak, estimated from the traced
    graph (its shapes scaled to ``batch``): every node's output (kept for the backward
    pass), the two largest ones again (the gradient flowing back through them), and the
    weights with their gradients."""
    traced = graph.input_shape[0] if graph.input_shape else 1
    scale = (batch or traced) / max(1, traced)
    sizes = []
    for _, d in graph.nx.nodes(data=True):
        if d["kind"] in ("input", "output") or d.get("inplace_of"):
            continue
        sizes.append(math.prod(d.get("out_shape") or ()) * 4)
    sizes.sort()
    return int(scale * (sum(sizes) + 2 * sum(sizes[-2:]))) + 2 * 4 * params


def check_budget(graph: LayerGraph, params: int, budget: int = FLOW_MEMORY,
                 batch: int | None = None) -> int:
    """The estimate (bytes) if it fits ``budget``; else a FlowError naming a batch that
    fits: refused before anything runs, never swapped."""
    need = flow_bytes(graph, params, batch)
    if need > budget:
        shape = (batch or graph.input_shape[0], *graph.input_shape[1:])
        per_item = (need - 8 * params) / shape[0]
        fits = int((budget - 8 * params) // per_item) if per_item else 0
        hint = f"; a batch of {fits} fits" if fits >= 1 else "; try a smaller input"
        raise FlowError(f"a flow pass of {graph.model} at input "
                        f"{'x'.join(map(str, shape))} needs about "
                        f"{bytes_text(need)}, over the {bytes_text(budget)} budget{hint}")
    return need


# ------------------------------------------------------------------ the pass
class _StatsRecorder(_Recorder):
    """The tracer's recorder keeping each node's output statistics instead of its tensor,
    so node names are the graph's and no activation is kept beyond what autograd saves."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model, count_flops=False, capture="all")
        self.stats: dict[str, tuple[float, float, float, float]] = {}

    def _keep(self, node_id: str, t: torch.Tensor) -> None:
        if not t.is_floating_point() or t.numel() == 0:
            return
        self.leaf_depth += 1  # ops here are ours, not the model's: the mode lets them pass
        try:
            with torch.no_grad():  # two passes over the tensor: moments, then zeros
                v = t.detach()
                n = v.numel()
                var, mean = torch.var_mean(v if v.dtype == torch.float32 else v.float(),
                                           correction=0)
                zeros = n - torch.count_nonzero(v)
                var, mean, zeros = (float(s) for s in torch.stack(
                    [var.float(), mean.float(), zeros.float()]).tolist())
                self.stats[node_id] = (mean, math.sqrt(var * n / max(1, n - 1)),
                                       math.sqrt(var + mean * mean), zeros / n)
        finally:
            self.leaf_depth -= 1


def _main_output(output: Any) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, dict):
        return output["out"] if "out" in output else next(iter(output.values()))
    if isinstance(output, (tuple, list)) and output:
        return _main_output(output[0])  # GoogLeNet's aux heads in train mode: the main one
    raise FlowError(f"the model returned {type(output).__name__}, not a tensor")


def _loss(output: torch.Tensor, labels: str, generator: torch.Generator) -> torch.Tensor:
    """Cross-entropy over dimension 1 (classes; per pixel for a segmentation map), against
    random labels or the model's own top class; the mean square without a class axis."""
    if output.dim() < 2 or output.shape[1] < 2:
        return output.float().square().mean()
    logits = output.float()
    if labels == "top":
        target = logits.detach().argmax(1)
    else:
        shape = (logits.shape[0], *logits.shape[2:])
        target = torch.randint(0, logits.shape[1], shape, generator=generator).to(logits.device)
    return F.cross_entropy(logits, target)


def _weighted(model: nn.Module) -> dict[str, nn.Parameter]:
    """Leaf modules whose weight has two or more dimensions and wants a gradient."""
    out = {}
    for name, m in model.named_modules():
        w = getattr(m, "weight", None)
        if isinstance(w, nn.Parameter) and w.dim() >= 2 and w.requires_grad and not any(
                True for _ in m.children()):
            out[name] = w
    return out


def flow(model: nn.Module, x: torch.Tensor, *, name: str | None = None, mode: str = "train",
         labels: str = "random", seed: int = 0, graph: LayerGraph | None = None,
         budget: int | None = FLOW_MEMORY) -> FlowResult:
    """One forward and backward pass of ``model`` on the batch ``x`` (on the model's
    device); the model, its ``.grad`` and BN's statistics are left as they were."""
    if mode not in MODES:
        raise FlowError(f"mode {mode!r}: use one of {', '.join(MODES)}")
    if labels not in LABELS:
        raise FlowError(f"labels {labels!r}: use one of {', '.join(LABELS)}")
    name = name or type(model).__name__
    weights = _weighted(model)
    if budget is not None:  # ``graph`` may be traced at another batch size (the window's 1)
        graph = graph or trace(model, (1, *x.shape[1:]), name=name)
        check_budget(graph, sum(p.numel() for p in model.parameters()), budget,
                     batch=x.shape[0])
    buffers = {k: b.detach().clone() for k, b in model.named_buffers()}
    was_training = model.training
    devices = [x.device.index or 0] if x.device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices), torch.enable_grad():
            torch.manual_seed(seed)
            model.train(mode == "train")
            rec = _StatsRecorder(model)
            output = run_recorded(model, x, rec)
            generator = torch.Generator().manual_seed(seed + 1)
            loss = _loss(_main_output(output), labels, generator)
            params = list(weights.values())
            if not loss.requires_grad:
                raise FlowError(f"{name}: the loss does not depend on any trainable weight")
            if not torch.isfinite(loss):
                raise FlowError(f"{name}: the loss is {float(loss.detach())} in {mode} mode: "
                                f"the activations overflowed (an untrained network in eval "
                                f"mode uses BN's default statistics); try train mode")
            grads = torch.autograd.grad(loss, params, allow_unused=True)
    finally:
        model.train(was_training)
        with torch.no_grad():
            for k, b in model.named_buffers():
                if k in buffers:
                    b.copy_(buffers[k])
    grad_of = {path: g for path, g in zip(weights, grads)}
    return _result(name, mode, labels, seed, tuple(x.shape), float(loss.detach()), rec, grad_of,
                   weights)


def _rms(t: torch.Tensor) -> float:
    return float(t.detach().float().square().mean().sqrt())


def _result(name, mode, labels, seed, shape, loss, rec, grad_of, weights) -> FlowResult:
    g = rec.g
    classify_edges(g)
    rows: list[LayerFlow] = []
    depth_of: dict[str, int] = {}
    depth = 0
    seen: set[str] = set()
    for n in sorted(g, key=lambda n: g.nodes[n]["order"]):
        d = g.nodes[n]
        if d["kind"] in ("input", "output") or n not in rec.stats:
            continue
        path = d.get("path", n)
        grad = weight = None
        if d["kind"] == "module" and path in weights and path not in seen:
            seen.add(path)  # a weight used twice has one gradient: shown at its first use
            depth += 1
            g_tensor = grad_of.get(path)
            grad = _rms(g_tensor) if g_tensor is not None else 0.0
            weight = _rms(weights[path])
        depth_of[n] = depth
        mean, std, rms, zeros = rec.stats[n]
        rows.append(LayerFlow(n, d["op"], depth, mean, std, rms, zeros, grad, weight))
    blocks = []
    for n in sorted(g, key=lambda n: g.nodes[n]["order"]):
        ins = list(g.in_edges(n, data="kind"))
        short = [u for u, _, k in ins if k == "residual"]
        branch = [u for u, _, k in ins if k != "residual"]
        if len(short) == 1 and len(branch) == 1 and short[0] in rec.stats \
                and branch[0] in rec.stats:
            scope = g.nodes[n].get("scope") or n
            blocks.append(BlockFlow(scope, n, depth_of.get(n, 0), rec.stats[branch[0]][2],
                                    rec.stats[short[0]][2]))
    return FlowResult(name, mode, labels, seed, shape, loss, rows, blocks)


def flow_zoo(name: str, input_shape: tuple[int, ...] | None = None, *, batch: int = 8,
             mode: str = "train", labels: str = "random", seed: int = 0,
             budget: int | None = FLOW_MEMORY, **options: Any) -> FlowResult:
    """A zoo model (or a person's model file) freshly initialised from ``seed``, on random
    inputs of ``input_shape`` (default: the model's own, ``batch`` of them).

    The papers' initialisation: where a model offers ``zero_init_last`` (each residual
    branch starting at zero, the zoo's default for bounded random outputs) it is off
    unless asked for, since the claims measured here are about He et al.'s init; with it
    on, every branch's convolutions get no gradient at all until that layer moves."""
    from .. import zoo

    options = zoo.papers_init(name, options)

    if input_shape is None:
        input_shape = (batch, *zoo.input_shape(name, **options)[1:])
    with torch.device("meta"):
        graph = trace(zoo.build(name, **options), (1, *input_shape[1:]), name=name)
    params = sum(d["params"] for _, d in graph.nx.nodes(data=True))
    if budget is not None:  # before any weight is made
        check_budget(graph, params, budget, batch=input_shape[0])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = zoo.build(name, **options)
    return flow(model, random_batch(input_shape, seed), name=name, mode=mode, labels=labels,
                seed=seed, graph=graph, budget=budget)


def box_values(result: FlowResult, view: LayerGraph) -> dict[str, float]:
    """The gradient RMS of each box of a (folded) view: a weight layer's own, a folded
    block's geometric mean over the weight layers inside it (a run ×N over all of its
    blocks); boxes without a weight layer with a gradient are left out."""
    grads = {r.name: r.grad_rms for r in result.layers if r.grad_rms}
    out = {}
    for n, d in view.nx.nodes(data=True):
        members = d.get("members") or [n]
        logs = [math.log(grads[m]) for m in members if m in grads]
        if logs:
            out[n] = math.exp(sum(logs) / len(logs))
    return out
