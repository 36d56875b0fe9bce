"""The recorder of one forward pass: module calls seen through forward hooks, the
functional ops containers run between them through a ``TorchFunctionMode``; tensors
matched to the node that produced them by identity (an in-place op hands the tensor to its
node). Tracing uses it on the meta device; ``record`` runs it on a real input to keep
chosen nodes' outputs (activation capture), with node ids identical to the trace's."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import networkx as nx
import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode

from .op_details import IGNORED, _tensors, attributes_of, index_text, op_name, scalar_args, shape_of
from .replay import Replay

# One trace at a time: the function mode and hooks must not see another thread's tensors.
_TRACE_LOCK = threading.Lock()


class _Recorder(TorchFunctionMode):
    """Records the graph of one forward pass. With ``capture`` (node ids, or "all") it also
    keeps those nodes' output tensors, up to ``budget`` bytes: this is how activations are
    captured on a real device, with node ids identical to the traced graph's."""

    def __init__(self, model: nn.Module, count_flops: bool = True,
                 capture: set[str] | str | None = None, budget: int | None = None) -> None:
        super().__init__()
        self.g = nx.DiGraph()
        self.names = {m: n for n, m in model.named_modules()}
        self.leaves = {m for m in self.names if not any(True for _ in m.children())}
        # id(tensor) -> (weak reference, node, output index): tensors are not kept alive,
        # and a reused id is detected because its weak reference no longer matches.
        self.producer: dict[int, tuple[weakref.ref, str, int]] = {}
        self.capture = capture
        self.budget = budget
        self.captured: dict[str, torch.Tensor] = {}
        self.captured_bytes = 0
        self.over_budget: list[str] = []
        self.last_inputs: list[torch.Tensor] = []
        self.stack: list[nn.Module] = []
        self.leaf_depth = 0
        self.order = 0
        self.counted: set[nn.Module] = set()
        self.last = "the model's forward"
        self.last_in: tuple | None = None  # the shape the module called last was given
        self.pending: dict[int, list[torch.Tensor]] = {}
        self.flop_counter = FlopCounterMode(display=False) if count_flops else None
        self.flops_at: dict[int, int] = {}
        # Where a container module's hooks see a node's tensor: node -> (path, call,
        # "in"/"out", index among the flattened tensors); the first place wins.
        self.seen_at: dict[str, tuple[str, int, str, int]] = {}
        self.container_calls: dict[nn.Module, int] = {}

    # -- bookkeeping ------------------------------------------------------------------
    def _unique(self, base: str) -> str:
        if base not in self.g:
            return base
        i = 1
        while f"{base}:{i}" in self.g:
            i += 1
        return f"{base}:{i}"

    def _add_node(self, node_id: str, inputs: list[torch.Tensor], **attrs: Any) -> None:
        self.g.add_node(node_id, order=self.order, in_shapes=[shape_of(t) for t in inputs],
                        folded=False, **attrs)
        self.order += 1
        for i, t in enumerate(inputs):
            src = self.source(t)
            if src is not None:
                dtype = str(t.dtype)[6:]
                before = self.g.edges[src[0], node_id]["dtypes"] \
                    if self.g.has_edge(src[0], node_id) else ()
                # one edge a pair: a max pool hands its unpool both values and indices
                self.g.add_edge(src[0], node_id, shape=shape_of(t), dtype=dtype,
                                dtypes=(*before, dtype), src_index=src[1], arg_index=i)
        self.last_inputs = inputs

    def source(self, t: torch.Tensor) -> tuple[str, int] | None:
        entry = self.producer.get(id(t))
        if entry is None or entry[0]() is not t:
            return None
        return entry[1], entry[2]

    def flops(self) -> int:
        return self.flop_counter.get_total_flops() if self.flop_counter is not None else 0

    def _set_outputs(self, node_id: str, outputs: list[torch.Tensor]) -> None:
        for t in outputs:  # an in-place op hands back its input: remember whose it was
            if any(t is x for x in self.last_inputs):
                src = self.source(t)
                if src is not None:
                    self.g.nodes[node_id]["inplace_of"] = src[0]
        for i, t in enumerate(outputs):
            self.producer[id(t)] = (weakref.ref(t), node_id, i)
        if outputs and self.capture and (self.capture == "all" or node_id in self.capture):
            self._keep(node_id, outputs[0])
        node = self.g.nodes[node_id]
        node["out_shapes"] = [shape_of(t) for t in outputs]
        node["out_shape"] = node["out_shapes"][0] if outputs else ()

    def _keep(self, node_id: str, t: torch.Tensor) -> None:
        size = t.numel() * t.element_size()
        if self.budget is not None and self.captured_bytes + size > self.budget:
            self.over_budget.append(node_id)
            return
        # A copy: an in-place op later in the forward (ReLU(inplace=True), out += x) would
        # otherwise change what we captured.
        self.captured[node_id] = t.detach().clone()
        self.captured_bytes += size

    def add_input(self, x: torch.Tensor, name: str = "input") -> None:
        self._add_node(name, [], path=name, op="input", kind="input", scope="", params=0,
                       trainable=0, flops=0, attrs={})
        self._set_outputs(name, [x])

    def add_outputs(self, result: Any) -> None:
        if isinstance(result, torch.Tensor):
            named = [("output", result)]
        elif isinstance(result, dict):
            named = [(f"output.{k}", v) for k, v in result.items() if isinstance(v, torch.Tensor)]
        else:
            named = [(f"output.{i}", t) for i, t in enumerate(_tensors(result))]
        for name, t in named:
            self._add_node(name, [t], path=name, op="output", kind="output", scope="",
                           params=0, trainable=0, flops=0, attrs={})
            self.g.nodes[name]["out_shape"] = shape_of(t)
            self.g.nodes[name]["out_shapes"] = [shape_of(t)]

    # -- module hooks -------------------------------------------------------------------
    def _see(self, module: nn.Module, where: str, tensors: list[torch.Tensor]) -> None:
        """Note which nodes' tensors a container's hooks see (capture uses them instead of
        the function mode)."""
        call = self.container_calls.get(module, 0)
        for i, t in enumerate(tensors):
            src = self.source(t)
            if src is not None and src[1] == 0 and src[0] not in self.seen_at:
                self.seen_at[src[0]] = (self.names[module], call, where, i)

    def pre_hook(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        self.last = f"module {self.names.get(module, '?')} ({type(module).__name__})"
        self.last_in = tuple(args[0].shape) if args and isinstance(args[0], torch.Tensor) \
            else None
        self.stack.append(module)
        if module not in self.leaves:
            self._see(module, "in", _tensors((args, kwargs)))
        if module in self.leaves and self.leaf_depth == 0:
            self.pending[id(module)] = _tensors((args, kwargs))
            self.flops_at[id(module)] = self.flops()
        if module in self.leaves:
            self.leaf_depth += 1

    def post_hook(self, module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        self.stack.pop()
        if module not in self.leaves:
            self._see(module, "out", _tensors(output))
            self.container_calls[module] = self.container_calls.get(module, 0) + 1
            return
        self.leaf_depth -= 1
        if self.leaf_depth:
            return
        path = self.names[module]
        params = trainable = 0
        if module not in self.counted:
            self.counted.add(module)
            params = sum(p.numel() for p in module.parameters())
            trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
        flops = self.flops() - self.flops_at.pop(id(module))
        node_id = self._unique(path)
        self._add_node(node_id, self.pending.pop(id(module), []), path=path,
                       op=type(module).__name__, kind="module", scope=path, params=params,
                       trainable=trainable, flops=flops, attrs=attributes_of(module))
        self._set_outputs(node_id, _tensors(output))

    # -- functional ops -----------------------------------------------------------------
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.leaf_depth:
            return func(*args, **kwargs)
        before = self.flops()
        result = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if name in IGNORED:
            return result
        inputs = [t for t in _tensors((args, kwargs)) if self.source(t) is not None]
        outputs = _tensors(result)
        if not inputs or not outputs:
            return result
        op = op_name(func)
        scope = self.names.get(self.stack[-1], "") if self.stack else ""
        owner = self.stack[-1] if self.stack else None
        where = f"{scope} ({type(owner).__name__})" if scope else f"{type(owner).__name__}"
        self.last = f"op {op} in the forward of {where}"
        node_id = self._unique(f"{scope}.{op}" if scope else op)
        attrs = scalar_args(args, kwargs)
        if op == "getitem" and len(args) > 1:  # what a slice keeps: "[:, :16]"
            attrs = {"index": index_text(args[1])}
        self._add_node(node_id, inputs, path=node_id, op=op, kind="function", scope=scope,
                       params=0, trainable=0, attrs=attrs, flops=self.flops() - before)
        # a model converted from a file says which of the file's nodes this op came from
        origin = getattr(owner, "file_node_now", None)
        if origin is not None:
            self.g.nodes[node_id]["file_node"] = origin
        if self.capture is None:
            self._note_replay(node_id, func, args, kwargs, outputs)
        self._set_outputs(node_id, outputs)
        return result

    def _note_replay(self, node_id: str, func, args: tuple, kwargs: dict,
                     outputs: list[torch.Tensor]) -> None:
        """How to compute this op again from its input nodes' tensors: capture replays a
        cheap op no module hook sees (a join inside a block) instead of running the whole
        pass under this mode. Not where an input tensor is not a node's first output."""
        leaves, spec = tree_flatten((args, kwargs))
        template = []
        in_place = False  # it handed back an input (out += x, relu(x, inplace=True))
        for leaf in leaves:
            if isinstance(leaf, torch.Tensor):
                in_place = in_place or any(leaf is t for t in outputs)
                src = self.source(leaf)
                if src is None or src[1] != 0:
                    return
                template.append(Replay.Input(src[0]))
            else:
                template.append(leaf)
        self.g.nodes[node_id]["replay"] = Replay(func, tuple(template), spec, in_place)


def record(model: nn.Module, x: torch.Tensor, capture: set[str] | str,
           budget: int | None = None) -> tuple[Any, dict[str, torch.Tensor], list[str]]:
    """Run ``model`` on a real input and keep the outputs of the ``capture`` nodes (ids as
    in the traced graph, before reshape chains are merged). Returns the model's output,
    the captured tensors and the nodes left out because they did not fit ``budget``."""
    rec = _Recorder(model, count_flops=False, capture=capture, budget=budget)
    output = run_recorded(model, x, rec)
    return output, rec.captured, rec.over_budget


def run_recorded(model: nn.Module, x: torch.Tensor, rec: _Recorder) -> Any:
    """Run ``model`` on ``x`` with ``rec``'s module hooks and function mode in place (one
    recorder at a time: the lock), and take the hooks off again whatever happens."""
    with hooks_on(rec), _TRACE_LOCK:
        rec.add_input(x)
        with rec:
            return model(x)


@contextlib.contextmanager
def hooks_on(rec: _Recorder) -> Iterator[None]:
    """``rec``'s forward hooks on every module of its model, taken off again on the way out
    whatever happens."""
    handles = []
    for module in rec.names:
        handles.append(module.register_forward_pre_hook(rec.pre_hook, with_kwargs=True))
        handles.append(module.register_forward_hook(rec.post_hook, with_kwargs=True))
    try:
        yield
    finally:
        for h in handles:
            h.remove()
