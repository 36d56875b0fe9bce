"""Capture through the model's ``torch.fx`` program (``fx_program``): one generated
forward that returns the model's output and every asked-for node's tensor, with no
wrapper, hook or Python call per node (on a CIFAR ResNet the hook path spent a quarter
of a pass on wrappers and bookkeeping).

Programs are made once per live model (held weakly: they go with the model) and per
training mode, and checked before each use: a program runs the model's leaf modules as
they are (their weights, flags and buffers are read at each call), but it has the code
of every other module written in, so it is made again when any module of the tree was
replaced, added or removed, when a container's training flag changed, or for another
graph. A model fx cannot trace or name exactly is remembered as such for that state, and
capture takes its hook path (``capture_pass``). So does a capture whose tensors would not
fit the budget, an input of another shape than the graph's, or a model with hooks on a
module the program does not call (the model itself, a block; a leaf's hooks run).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx as fx
from torch import nn
from torch.nn.modules import module as module_hooks
from torch.utils._pytree import tree_flatten, tree_unflatten

from ..graph.layergraph import LayerGraph
from .capture_pass import Tree, first_tensor, model_lock, module_tree, same_tree
from .fx_program import FxProgram, FxRefused, fx_program
from .inplace import out_of_place


@dataclass
class _Entry:
    """A program (None: refused) and the state of the model it was made for."""

    program: FxProgram | None
    graph: weakref.ref
    tree: Tree
    containers: list[tuple[dict, bool]]  # (a module with children's __dict__, its training)
    why: str = ""
    runs: dict[tuple[str, ...], fx.GraphModule] = field(default_factory=dict)

    def hooked(self) -> bool:
        """Hooks on a module whose code the program has written in (the model itself, a
        block) would not run: the hook path runs them."""
        return any(d[k] for d, _ in self.containers for k in _HOOKS) or any(
            getattr(module_hooks, k, None) for k in _GLOBAL_HOOKS)

    def current(self, graph: LayerGraph) -> bool:
        return (self.graph() is graph.nx
                and same_tree(self.tree)
                and all(d["training"] is flag for d, flag in self.containers))


_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
_GLOBAL_HOOKS = ("_global_forward_hooks", "_global_forward_pre_hooks",
                 "_global_backward_hooks", "_global_backward_pre_hooks")
_ENTRIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {training: _Entry}
_LOCK = threading.Lock()


def _containers(model: nn.Module) -> list[tuple[dict, bool]]:
    """Each module with children, by its ``__dict__`` (held without holding the model,
    the cache's key), with its training flag."""
    return [(m.__dict__, m.training) for m in model.modules() if m._modules]


def program_for(model: nn.Module, graph: LayerGraph) -> _Entry:
    """The model's entry for ``graph`` in its present state, made if it has none."""
    with _LOCK:
        entry = _ENTRIES.get(model, {}).get(model.training)
    if entry is not None and entry.current(graph):
        return entry
    with model_lock(model):  # one capture makes it, others wait for it
        with _LOCK:
            entry = _ENTRIES.get(model, {}).get(model.training)
        if entry is not None and entry.current(graph):
            return entry
        tree, containers = module_tree(model), _containers(model)
        try:
            program, why = fx_program(model, graph), ""
        except FxRefused as exc:
            program, why = None, str(exc)
        entry = _Entry(program, weakref.ref(graph.nx), tree, containers, why)
        with _LOCK:
            _ENTRIES.setdefault(model, {})[model.training] = entry
        return entry


def _fits(program: FxProgram, nodes: list[str], x: torch.Tensor, budget: int | None) -> bool:
    if budget is None:
        return True
    size = 0
    for n in nodes:
        numel, floating, itemsize = program.sizes[n]
        size += numel * (x.element_size() if floating else itemsize)
    return size <= budget


def run_module(entry: _Entry, nodes: tuple[str, ...]) -> fx.GraphModule:
    """The program returning (the model's output, the nodes' values), made once per
    node list (a few lists are kept: they change as a person picks layers)."""
    with _LOCK:
        run = entry.runs.get(nodes)
    if run is None:
        program = entry.program
        graph = fx.Graph()
        copied: dict[fx.Node, fx.Node] = {}
        output = graph.graph_copy(program.module.graph, copied)
        graph.output((output, tuple(copied[program.values[n]] for n in nodes)))
        run = fx.GraphModule(program.module, graph)
        with _LOCK:
            if len(entry.runs) > 8:
                entry.runs.clear()
            entry.runs[nodes] = run
    return run


def fx_capture(model: nn.Module, x: torch.Tensor, graph: LayerGraph, nodes: list[str],
               budget: int | None) -> tuple[Any, dict[str, torch.Tensor]] | None:
    """The model's output and ``nodes``' tensors from its fx program, or None where
    capture must take the hook path (see the module's docstring)."""
    if tuple(x.shape) != tuple(graph.input_shape):
        return None
    entry = program_for(model, graph)
    program = entry.program
    if program is None or entry.hooked() or not all(n in program.values for n in nodes):
        return None
    if not _fits(program, nodes, x, budget):
        return None
    run = run_module(entry, tuple(nodes))
    with out_of_place(program.switch):
        output, values = run(x)
    tensors = dict(zip(nodes, values))
    for n in program.tuples.intersection(tensors):  # a module's outputs: its first tensor
        tensors[n] = first_tensor(tensors[n])
    if torch.is_grad_enabled():  # not under inference_mode or no_grad
        tensors = {n: t.detach() for n, t in tensors.items()}
    if program.output_spec is not None:
        output = tree_unflatten(tree_flatten(output)[0], program.output_spec)
    return output, tensors
