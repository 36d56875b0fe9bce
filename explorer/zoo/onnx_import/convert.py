"""A folded ONNX graph as a live ``nn.Module``.

Leaf modules are named from the nodes and nested by the hierarchy that ``/``-separated
names carry (torch's exporter writes ``/layer1/layer1.0/conv1/Conv``, which becomes
``layer1.0.conv1``; Caffe2's ``conv2_1/x1/bn`` becomes ``conv2_1.x1.bn``). A node without
a name is named from its weight (Caffe2's files), else placed beside the node that feeds
it. Functional ops (joins, reshapes) run inside the block their name places them in, so
folding a block in the diagram takes its residual add with it."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .folding import Folded, attributes
from .ops import HANDLERS, Node, Op, Unsupported
from .reading import fail

_VERSION = re.compile(r"_\d+$")
_PARAM_SUFFIX = re.compile(r"([._/](w|b|s|weight|bias|scale|mean|var|rm|riv))$")
_MEANINGLESS = re.compile(r"^([a-zA-Z]?\d+|.*::.*|onnx_.*|)$")
# ops whose gradient does not read their own output: an in-place ReLU may follow them
_OVERWRITABLE = {"Conv", "ConvTranspose", "BatchNormalization", "Add", "Sub", "Mul", "Sum",
                 "Gemm", "MatMul", "Concat"}


@dataclass(frozen=True)
class OnnxNodeInfo:
    """What the file says about one node, shown beside the module it became."""

    name: str
    op_type: str
    domain: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class Step:
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    module: str | None  # a leaf module's path
    scope: str  # the block a functional op runs in ("" for the model itself)
    fn: Callable[..., Any] | None
    info: OnnxNodeInfo | None = None  # a functional op's node (a module carries its own)


class Block(nn.Module):
    """A level of the file's name hierarchy. A functional op is called through its block,
    so tracing sees it inside that block."""

    def forward(self, fn, *args):
        return fn(*args)


class OnnxModel(nn.Module):
    """The converted graph: runs its steps in the file's order."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[Step] = []
        self.input_name = ""
        self.output_names: tuple[str, ...] = ()
        self.runtime_constants: dict[str, str] = {}  # ONNX name -> buffer attribute
        self.onnx_nodes: dict[str, OnnxNodeInfo] = {}  # module path -> its node
        self.onnx_file: dict[str, Any] = {}

    def forward(self, x: torch.Tensor):
        env: dict[str, Any] = {self.input_name: x}
        for name, attr in self.runtime_constants.items():
            env[name] = getattr(self, attr)
        for step in self.steps:
            args = [env[n] if n else None for n in step.inputs]
            if step.module is not None:
                out = self.get_submodule(step.module)(*args)
            else:
                owner = self.get_submodule(step.scope) if step.scope else self
                owner.file_node_now = step.info  # tracing notes which node an op is
                out = owner(step.fn, *args) if step.scope else step.fn(*args)
            outs = out if isinstance(out, (tuple, list)) else (out,)
            for name, value in zip(step.outputs, outs):
                if name:
                    env[name] = value
        results = tuple(env[n] for n in self.output_names)
        return results[0] if len(results) == 1 else results


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"tensor {list(value.shape)}" if value.size > 8 else str(value.tolist())
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _components(name: str) -> list[str]:
    """``/layer1/layer1.0/conv1/Conv`` -> layer1, 0, conv1, Conv."""
    parts = [p for p in name.split("/") if p]
    out: list[str] = []
    for i, part in enumerate(parts):
        if i and part.startswith(parts[i - 1] + "."):
            part = part[len(parts[i - 1]) + 1:]
        part = re.sub(r"[^0-9A-Za-z_]", "_", part) or "_"
        while part in _taken() or part.startswith("onnx_constant_"):
            part += "_"  # a module may not shadow an attribute (a node named "/forward")
        out.append(part)
    return out


@functools.cache
def _taken() -> frozenset[str]:
    """Names a converted model or block already has (methods, its own attributes)."""
    return frozenset(dir(OnnxModel()))


