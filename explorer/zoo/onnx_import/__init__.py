"""ONNX files (``.onnx``), named by path wherever a zoo name is taken.

Reading is data only (protobuf, no code): the file is checked against a budget before
anything is allocated (``reading``), what it computes from constants alone is folded
(``folding``), and the rest becomes a live ``nn.Module`` of torch layers (``ops``,
``layers``, ``convert``), so the diagram, the tables, feature maps and the inspector work
on it as on the zoo's own models. On the meta device no weight is materialised."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import onnx
import torch

from ...limits import bytes_text
from ..registry import FILE_WEIGHTS_INIT, ModelInfo
from .convert import OnnxModel, OnnxNodeInfo, convert
from .folding import Folded, fold
from .reading import DEFAULT_BUDGET, Budget, OnnxModelError, fail, infer_shapes, read_model

__all__ = ["OnnxModel", "OnnxModelError", "OnnxNodeInfo", "is_onnx", "load_onnx",
           "onnx_model_info", "Budget"]

DEFAULT_SIDE = 224  # a spatial size the file leaves open


def is_onnx(spec: str) -> bool:
    return spec.lower().endswith(".onnx")


@dataclass(frozen=True)
class Plan:
    """A file read, checked and folded: what every build of it starts from."""

    folded: Folded
    input_name: str
    input_shape: tuple[int, ...]  # with the batch dimension
    outputs: list[str]
    output_shape: tuple[int, ...] | None
    opset: int
    producer: str
    ir_version: int


def _fix_input(path: Path, model: onnx.ModelProto) -> tuple[str, tuple[int, ...]]:
    """The one tensor input, its open dimensions set (batch 1, spatial 224) so that
    shapes are static from here on."""
    inits = {t.name for t in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in inits]
    if len(inputs) != 1:
        raise fail(path, f"the graph takes {len(inputs)} inputs "
                   f"({', '.join(v.name for v in inputs)}); the explorer feeds one image")
    value = inputs[0]
    tensor = value.type.tensor_type
    if tensor.elem_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16,
                                onnx.TensorProto.DOUBLE):
        raise fail(path, f"the input {value.name!r} is not a floating-point tensor")
    dims = []
    for i, dim in enumerate(tensor.shape.dim):
        if not dim.HasField("dim_value") or dim.dim_value <= 0:
            if i == 1:
                raise fail(path, f"the input {value.name!r} leaves its channels open")
            dim.Clear()
            dim.dim_value = 1 if i == 0 else DEFAULT_SIDE
        dims.append(int(dim.dim_value))
    if len(dims) < 2:
        raise fail(path, f"the input {value.name!r} has {len(dims)} dimensions; the explorer "
                   "feeds (batch, channels, ...) tensors")
    return value.name, tuple(dims)


def _plan_now(path: Path, budget: Budget) -> Plan:
    model = read_model(path, budget)
    name, shape = _fix_input(path, model)
    model = infer_shapes(path, model)
    folded = fold(path, model, budget)
    outputs = [o.name for o in model.graph.output]
    out_shape = folded.shapes.get(outputs[0]) if outputs else None
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    return Plan(folded, name, shape, outputs, out_shape, folded.opset, producer or "unknown",
                model.ir_version)


@functools.lru_cache(maxsize=2)
def _plan_cached(path: str, _mtime: int, _size: int, budget: Budget) -> Plan:
    return _plan_now(Path(path), budget)


def plan(spec: str, budget: Budget = DEFAULT_BUDGET) -> Plan:
    """The file as it is now (cached by modification time and size)."""
    path = Path(spec)
    try:
        stat = path.stat()
    except OSError:
        raise fail(path, "no such file") from None
    return _plan_cached(str(path), stat.st_mtime_ns, stat.st_size, budget)


def load_onnx(spec: str, budget: Budget = DEFAULT_BUDGET) -> OnnxModel:
    """The model in eval mode; on the meta device (a tracing build) no weight is made."""
    p = plan(spec, budget)
    meta = torch.get_default_device().type == "meta"
    if not meta:
        _check_weights(Path(spec), p, budget)
    model = convert(Path(spec), p.folded, p.input_name, p.outputs, meta)
    model.onnx_file = {"file": Path(spec).name, "opset": p.opset, "producer": p.producer,
                       "ir_version": p.ir_version}
    return model.eval()


def _check_weights(path: Path, p: Plan, budget: Budget) -> None:
    """Folded constants (Caffe2's generated weights) are views until built: their bytes
    are counted against the budget before any is allocated."""
    total = sum(v.size * v.dtype.itemsize for v in p.folded.constants.values())
    if total > budget.max_bytes:
        raise fail(path, f"its weights need {bytes_text(total)}, more than the "
                   f"{bytes_text(budget.max_bytes)} allowed; refused")


def onnx_model_info(spec: str) -> ModelInfo:
    p = plan(spec)
    out = p.output_shape or ()
    # a map per pixel is segmentation; Caffe2's (1, 1000, 1, 1) scores are classification
    task = "segmentation" if len(out) == 4 and out[2] * out[3] > 1 else "classification"
    return ModelInfo(name=spec, family="Your models", task=task, paper=str(spec), year=0,
                     input_shape=tuple(p.input_shape[1:]), builder=lambda: load_onnx(spec),
                     description=f"{Path(spec).name}: ONNX opset {p.opset}, "
                                 f"from {p.producer}", init=FILE_WEIGHTS_INIT)
