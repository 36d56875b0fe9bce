"""Everything known about one node of a model: what the inspector and ``explorer info
--layer`` show.

The graph gives the call (shapes, MACs, receptive field through the table's row); the
live module gives its constructor attributes, read generically (``__constants__`` and
the plain values it keeps, so a person's own module needs no entry anywhere) and its
actual weights, whose statistics torch computes here; ``resources/operators.json`` says
in a sentence or two what the operator does and which lesson shows it. Meta tensors (a
model built for tracing) have shapes but no values: their statistics are None.
"""

from __future__ import annotations

import ast
import inspect
import json
import math
import textwrap
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..assets import resource

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ..graph.layergraph import LayerGraph
    from .summary import Row

HIST_BINS = 64
# Attributes read first, in the order the papers write them; the rest follow sorted.
_FIRST = ("in_channels", "out_channels", "in_features", "out_features", "num_features",
          "kernel_size", "stride", "padding", "dilation", "groups", "bias")
_SIMPLE = (int, float, str, bool)


class LayerError(KeyError):
    """No such layer in the model; the message suggests close names."""


@dataclass(frozen=True)
class Histogram:
    counts: list[int]
    edges: list[float]  # len(counts) + 1


@dataclass(frozen=True)
class Stats:
    min: float
    max: float
    mean: float
    std: float  # population standard deviation (correction 0)
    zeros: float  # share of exact zeros (sparsity)
    histogram: Histogram


@dataclass(frozen=True)
class TensorInfo:
    name: str
    kind: str  # "parameter" or "buffer"
    shape: tuple[int, ...]
    dtype: str
    count: int
    stats: Stats | None  # None on the meta device


@dataclass(frozen=True)
class Operator:
    key: str
    title: str
    text: str
    lesson: str | None


@dataclass(frozen=True)
class Source:
    file: str
    line: int
    user: bool  # the person's own file (opens in their editor), not torch's or the zoo's
    how: str = "defined in"  # or "created in" (where a person's model made a torch layer)