def _base_name(node, folded: Folded) -> str | None:
    """The node's own name, else the name of the weight it reads (Caffe2's nameless
    nodes: ``gpu_0/res2_0_branch2a_w_0`` names ``res2_0_branch2a``), else a meaningful
    output name."""
    if node.name and not _MEANINGLESS.match(node.name):
        return node.name
    for name in node.input[1:]:
        value = folded.constants.get(name)
        if value is not None and value.dtype.kind == "f" and name in folded.origin:
            base = _VERSION.sub("", folded.origin[name])
            base = _PARAM_SUFFIX.sub("", base)
            return base.replace(".", "/")
    out = node.output[0] if node.output else ""
    return None if _MEANINGLESS.match(out) else out


def _common_prefix(names: list[list[str]]) -> int:
    """Leading components every name shares (Caffe2's ``gpu_0``): dropped."""
    if len(names) < 2:
        return 0
    n = 0
    while all(len(c) > n + 1 and c[n] == names[0][n] for c in names):
        n += 1
    return n


def _op_suffix(part: str, op: str) -> bool:
    return re.fullmatch(rf"{re.escape(op)}(_\d+)?", part) is not None


def _shared(scopes: list[list[str]]) -> list[str]:
    """The deepest scope all of ``scopes`` lie in."""
    if not scopes:
        return []
    scope = scopes[0]
    for other in scopes[1:]:
        k = 0
        while k < min(len(scope), len(other)) and scope[k] == other[k]:
            k += 1
        scope = scope[:k]
    return scope


def _unnamed_scopes(nodes, comps: list[list[str]]) -> list[list[str] | None]:
    """Where a nameless node goes: with the node that feeds it when it is that node's only
    reader (a ReLU after its convolution), in the scope its inputs share when it joins
    several, else with the nodes it feeds (an inception module's pool branch)."""
    producer: dict[str, int] = {}
    readers: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        for name in node.input:
            readers.setdefault(name, []).append(i)
        for out in node.output:
            producer[out] = i
    scopes: list[list[str] | None] = [c[:-1] if c else None for c in comps]
    for i, node in enumerate(nodes):
        if scopes[i] is not None:
            continue
        feeds = [n for n in node.input if n in producer]
        if len(feeds) > 1:
            scopes[i] = _shared([scopes[producer[n]] or [] for n in feeds])
        elif feeds and len(readers.get(feeds[0], ())) == 1:
            scopes[i] = scopes[producer[feeds[0]]]
    for i in reversed(range(len(nodes))):
        if scopes[i] is None:
            after = [scopes[j] or [] for out in nodes[i].output for j in readers.get(out, ())]
            feeds = [producer[n] for n in nodes[i].input if n in producer]
            scopes[i] = _shared(after) if after else (scopes[feeds[0]] or [] if feeds else [])
    return scopes


def name_nodes(nodes, folded: Folded, modules: list[bool]) -> list[list[str]]:
    """A path (components) for each node: a leaf module's own path, or for a functional
    op the path whose last component is its name and the rest its scope."""
    bases = [_base_name(n, folded) for n in nodes]
    comps = [_components(b) if b else [] for b in bases]
    named = [c for c in comps if c]
    cut = _common_prefix(named)
    comps = [c[cut:] if c else c for c in comps]
    scopes = _unnamed_scopes(nodes, comps)
    counts: Counter = Counter()
    for i, node in enumerate(nodes):
        if not comps[i]:
            op = node.op_type.lower()
            counts[(tuple(scopes[i]), op)] += 1
            k = counts[(tuple(scopes[i]), op)]
            comps[i] = [*scopes[i], op if k == 1 else f"{op}_{k - 1}"]
        elif modules[i] and len(comps[i]) > 1 and _op_suffix(comps[i][-1], node.op_type):
            comps[i] = comps[i][:-1]  # torch's /scope/Conv: the module is the scope
    _unique_leaves(nodes, comps, modules)
    return comps


