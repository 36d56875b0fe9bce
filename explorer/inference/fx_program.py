"""A ``torch.fx`` program of a live model whose values are named as the traced graph
names its nodes, so capture can return every node's tensor from one generated forward.

How the names are made exact: the model is traced by ``torch.fx`` with the trace's own
leaves (modules without children), then that program is run once on the ``meta`` device
(no compute) under the trace's recorder, node by node: leaf modules are called (their
hooks name them ``path``, ``path:1``...), functional ops run under the function mode with
the enclosing modules' stack taken from ``nn_module_stack`` (so ``layer1.0.add`` is named
as the trace names it), and each fx value is matched to the node that produced its tensor
by identity. The recorded graph, reshape chains merged as the trace merges them, must
equal the traced graph (nodes, ops, shapes, edges), or no program is made.

In-place ops are written out of place (``out += identity``, ``x.relu_()``,
``F.relu(x, inplace=True)``) and later uses of the tensor they wrote are pointed at their
result, so every value the program returns stays as it was made; in-place modules that
``inference.inplace`` can switch are left for the caller to run out of place (their later
uses are pointed the same way). Anything else that writes into a tensor (seen by its
version counter on the meta run), writes through a view, or cannot be traced refuses the
program (``FxRefused``): capture then takes its hook path.

``torch.fx`` patches ``nn.Module.__call__`` and ``__getattr__`` process-wide while it
traces: one trace at a time (the lock), and another thread's module calls in that window
run as they would (the tracer's thread check). Constants the trace makes (a tensor built
in a forward) are kept on the program, not left on the model.
"""

from __future__ import annotations

import inspect
import operator
import threading
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn
from torch.utils._pytree import tree_flatten

from ..graph.layergraph import LayerGraph
from ..graph.simplify import merge_reshape_chains
from ..graph.trace import _TRACE_LOCK, _Recorder, _tensors
from .capture_pass import first_tensor
from .inplace import own_flag, switchable

_FX_LOCK = threading.Lock()  # fx's tracer patches nn.Module for the whole process

_OUT_OF_PLACE = {operator.iadd: operator.add, operator.isub: operator.sub,
                 operator.imul: operator.mul, operator.itruediv: operator.truediv,
                 operator.ifloordiv: operator.floordiv, operator.imod: operator.mod,
                 operator.ipow: operator.pow, operator.imatmul: operator.matmul,
                 operator.iand: operator.and_, operator.ior: operator.or_,
                 operator.ixor: operator.xor, operator.ilshift: operator.lshift,
                 operator.irshift: operator.rshift}


class FxRefused(RuntimeError):
    """No exact program for this model and graph; the message says why."""


@dataclass
class FxProgram:
    """``module`` runs the live model's modules; ``values`` names, for each graph node,
    the fx node whose value holds its tensor (in ``tuples``: the value's first tensor)."""

    module: fx.GraphModule
    values: dict[str, fx.Node]
    tuples: set[str]
    switch: list[nn.Module]  # in-place modules to run out of place
    sizes: dict[str, tuple[int, bool, int]]  # node -> numel, floating, bytes per element
    output_spec: Any = None  # the model's own output structure where fx's differs
    constants: dict[str, Any] = field(default_factory=dict)


