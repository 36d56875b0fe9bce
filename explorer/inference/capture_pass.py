"""The capture pass: one forward of the model in which every module the plan names hands
over the tensors it sees, with no per-op work anywhere else.

Each such module's ``forward`` is wrapped for the pass (an instance attribute, taken off
again after): a wrapped call costs one Python frame, where a forward hook sends the call
through ``nn.Module``'s hook path (a closure and loops over hook tables for every call)
and costs a handle to register and remove, which on a small model (a CIFAR ResNet, 6 ms)
was a tenth of a forward pass by itself. Hooks the model's owner registered still run
around the wrapped forward, as they did around the forward.

Only the capturing thread's calls are kept; captures of one model take turns (the lock),
since the wrappers count each module's calls (a module called twice: ``relu:1``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..graph.trace import _tensors
from .capture_plan import CapturePlan

Keep = Callable[[str, torch.Tensor], None]
Wanted = list[tuple[int, int, str]]  # (call, index among the flattened tensors, node)

_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its lock
_LOCKS_LOCK = threading.Lock()


def model_lock(model: nn.Module) -> threading.RLock:
    with _LOCKS_LOCK:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
        return lock


Tree = list[tuple[dict, dict]]  # (a module's _modules, a copy of it when looked at)
_MODULES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> (Tree, paths)


def module_tree(model: nn.Module) -> Tree:
    """The model's module tree as it is now, held without holding the model."""
    return [(m._modules, dict(m._modules)) for m in model.modules()]


def same_tree(tree: Tree) -> bool:
    """No module of the tree was replaced, added or removed since ``module_tree``."""
    return all(live == then for live, then in tree)


def named_modules(model: nn.Module) -> dict[str, nn.Module]:
    """``dict(model.named_modules())``, walked again only when the tree changed (on a
    CIFAR ResNet the walk was a twentieth of a capture)."""
    with _LOCKS_LOCK:
        held = _MODULES.get(model)
    if held is None or not same_tree(held[0]):
        paths = dict(model.named_modules())
        del paths[""]  # the model itself: held, it would never leave the cache
        held = (module_tree(model), paths)
        with _LOCKS_LOCK:
            _MODULES[model] = held
    return {"": model, **held[1]}


def _flat(args: tuple, kwargs: dict) -> tuple | list:
    """The tensors among a call's arguments, flattened as the trace flattened them."""
    if not kwargs and all(isinstance(a, torch.Tensor) for a in args):
        return args
    return _tensors((args, kwargs))


def first_tensor(output: Any) -> torch.Tensor:
    """A module's or op's output as its node's tensor: the first tensor it holds."""
    return output if isinstance(output, torch.Tensor) else _tensors(output)[0]


def _wrapped(forward: Callable, keep: Keep, inputs: Wanted, outputs: Wanted,
             thread: int) -> Callable:
    """``forward`` keeping the wanted inputs and outputs of the capturing thread's calls."""
    calls = [0]
    if not inputs and len(outputs) == 1 and outputs[0][:2] == (0, 0):  # the common case
        node = outputs[0][2]

        def first_output(*args, **kwargs):
            output = forward(*args, **kwargs)
            if threading.get_ident() == thread:
                if not calls[0]:
                    keep(node, first_tensor(output))
                calls[0] += 1
            return output
        return first_output

    def seen(*args, **kwargs):
        if threading.get_ident() != thread:
            return forward(*args, **kwargs)
        call = calls[0]
        calls[0] = call + 1
        for c, i, node in inputs:
            if c == call:
                keep(node, _flat(args, kwargs)[i])
        output = forward(*args, **kwargs)
        for c, i, node in outputs:
            if c == call:
                keep(node, first_tensor(output) if i == 0 else _tensors(output)[i])
        return output
    return seen


def seen_pass(model: nn.Module, x: torch.Tensor, plan: CapturePlan,
              modules: dict[str, nn.Module], keep: Keep) -> Any:
    """Run ``model`` on ``x`` handing ``keep`` each planned (node, tensor) as it is made.
    Call with ``model_lock(model)`` held."""
    thread = threading.get_ident()
    wrapped: list[tuple[nn.Module, Any]] = []  # module, the forward its instance had
    missing = object()
    try:
        for path, wanted in plan.seen.items():
            m = modules[path]
            inputs = [(c, i, n) for c, w, i, n in wanted if w == "in"]
            outputs = [(c, i, n) for c, w, i, n in wanted if w == "out"]
            wrapped.append((m, m.__dict__.get("forward", missing)))
            m.__dict__["forward"] = _wrapped(m.forward, keep, inputs, outputs, thread)
        return model(x)
    finally:
        for m, own in reversed(wrapped):  # reversed: a module wrapped twice ends as it was
            if own is missing:
                m.__dict__.pop("forward", None)
            else:
                m.__dict__["forward"] = own
