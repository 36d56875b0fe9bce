"""Everything known about one node of a model: what the inspector and ``explorer info
--layer`` show.

The graph gives the call (shapes, MACs, receptive field through the table's row); the
live module gives its constructor attributes, read generically (``__constants__`` and
the plain values it keeps, so a person's own module needs no entry anywhere) and its
actual weights, whose statistics torch computes (``tensor_stats``);
``resources/operators.json`` says in a sentence or two what the operator does and which
lesson shows it (``operators``); ``layer_source`` says where the layer comes from in
code. Meta tensors (a model built for tracing) have shapes but no values: their
statistics are None. ``layer_text`` prints a LayerInfo; ``filter_grid`` draws a conv's
filters.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .layer_source import Source, made_by_person, source_of, submodule
from .operators import Operator, operator_for, operator_named
from .tensor_stats import Stats, TensorInfo, tensor_infos, tensor_stats

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ..graph.layergraph import LayerGraph
    from .summary import Row

# Attributes read first, in the order the papers write them; the rest follow sorted.
_FIRST = ("in_channels", "out_channels", "in_features", "out_features", "num_features",
          "kernel_size", "stride", "padding", "dilation", "groups", "bias")
_SIMPLE = (int, float, str, bool)


class LayerError(KeyError):
    """No such layer in the model; the message suggests close names."""


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
    module = submodule(model, path) if model is not None and kind in ("module", "block") \
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
            info.tensors = tensor_infos(module)
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