@dataclass
class LayerInfo:
    node: str
    path: str
    type: str
    kind: str  # module, function, block
    attributes: dict[str, Any]
    in_shapes: list[tuple[int, ...]]
    out_shape: tuple[int, ...]
    params: int
    macs: int
    share: float | None = None
    receptive_field: int | None = None
    stride: float | None = None
    tensors: list[TensorInfo] = field(default_factory=list)
    operator: Operator | None = None
    source: Source | None = None
    members: dict[str, int] = field(default_factory=dict)  # op counts inside a folded block
    activation: Stats | None = None
    activation_shape: tuple[int, ...] = ()
    # what the model file says about the node it was built from (an ONNX node's op type,
    # domain, name and attributes), shown beside the module's own attributes
    file_node: dict[str, str] = field(default_factory=dict)

    @property
    def folded(self) -> bool:
        return self.kind == "block"

    def as_dict(self) -> dict[str, Any]:
        """Strict-JSON-ready: tuples as lists, NaN and infinity as None."""
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------------- statistics
def tensor_stats(t: torch.Tensor, bins: int = HIST_BINS) -> Stats | None:
    """min/max/mean/std, the share of zeros and a histogram; None for meta tensors."""
    import torch

    if t.is_meta or t.numel() == 0:
        return None
    x = t.detach().to("cpu", torch.float64).flatten()
    finite = x[torch.isfinite(x)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.numel() else (0.0, 0.0)
    if hi <= lo:  # one value (a constant bias, num_batches_tracked): one bin around it
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = torch.histogram(finite, bins=bins, range=(lo, hi))
    return Stats(min=float(x.min()), max=float(x.max()), mean=float(x.mean()),
                 std=float(x.std(correction=0)), zeros=float((x == 0).double().mean()),
                 histogram=Histogram([int(c) for c in counts], [float(e) for e in edges]))


def _tensors(module: nn.Module) -> list[TensorInfo]:
    found = [(n, "parameter", p) for n, p in module.named_parameters()]
    found += [(n, "buffer", b) for n, b in module.named_buffers()]
    return [TensorInfo(name, kind, tuple(int(s) for s in t.shape), str(t.dtype)[6:],
                       t.numel(), tensor_stats(t)) for name, kind, t in found]


# ---------------------------------------------------------------------- attributes
def module_attributes(module: nn.Module) -> dict[str, Any]:
    """Constructor attributes: the names torch declares as constants, then any other
    plain public value the module keeps (a person's own module needs no declaration)."""
    names = list(getattr(module, "__constants__", ()))
    names += [k for k in vars(module) if not k.startswith("_") and k != "training"]
    attrs: dict[str, Any] = {}
    for key in dict.fromkeys(names):
        value = getattr(module, key, None)
        if isinstance(value, _SIMPLE) or (isinstance(value, tuple) and value and all(
                isinstance(v, _SIMPLE) for v in value)):
            attrs[key] = value
    if "bias" in vars(module).get("_parameters", {}) and ("in_channels" in attrs or
                                                          "in_features" in attrs):
        attrs["bias"] = module.bias is not None
    if attrs.get("transposed") is False:  # a plain conv's transposed-only settings
        attrs.pop("transposed")
        attrs.pop("output_padding", None)
    order = {k: i for i, k in enumerate(_FIRST)}
    return dict(sorted(attrs.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


# ---------------------------------------------------------------------- operators
@cache
def operators() -> list[Operator]:
    return [Operator(item["key"], item["title"], item["text"], item.get("lesson"))
            for item in _operator_table()]


@cache
def _operator_table() -> list[dict[str, Any]]:
    return json.loads(resource("operators.json").read_text())


def _first(value: Any) -> int:
    return int(value[0]) if isinstance(value, (tuple, list)) else int(value)


def conv_variant(attrs: dict[str, Any]) -> str | None:
    """depthwise (one filter per channel), grouped, pointwise (1×1) or None (standard)."""
    groups = int(attrs.get("groups", 1) or 1)
    if groups > 1:
        return "depthwise" if groups == attrs.get("in_channels") else "grouped"
    kernel = attrs.get("kernel_size")
    if kernel is not None and all(int(k) == 1 for k in (
            kernel if isinstance(kernel, (tuple, list)) else (kernel,))):
        return "pointwise"
    return None


def operator_for(op: str, attrs: dict[str, Any]) -> Operator | None:
    """The description of ``op`` (a class or function name) with these attributes; the
    table lists a conv's variants (``when``) before the standard convolution."""
    variant = conv_variant(attrs) if "conv" in op.lower() and "Transpose" not in op else None
    for item, described in zip(_operator_table(), operators(), strict=True):
        if op in item["ops"] and item.get("when") in (None, variant):
            return described
    return None


def operator_named(key: str) -> Operator:
    return next(o for o in operators() if o.key == key)


# ---------------------------------------------------------------------- source
def source_of(module: nn.Module) -> Source | None:
    """Where the module's class is defined; ``user`` when it is neither torch's nor ours."""
    cls = type(module)
    try:
        file = inspect.getsourcefile(cls)
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None
    if file is None:
        return None
    path = Path(file).resolve()
    ours = Path(__file__).resolve().parents[1]
    import torch

    theirs = Path(torch.__file__).resolve().parent
    user = not (path.is_relative_to(ours) or path.is_relative_to(theirs))
    return Source(str(path), line, user)


def _assigned_at(cls: type, attr: str) -> int | None:
    """The line of ``self.<attr> = …`` (or ``self.add_module("<attr>", …)``) in ``cls``."""
    try:
        lines, start = inspect.getsourcelines(cls)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
        if any(isinstance(t, ast.Attribute) and t.attr == attr and isinstance(t.value, ast.Name)
               and t.value.id == "self" for t in targets):
            return start + node.lineno - 1
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("add_module", "register_module") and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value == attr):
            return start + node.lineno - 1
    return None


def made_by_person(model: nn.Module, path: str, function: bool = False) -> Source | None:
    """Where a person's own model made the node at ``path``: for a torch layer the line
    in the person's class that creates it (an ``nn.Conv2d`` inside ``nn.Sequential``
    counts as the line making the ``Sequential``); for a functional op (``function``)
    the ``forward`` of the person's class that calls it. None in the zoo's models."""
    parts = path.split(".") if path else []
    for i in range(len(parts), -1, -1):
        owner = _submodule(model, ".".join(parts[:i]))
        src = source_of(owner) if owner is not None else None
        if src is None or not src.user:
            continue
        name = type(owner).__name__
        if function:
            try:
                line = inspect.getsourcelines(type(owner).forward)[1]
            except (OSError, TypeError):
                line = src.line
            return replace(src, line=line, how=f"called in {name}.forward at")
        if i == len(parts):
            return src
        line = _assigned_at(type(owner), parts[i])
        return replace(src, line=line or src.line, how=f"created in {name}.__init__ at")
    return None


# ---------------------------------------------------------------------- the node
def layer_info(graph: LayerGraph, node: str, model: nn.Module | None = None,
               data: dict[str, Any] | None = None, row: Row | None = None,
               activation: torch.Tensor | None = None) -> LayerInfo:
    """What is known about ``node``: ``data`` is its node in the view shown (a folded
    block's, with ``members``), else the full graph's; ``model`` the live module whose
    weights to read; ``row`` its table row; ``activation`` its captured output."""
    data = data if data is not None else graph.node(node)
    kind = data.get("kind", "module")
    path = data.get("path", node)
    module = _submodule(model, path) if model is not None and kind in ("module", "block") \
        else None
    attrs = module_attributes(module) if module is not None and kind == "module" else \
        dict(data.get("attrs") or {})
    info = LayerInfo(node=node, path=path, type=str(data.get("op", "")), kind=kind,
                     attributes=attrs, in_shapes=[tuple(s) for s in data.get("in_shapes", [])],
                     out_shape=tuple(data.get("out_shape", ())), params=int(data.get("params", 0)),
                     macs=int(data.get("flops", 0)) // 2)
    if row is not None:
        info.share, info.receptive_field, info.stride = row.share, row.receptive_field, row.stride
    if module is not None:
        info.source = source_of(module)
        if model is not None and (info.source is None or not info.source.user):
            info.source = made_by_person(model, path) or info.source  # not torch's conv.py
        if kind == "module":
            info.tensors = _tensors(module)
            info.file_node = file_node_rows(getattr(module, "onnx_node", None))
    if kind == "function":  # a functional op knows its file node from tracing
        info.file_node = file_node_rows(data.get("file_node"))
        if model is not None:
            info.source = made_by_person(model, data.get("scope", ""), function=True)
    gated = node in graph.nx and any(k == "gate" for *_, k in graph.nx.in_edges(node, "kind"))
    info.operator = operator_named("se_gate") if gated else operator_for(info.type, attrs)
    if data.get("members"):
        info.members = dict(Counter(graph.node(m)["op"] for m in data["members"]
                                    if m in graph.nx).most_common())
    if activation is not None:
        info.activation = tensor_stats(activation)
        info.activation_shape = tuple(int(s) for s in activation.shape)
    return info


def file_node_rows(node: Any) -> dict[str, str]:
    """The ONNX node a converted layer or op came from (explorer.zoo.onnx_import), as
    rows; {} for anything else."""
    if node is None:
        return {}
    rows = {"ONNX op": f"{node.op_type} ({node.domain})"}
    if node.name:
        rows["ONNX node"] = node.name
    if node.attributes:
        rows["ONNX attributes"] = ", ".join(f"{k}={v}" for k, v in node.attributes.items())
    return rows


def _submodule(model: nn.Module, path: str) -> nn.Module | None:
    try:
        return model.get_submodule(path)
    except AttributeError:
        return None


# ---------------------------------------------------------------------- filters
@dataclass(frozen=True)
class FilterGrid:
    """A conv's filters as one image: a tile per filter (RGB when the layer reads three
    channels, as a first layer does), each scaled to its own range, one pixel apart."""

    image: Any  # numpy array, rows × cols (× 3), values in [0, 1]
    rgb: bool
    shown: int
    total: int
    tile: tuple[int, int]


def filter_grid(weight: torch.Tensor, limit: int = 64) -> FilterGrid | None:
    """Tiles of the first ``limit`` filters of a 2-D conv weight (out, in, kh, kw); a
    filter of a layer reading other than three channels shows its first input channel."""
    import numpy as np

    if weight.is_meta or weight.dim() != 4:
        return None
    w = weight.detach().to("cpu").float().numpy()
    out, cin, kh, kw = w.shape
    n = min(out, limit)
    rgb = cin == 3
    tiles = w[:n].transpose(0, 2, 3, 1) if rgb else w[:n, :1].transpose(0, 2, 3, 1)
    lo = tiles.min(axis=(1, 2, 3), keepdims=True)
    span = tiles.max(axis=(1, 2, 3), keepdims=True) - lo
    tiles = (tiles - lo) / np.where(span > 0, span, 1.0)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    depth = 3 if rgb else 1
    image = np.full((rows * (kh + 1) - 1, cols * (kw + 1) - 1, depth), 0.5, np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        image[r * (kh + 1):r * (kh + 1) + kh, c * (kw + 1):c * (kw + 1) + kw] = tiles[i]
    return FilterGrid(image if rgb else image[..., 0], rgb, n, out, (kh, kw))


# ---------------------------------------------------------------------- headless
def inspect_layer(name: str, layer: str, options: dict[str, Any] | None = None,
                  input_shape: tuple[int, ...] | None = None) -> LayerInfo:
    """``layer`` of zoo model ``name`` built on the CPU (its freshly initialised
    weights): a layer's node id or a block's module path (shown folded)."""
    from .. import zoo
    from ..graph.fold import FoldSpec, fold
    from ..graph.trace import trace
    from .summary import summarize

    options = dict(options or {})
    model = zoo.build(name, **options)
    graph = trace(model, input_shape or zoo.input_shape(name, **options), name=name)
    if layer not in graph.nx and layer in graph.modules:
        spec = FoldSpec(collapse=frozenset({layer}))
        view = fold(graph, spec)
        if layer in view.nx:
            return layer_info(graph, layer, model, view.nx.nodes[layer],
                              summarize(graph, spec=spec).row(layer))
    try:
        node = graph.resolve(layer)
    except KeyError as exc:
        raise LayerError(exc.args[0]) from None
    return layer_info(graph, node, model, row=summarize(graph).row(node))


def _number(value: float) -> str:
    return f"{value:.6g}"


def layer_text(info: LayerInfo) -> str:
    """The layer as ``explorer info --layer`` prints it."""
    def shape(s) -> str:
        return "×".join(map(str, s)) or "-"

    lines = [f"{info.node}: {info.type}" + (" (folded block)" if info.folded else "")]
    if info.operator is not None:
        lines.append(f"  {info.operator.title}: {info.operator.text}")
        if info.operator.lesson:
            lines.append(f"  lesson: explorer lessons {info.operator.lesson}")
    rows = [(k, "×".join(map(str, v)) if isinstance(v, tuple) else str(v))
            for k, v in info.attributes.items()]
    rows += [("input", shape(s)) for s in info.in_shapes]
    rows += [("output", shape(info.out_shape)), ("parameters", f"{info.params:,}"),
             ("MACs", f"{info.macs:,}")]
    if info.share is not None:
        rows += [("share of MACs", f"{100 * info.share:.2f}%"),
                 ("receptive field", f"{info.receptive_field} px, stride {info.stride:g}")]
    rows += [("inside", f"{n} × {op}") for op, n in info.members.items()]
    rows += list(info.file_node.items())
    if info.source is not None:
        words = info.source.how.split()  # "created in Mine.__init__ at"
        rows.append((" ".join(words[:2]), " ".join(
            [*words[2:], f"{info.source.file}:{info.source.line}"])))
    lines += [f"  {k:<16}{v}" for k, v in rows]
    if info.tensors:
        lines.append(f"  {'tensor':<22}{'shape':<14}{'dtype':<9}{'count':>9}"
                     f"{'min':>12}{'max':>12}{'mean':>12}{'std':>12}")
    for t in info.tensors:
        values = [t.stats.min, t.stats.max, t.stats.mean, t.stats.std] if t.stats else []
        lines.append(f"  {t.name + (' (buffer)' if t.kind == 'buffer' else ''):<22}"
                     f"{shape(t.shape):<14}{t.dtype:<9}{t.count:>9,}"
                     + "".join(f" {_number(v):>11}" for v in values))
    return "\n".join(lines)