def _unique_leaves(nodes, comps: list[list[str]], modules: list[bool]) -> None:
    """No two leaves on one path, and no leaf where another node's block is."""
    prefixes = {tuple(c[:k]) for c in comps for k in range(1, len(c))}
    used: set[tuple[str, ...]] = set()
    for i, c in enumerate(comps):
        if not modules[i]:
            continue
        path = tuple(c)
        if path in prefixes:
            path = (*path, nodes[i].op_type.lower())
        base, k = path, 0
        if path in used:
            path = (*base[:-1], f"{base[-1]}_{nodes[i].op_type.lower()}")
        while path in used or path in prefixes:
            k += 1
            path = (*base[:-1], f"{base[-1]}_{k}")
        used.add(path)
        comps[i] = list(path)


def _place(root: nn.Module, path: list[str], module: nn.Module) -> None:
    parent = root
    for part in path[:-1]:
        child = parent._modules.get(part)
        if child is None:
            child = Block()
            parent.add_module(part, child)
        parent = child
    parent.add_module(path[-1], module)


def _scope(root: nn.Module, path: list[str]) -> str:
    """The deepest existing block of ``path`` (a functional op's name minus its own)."""
    found, module = [], root
    for part in path:
        child = module._modules.get(part)
        if not isinstance(child, Block):
            break
        found.append(part)
        module = child
    return ".".join(found)


def convert(path: Path, folded: Folded, input_name: str, outputs: list[str],
            meta: bool) -> OnnxModel:
    nodes = folded.nodes
    converted: list[Op | None] = []
    problems: Counter = Counter()
    attrs = [attributes(proto) for proto in nodes]  # read once: converting and shown
    # how often each value is read; the graph's input and outputs count as readers too,
    # so an op may work in place only on a value nothing else sees
    consumed = Counter(n for proto in nodes for n in proto.input if n)
    consumed.update([*outputs, input_name, *folded.constants])
    # an output whose op's backward pass reads it (a sigmoid's) is never overwritten
    kept = frozenset(o for proto in nodes if proto.op_type not in _OVERWRITABLE
                     for o in proto.output)
    for proto, node_attrs in zip(nodes, attrs):
        handler = HANDLERS.get(proto.op_type)
        if handler is None:
            problems[proto.op_type] += 1
            converted.append(None)
            continue
        node = Node(proto, node_attrs, folded.constants, folded.shapes, folded.opset, meta,
                    consumed, kept)
        try:
            converted.append(handler(node))
        except Unsupported as exc:
            problems[str(exc)] += 1
            converted.append(None)
    if problems:
        said = ", ".join(f"{op} ×{n}" for op, n in sorted(problems.items()))
        raise fail(path, f"cannot convert {sum(problems.values())} of {len(nodes)} nodes, "
                   f"unsupported: {said}")
    modules = [op.module is not None for op in converted]
    paths = name_nodes(nodes, folded, modules)
    root = OnnxModel()
    for op, comps in zip(converted, paths):
        if op.module is not None:
            _place(root, comps, op.module)
    for proto, node_attrs, op, comps in zip(nodes, attrs, converted, paths):
        inputs = tuple(proto.input[i] if i < len(proto.input) else "" for i in op.inputs)
        for name in inputs:
            if name in folded.constants and name not in root.runtime_constants:
                attr = f"onnx_constant_{len(root.runtime_constants)}"
                root.register_buffer(attr, Node(proto, {}, folded.constants, folded.shapes, 0,
                                                meta)
                                     .tensor(folded.constants[name]))
                root.runtime_constants[name] = attr
        info = OnnxNodeInfo(proto.name, proto.op_type, proto.domain or "ai.onnx",
                            {k: _describe(v) for k, v in node_attrs.items()})
        module_path = ".".join(comps) if op.module is not None else None
        if module_path:
            root.onnx_nodes[module_path] = info
            op.module.onnx_node = info  # the inspector shows it beside the module
        root.steps.append(Step(inputs, tuple(proto.output), module_path,
                               _scope(root, comps[:-1]), op.fn,
                               None if module_path else info))
    root.input_name = input_name
    root.output_names = tuple(outputs)
    return root
