"""Trace a model into a LayerGraph: one forward pass on the ``meta`` device.

Module calls are seen through forward hooks; functional ops that containers run between
them (``add``, ``cat``, ``mul``, ``chunk``, ``max_unpool2d``, reshapes...) through a
``TorchFunctionMode``. Ops inside a leaf module (a ``Conv2d`` calling ``F.conv2d``) are part
of that module's node. Tensors are matched to the node that produced them by identity,
so in-place ops (``out += identity``, ``ReLU(inplace=True)``) hand the tensor to their node.

The live model is never touched: tracing runs on a structural copy whose parameters and
buffers are meta tensors, so no weight is copied and nothing is computed.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import warnings
import weakref
from dataclasses import dataclass
from typing import Any

import networkx as nx
import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten, tree_unflatten
from torch.utils.flop_counter import FlopCounterMode

from ..limits import input_shape_problem
from .classify import classify_edges
from .layergraph import LayerGraph
from .simplify import merge_reshape_chains


class TraceError(RuntimeError):
    """The model could not be traced; the message names the failing module or op."""


# Tensor methods and functions that only read metadata or that we do not draw.
_IGNORED = {"__get__", "__set__", "size", "dim", "numel", "__len__", "__format__", "__repr__",
            "__bool__", "__index__", "__int__", "__float__", "item", "tolist", "element_size",
            "is_contiguous", "stride", "data_ptr", "storage_offset", "is_floating_point",
            "__setstate__", "__reduce_ex__", "__deepcopy__", "detach", "requires_grad_",
            "has_names", "is_complex", "__hash__", "__eq__", "__ne__"}
_RENAMES = {"__getitem__": "getitem", "concat": "cat", "concatenate": "cat",
            "max_pool2d_with_indices": "max_pool2d", "truediv": "div", "matmul": "matmul",
            "sub": "sub", "rsub": "sub", "radd": "add", "rmul": "mul", "iadd": "add",
            "imul": "mul", "isub": "sub"}
_ATTRS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
          "groups", "in_features", "out_features", "num_features", "eps", "p", "output_size",
          "mode", "scale_factor", "return_indices", "ceil_mode", "negative_slope", "dim",
          "offset", "output_padding")

# One trace at a time: the function mode and hooks must not see another thread's tensors.
_TRACE_LOCK = threading.Lock()


def op_name(func: Any) -> str:
    # an operator overload (an exported program's aten.add_.Tensor) is named by its op
    name = getattr(func, "__name__", str(func)).split(".")[0]
    bare = name.strip("_")
    if bare.endswith("_") and not name.startswith("__"):
        bare = bare[:-1]  # in-place variant: add_ -> add
    return _RENAMES.get(bare, _RENAMES.get(name, bare))


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


def _attributes(module: nn.Module) -> dict[str, Any]:
    attrs = {}
    for key in _ATTRS:
        value = getattr(module, key, None)
        if value is not None and isinstance(value, (int, float, str, bool, tuple)):
            attrs[key] = value
    if isinstance(module, (nn.Conv2d, nn.Linear, nn.ConvTranspose2d, nn.Conv1d, nn.Conv3d)):
        attrs["bias"] = module.bias is not None
    return attrs


def _scalar_args(args: tuple, kwargs: dict) -> dict[str, Any]:
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


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(s) for s in t.shape)


@dataclass(frozen=True)
class Replay:
    """A functional op as it was called: ``func`` and its flattened arguments, where a
    tensor argument is ``Replay.Input(node)``, the output of that node."""

    @dataclass(frozen=True)
    class Input:
        node: str

    func: Any
    args: tuple
    spec: Any  # the pytree spec of (args, kwargs)
    in_place: bool  # it writes into its first tensor argument

    def inputs(self) -> list[str]:
        return [a.node for a in self.args if isinstance(a, Replay.Input)]

    def run(self, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        """The op on ``tensors`` (node -> its output); in-place ops act on a copy."""
        leaves, copied = [], False
        for a in self.args:
            if isinstance(a, Replay.Input):
                t = tensors[a.node]
                if self.in_place and not copied:
                    t, copied = t.clone(), True
                a = t
            leaves.append(a)
        args, kwargs = tree_unflatten(leaves, self.spec)
        return _tensors(self.func(*args, **kwargs))[0]


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
        self.g.add_node(node_id, order=self.order, in_shapes=[_shape(t) for t in inputs],
                        folded=False, **attrs)
        self.order += 1
        for i, t in enumerate(inputs):
            src = self.source(t)
            if src is not None:
                dtype = str(t.dtype)[6:]
                before = self.g.edges[src[0], node_id]["dtypes"] \
                    if self.g.has_edge(src[0], node_id) else ()
                # one edge a pair: a max pool hands its unpool both values and indices
                self.g.add_edge(src[0], node_id, shape=_shape(t), dtype=dtype,
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
        node["out_shapes"] = [_shape(t) for t in outputs]
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
            self.g.nodes[name]["out_shape"] = _shape(t)
            self.g.nodes[name]["out_shapes"] = [_shape(t)]

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
                       trainable=trainable, flops=flops, attrs=_attributes(module))
        self._set_outputs(node_id, _tensors(output))

    # -- functional ops -----------------------------------------------------------------
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.leaf_depth:
            return func(*args, **kwargs)
        before = self.flops()
        result = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if name in _IGNORED:
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
        attrs = _scalar_args(args, kwargs)
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
    handles = []
    for module in rec.names:
        handles.append(module.register_forward_pre_hook(rec.pre_hook, with_kwargs=True))
        handles.append(module.register_forward_hook(rec.post_hook, with_kwargs=True))
    try:
        with _TRACE_LOCK:
            rec.add_input(x)
            with rec:
                return model(x)
    finally:
        for h in handles:
            h.remove()


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
    handles = []
    for module in rec.names:
        handles.append(module.register_forward_pre_hook(rec.pre_hook, with_kwargs=True))
        handles.append(module.register_forward_hook(rec.post_hook, with_kwargs=True))
    x = torch.empty(shape, device="meta", dtype=dtype)
    try:
        with _TRACE_LOCK:
            rec.add_input(x)
            with rec, rec.flop_counter or contextlib.nullcontext(), torch.no_grad():
                result = meta(x)
            if not _tensors(result):
                raise TraceError(f"{label}: forward returned {_returned(result)}, not a tensor")
            rec.add_outputs(result)
    except TraceError:
        raise
    except Exception as exc:
        hint = _size_mismatch(rec.stack[-1] if rec.stack else None, rec)
        if hint:
            raise TraceError(f"cannot trace {name or type(model).__name__} at input "
                             f"{'x'.join(map(str, shape))}: {hint}") from exc
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "meta" in detail:
            detail += " (the forward pass depends on tensor values, which tracing never computes)"
        raise TraceError(f"cannot trace {name or type(model).__name__} at input "
                         f"{'x'.join(map(str, shape))}: {type(exc).__name__} in "
                         f"{rec.last}: {detail}") from exc
    finally:
        for h in handles:
            h.remove()
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