class _LeafTracer(fx.Tracer):
    """Leaves are the modules without children (as in the trace); calls from other
    threads while fx has ``nn.Module`` patched run as they would."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()
        self.depth = 0
        self.returned: Any = None  # what the forward returned (fx makes dicts plain)

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return next(iter(m.children()), None) is None

    def call_module(self, m, forward, args, kwargs):
        if threading.get_ident() != self.thread:
            return forward(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        if threading.get_ident() != self.thread:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def create_arg(self, a: Any) -> Any:
        self.depth += 1
        try:
            made = super().create_arg(a)
        finally:
            self.depth -= 1
        if not self.depth:
            self.returned = a  # the last top-level argument is the forward's result
        return made


def _trace_live(model: nn.Module) -> tuple[fx.GraphModule, Any]:
    before = set(model.__dict__)
    with _FX_LOCK:
        tracer = _LeafTracer()
        graph = tracer.trace(model)
        module = fx.GraphModule(model, graph)
    for key in set(model.__dict__) - before:  # fx leaves its tensor constants on the root
        del model.__dict__[key]
    return module, tracer.returned


_INPLACE_ARG: dict[Any, int | None] = {}


def _inplace_position(target: Any) -> int | None:
    """Where a function takes ``inplace`` positionally (``F.relu(x, True)``)."""
    if target not in _INPLACE_ARG:
        try:
            names = list(inspect.signature(target).parameters)
        except (TypeError, ValueError):
            names = []
        _INPLACE_ARG[target] = names.index("inplace") if "inplace" in names else None
    return _INPLACE_ARG[target]


def _write_out_of_place(n: fx.Node) -> bool:
    """Turn ``n`` into its out-of-place form when it is an in-place op; True if it was."""
    if n.op == "call_method":
        name = n.target
        if (name.endswith("_") and not name.startswith("_")
                and hasattr(torch.Tensor, name[:-1])):
            n.target = name[:-1]
            return True
        return False
    if n.op != "call_function":
        return False
    if n.target in _OUT_OF_PLACE:
        n.target = _OUT_OF_PLACE[n.target]
        return True
    name = getattr(n.target, "__name__", "")
    if name.endswith("_") and not name.startswith("_"):
        for space in (torch, F):
            if getattr(space, name, None) is n.target and hasattr(space, name[:-1]):
                n.target = getattr(space, name[:-1])
                return True
    if n.kwargs.get("inplace") is True:
        n.kwargs = {**n.kwargs, "inplace": False}
        return True
    at = _inplace_position(n.target) if callable(n.target) else None
    if at is not None and len(n.args) > at and n.args[at] is True:
        n.args = (*n.args[:at], False, *n.args[at + 1:])
        return True
    return False


class _MetaRun(fx.Interpreter):
    """Runs the program on ``meta`` tensors under the trace's recorder, writing in-place
    ops out of place as it goes (it needs their values to know which write a tensor), and
    notes which recorded node each value's first tensor belongs to.

    Leaf modules are not run: the recorder's hooks are called around an empty output of
    the shape and dtype the traced graph gives that call (the trace ran them already;
    a meta batch norm costs a millisecond of Python), so the model itself is only read."""

    def __init__(self, module: fx.GraphModule, live: dict[str, nn.Module], graph: LayerGraph,
                 rec: _Recorder, in_place: set[str]) -> None:
        super().__init__(module, garbage_collect_values=False)
        self.traced, self.rec, self.in_place = graph, rec, in_place
        self.hands_back: set[str] = set()  # leaf modules that may hand back their input
        self.cloned: dict[fx.Node, fx.Node] = {}  # their input -> the first such call
        self.live = live  # the model's modules by path
        self.order = {n: i for i, n in enumerate(module.graph.nodes)}
        self.first: dict[str, fx.Node] = {}  # recorded node -> fx node with its tensor
        self.first_tuple: dict[str, fx.Node] = {}  # ... as a tuple's first tensor
        self.views: dict[int, list[fx.Node]] = {}  # id(base) -> nodes whose value views it

    def _point_later_uses(self, n: fx.Node, written: Any) -> None:
        if not isinstance(written, fx.Node) or not isinstance(self.env[written], torch.Tensor):
            return
        t = self.env[written]
        if t._is_view() or written.op in ("placeholder", "get_attr"):
            raise FxRefused(f"{n.format_node()} writes into a view, an input or a weight")
        for v in self.views.get(id(t), []):
            if any(self.order[u] > self.order[n] for u in v.users):
                raise FxRefused(f"{n.format_node()} writes into a tensor viewed later")
        for u in list(written.users):
            if self.order[u] > self.order[n]:
                u.replace_input_with(written, n)

    def run_node(self, n: fx.Node) -> Any:
        stack = [self.live[path] for path, _ in n.meta.get("nn_module_stack", {}).values()]
        if n.op == "call_module":
            stack = stack[:-1]  # the leaf itself: its pre-hook pushes it
            if n.target in self.in_place and n.args:
                self._point_later_uses(n, n.args[0])
            elif n.target in self.hands_back and n.args and isinstance(n.args[0], fx.Node):
                self.cloned.setdefault(n.args[0], n)
        elif n.args and _write_out_of_place(n):
            self._point_later_uses(n, n.args[0])
        self.rec.stack = stack
        inputs = [] if n.op == "call_module" else [  # leaf modules are not run here
            t for t in map(self.env.__getitem__, n.all_input_nodes)
            if isinstance(t, torch.Tensor)]
        versions = [t._version for t in inputs]
        with self._set_current_node(n):
            args, kwargs = self.fetch_args_kwargs_from_env(n)
            value = getattr(self, n.op)(n.target, args, kwargs)
        if any(t._version != v for t, v in zip(inputs, versions)):
            raise FxRefused(f"{n.format_node()} writes into its input")
        tensors = [value] if isinstance(value, torch.Tensor) else _tensors(value)
        if tensors:
            t = tensors[0]
            if t._is_view():
                self.views.setdefault(id(t._base), []).append(n)
            src = self.rec.source(t)
            if src is not None and src[1] == 0:
                table = self.first if isinstance(value, torch.Tensor) else self.first_tuple
                table.setdefault(src[0], n)
        return value

    def call_module(self, target, args, kwargs):
        module = self.live[target]
        node = self.rec._unique(target)  # the id its post-hook will give this call
        if node not in self.traced.nx:
            raise FxRefused(f"the trace has no call {node}")
        shapes = self.traced.nx.nodes[node]["out_shapes"]
        dtypes = {e["src_index"]: e["dtype"]
                  for _, _, e in self.traced.nx.out_edges(node, data=True)}
        outs = [torch.empty(s, device="meta",
                            dtype=getattr(torch, dtypes.get(i, self.traced.dtype)))
                for i, s in enumerate(shapes)]
        value = outs[0] if len(outs) == 1 else tuple(outs)
        self.rec.pre_hook(module, args, kwargs)
        self.rec.post_hook(module, args, kwargs, value)
        return value

    def get_attr(self, target, args, kwargs):
        value = super().get_attr(target, args, kwargs)
        if isinstance(value, torch.Tensor) and not value.is_meta:
            value = torch.empty_like(value, device="meta")
        return value


def _same_graph(recorded: nx.DiGraph, traced: nx.DiGraph) -> str | None:
    """Why the two differ, or None."""
    if set(recorded) != set(traced):
        extra = sorted(set(recorded) ^ set(traced))[:3]
        return f"nodes differ ({', '.join(extra)})"
    for n, d in traced.nodes(data=True):
        r = recorded.nodes[n]
        if r["op"] != d["op"] or tuple(r["out_shape"]) != tuple(d["out_shape"]):
            return f"node {n} differs"
    if set(recorded.edges) != set(traced.edges):
        return "edges differ"
    return None


def fx_program(model: nn.Module, graph: LayerGraph) -> FxProgram:
    """The program for ``model`` (left untouched) whose node names are ``graph``'s;
    raises FxRefused when fx cannot trace it or cannot name every node exactly."""
    try:
        module, returned = _trace_live(model)
    except Exception as exc:  # fx's own errors (data-dependent control flow...) and the model's
        raise FxRefused(f"torch.fx cannot trace it: {type(exc).__name__}: {exc}") from None
    live = dict(model.named_modules())
    called = {n.target for n in module.graph.nodes if n.op == "call_module"}
    in_place = {p for p in called if switchable(live[p]) and own_flag(live[p])}
    rec = _Recorder(model, count_flops=False, capture=set())
    runner = _MetaRun(module, live, graph, rec, in_place)
    for _, d in graph.nx.nodes(data=True):  # a module of the model's own that handed back
        if d["kind"] == "module" and "inplace_of" in d:  # its input may have written into it
            m = live.get(d["path"])
            if m is not None and not switchable(m) and type(m) is not nn.Identity:
                runner.hands_back.add(d["path"])
    try:
        # outside inference mode: version counters show a write into a tensor
        with _TRACE_LOCK, torch.inference_mode(False), torch.no_grad():
            x = torch.empty(graph.input_shape, device="meta",
                            dtype=getattr(torch, graph.dtype))
            rec.add_input(x)
            with rec:
                result = runner.run(x)
            rec.add_outputs(result)
    except FxRefused:
        raise
    except Exception as exc:
        raise FxRefused(f"its program does not run: {type(exc).__name__}: {exc}") from None
    recorded = nx.DiGraph(rec.g)
    merge_reshape_chains(recorded)
    why = _same_graph(recorded, graph.nx)
    if why:
        raise FxRefused(f"its program is not the traced graph: {why}")
    values, tuples, sizes = {}, set(), {}
    clones: dict[fx.Node, fx.Node] = {}
    for n, d in graph.nx.nodes(data=True):
        if d["kind"] in ("input", "output"):
            continue
        raw = d.get("raw", n)
        node = runner.first.get(raw)
        if node is None:
            node = runner.first_tuple.get(raw)
            if node is None:
                raise FxRefused(f"no value of its program holds {n}")
            tuples.add(n)
        v = runner.env[node]
        t = first_tensor(v)
        sizes[n] = (t.numel(), t.is_floating_point(), t.element_size())
        if node in runner.cloned:  # kept as it was before that module saw it
            call = runner.cloned[node]
            if call not in clones:
                with module.graph.inserting_before(call):
                    clones[call] = module.graph.call_method("clone", (node,))
            node = clones[call]
        values[n] = node
    spec = tree_flatten(returned)[1]  # fx returns an OrderedDict as a plain dict
    own = spec if spec != tree_flatten(result)[1] else None
    return FxProgram(module, values, tuples, [live[p] for p in called if switchable(live[p])],
                     sizes, own)
