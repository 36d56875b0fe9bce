"""Reading an ONNX file as data, within a budget, before anything is built from it.

The order matters: the protobuf is parsed without its external data; then every size the
file declares (tensor dims, initializer bytes, node count) is checked against the
budget, the operator domains and the graph's order are checked, external data is read
only from files inside the model's own folder, and only then do ``onnx.checker`` and
shape inference run. Each refusal is one line that names the file."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto

from ...limits import MAX_INPUT_ELEMENTS, ONNX_TENSOR_BYTES, bytes_text
from ..registry import ZooError

STANDARD_DOMAINS = ("", "ai.onnx")


class OnnxModelError(ZooError):
    """The file is not an ONNX model this app can read; the message says why."""


@dataclass(frozen=True)
class Budget:
    """What one file may ask for: the bytes of all its weights together (initializers and
    folded constants), the elements of any one tensor it declares, and its nodes."""

    max_bytes: int = ONNX_TENSOR_BYTES
    max_elements: int = MAX_INPUT_ELEMENTS
    max_nodes: int = 200_000


DEFAULT_BUDGET = Budget()


def fail(path: Path, reason: str) -> OnnxModelError:
    return OnnxModelError(f"{path}: {reason}")


def element_size(elem_type: int) -> int:
    try:
        return onnx.helper.tensor_dtype_to_np_dtype(elem_type).itemsize
    except (KeyError, TypeError, ValueError):
        return 8


def _elements(path: Path, what: str, dims, budget: Budget) -> int:
    if any(d < 0 for d in dims):
        raise fail(path, f"{what} declares a negative dimension {list(dims)}")
    count = math.prod(dims)
    if count > budget.max_elements:
        raise fail(path, f"{what} declares {count:.3g} elements ({list(dims)}), more than "
                   f"the {budget.max_elements:.3g} a tensor may have here; refused")
    return count


def _check_sizes(path: Path, model: onnx.ModelProto, budget: Budget) -> None:
    graph = model.graph
    if len(graph.node) > budget.max_nodes:
        raise fail(path, f"{len(graph.node)} nodes, more than {budget.max_nodes}; refused")
    for value in [*graph.input, *graph.output, *graph.value_info]:
        shape = value.type.tensor_type.shape
        dims = [d.dim_value for d in shape.dim if d.HasField("dim_value")]
        _elements(path, f"tensor {value.name!r}", dims, budget)
    total = 0
    tensors = list(graph.initializer) + [
        a.t for n in graph.node for a in n.attribute if a.type == onnx.AttributeProto.TENSOR]
    for tensor in tensors:
        count = _elements(path, f"initializer {tensor.name!r}", tensor.dims, budget)
        size = count * element_size(tensor.data_type)
        total += size
        if tensor.data_location == TensorProto.EXTERNAL:
            info = {e.key: e.value for e in tensor.external_data}
            if int(info.get("length", size) or 0) > size:
                raise fail(path, f"initializer {tensor.name!r} asks for more external bytes "
                           "than its dims hold; refused")
    if total > budget.max_bytes:
        raise fail(path, f"its tensors need {bytes_text(total)}, more than the "
                   f"{bytes_text(budget.max_bytes)} allowed; refused")


def _check_domains(path: Path, model: onnx.ModelProto) -> None:
    foreign: dict[str, list[str]] = {}
    for node in model.graph.node:
        if node.domain not in STANDARD_DOMAINS:
            foreign.setdefault(node.domain, []).append(node.op_type)
    if foreign:
        said = "; ".join(f"{domain}: {', '.join(sorted(set(ops)))}"
                         for domain, ops in sorted(foreign.items()))
        raise fail(path, f"uses operators outside the standard ONNX domain ({said}); "
                   "only standard ONNX operators can be read")
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                raise fail(path, f"node {node.name or node.op_type!r} ({node.op_type}) holds "
                           "a subgraph (control flow), which cannot be drawn as layers")


def _check_order(path: Path, model: onnx.ModelProto) -> None:
    """Every node's inputs exist before it (ONNX requires topological order): a cycle
    or a dangling input is found here, named."""
    graph = model.graph
    known = {v.name for v in graph.input} | {t.name for t in graph.initializer} | {""}
    producer = {out: n for n in graph.node for out in n.output}
    for node in graph.node:
        for name in node.input:
            if name in known:
                continue
            if name in producer:
                raise fail(path, f"node {node.name or node.op_type!r} reads {name!r} before "
                           "it is computed: the graph has a cycle or is out of order")
            raise fail(path, f"node {node.name or node.op_type!r} reads {name!r}, which "
                       "nothing defines")
        known.update(node.output)


def _read_external(path: Path, model: onnx.ModelProto) -> None:
    """External data only from regular files inside the model's folder."""
    folder = path.resolve().parent
    for tensor in model.graph.initializer:
        if tensor.data_location != TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in tensor.external_data}
        location = info.get("location", "")
        target = (folder / location).resolve()
        if (not location or os.path.isabs(location) or ".." in Path(location).parts
                or folder not in target.parents):
            raise fail(path, f"initializer {tensor.name!r} points outside the model's folder "
                       f"({location!r}); refused")
        if not target.is_file():
            raise fail(path, f"initializer {tensor.name!r}: its data file {location!r} is "
                       "missing")
        offset = int(info.get("offset", 0) or 0)
        size = math.prod(tensor.dims) * element_size(tensor.data_type)
        length = int(info.get("length", size) or size)
        if offset < 0 or offset + length > target.stat().st_size:
            raise fail(path, f"initializer {tensor.name!r}: {location!r} is shorter than "
                       "the data it should hold")
        with open(target, "rb") as f:
            f.seek(offset)
            tensor.raw_data = f.read(length)
        tensor.data_location = TensorProto.DEFAULT
        del tensor.external_data[:]


def read_model(path: Path, budget: Budget = DEFAULT_BUDGET) -> onnx.ModelProto:
    """The model, checked and with inferred shapes, or OnnxModelError."""
    if not path.is_file():
        raise fail(path, "no such file")
    if path.stat().st_size > budget.max_bytes:
        raise fail(path, f"the file is larger than the {bytes_text(budget.max_bytes)} "
                   "allowed; refused")
    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError) as exc:
        detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        raise fail(path, "not an ONNX model (a truncated or malformed protobuf"
                   + (f": {detail})" if detail else ")")) from None
    if model.ir_version <= 0 or not model.graph.node or not model.graph.output:
        raise fail(path, "not an ONNX model (no graph in it)")
    _check_sizes(path, model, budget)
    _check_domains(path, model)
    _check_order(path, model)
    external = any(t.data_location == TensorProto.EXTERNAL for t in model.graph.initializer)
    _read_external(path, model)
    try:
        if external and model.ByteSize() >= 2**31 - 1:  # over protobuf's limit in memory
            onnx.checker.check_model(str(path))  # its external paths were checked above
        else:
            onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[0][:200]
        raise fail(path, f"not a valid ONNX model: {detail}") from None
    return model


def infer_shapes(path: Path, model: onnx.ModelProto) -> onnx.ModelProto:
    try:
        return onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as exc:  # noqa: BLE001  (onnx raises several kinds; each is one line)
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise fail(path, f"shape inference failed ({type(exc).__name__}: {detail})") from None
