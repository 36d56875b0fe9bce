"""Models as files someone exported: ``torch.export`` programs (``.pt2``), named by path
wherever a zoo name is taken.

Safety. ``torch.export.load`` is not a safe loader; torch only ever sees a checked copy
of the archive, read once as data (explorer.zoo.pt2_archive), and the loaded program's
targets are checked again before anything runs.

The module hierarchy comes back through ``torch.export.unflatten``, which rebuilds the
original submodule tree from the nodes' ``nn_module_stack``; each rebuilt module is given
its original class name and, read from the operator's schema and its weight's shape,
its constructor attributes (kernel, stride, padding, groups…), so that graphs, tables and
the inspector read it like the live model it was exported from.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..inputs import file_problem
from .pt2_archive import ExportedModelError, load_program  # noqa: F401  (callers' name)
from .pt2_archive import fail as _fail
from .registry import FILE_WEIGHTS_INIT, ModelInfo

_SIMPLE = (int, float, bool, str)


def is_exported(spec: str) -> bool:
    return spec.endswith(".pt2")


def _check_loaded(path: Path, program) -> None:
    import operator

    for node in program.graph_module.graph.nodes:
        if node.op == "call_function" and not (
                isinstance(node.target, torch._ops.OpOverload) or node.target is operator.getitem):
            raise _fail(path, f"calls {node.target!r}, which is not a torch operator; refused")


def load_exported(spec: str) -> nn.Module:
    """The program as a module with its original hierarchy, in eval mode."""
    path = Path(spec)
    program = load_program(path)  # on the cpu: a tracing build's meta device cannot hold it
    _check_loaded(path, program)
    problem = _input_problem(program)
    if problem:
        raise _fail(path, f"the program takes {problem}, not one batch of images (N, C, H, "
                    "W) of floats; explorer reads image models only")
    with warnings.catch_warnings():  # torch's own deprecation notes, not the person's
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.export.unflatten(program)
    _restore_classes(module, program)
    module.exported_shapes = _shapes(program)
    for sub in module.modules():  # the fake tensors of export time: copies choke on them
        for node in getattr(getattr(sub, "graph", None), "nodes", ()):
            node.meta.pop("val", None)
    return module.eval()


def _input_problem(program) -> str | None:
    """What is not an image batch about the program's inputs (None: one 4-D float)."""
    user = set(program.graph_signature.user_inputs)
    vals = [n.meta.get("val") for n in program.graph_module.graph.nodes
            if n.op == "placeholder" and n.name in user]
    if len(vals) != 1:
        return f"{len(vals)} inputs"
    val = vals[0]
    if not isinstance(val, torch.Tensor):
        return f"a {type(val).__name__} input"
    if val.dim() != 4 or not val.dtype.is_floating_point:
        dtype = str(val.dtype).removeprefix("torch.")
        return f"a {'x'.join(str(int(s)) for s in val.shape)} {dtype} input"
    return None


def _shapes(program) -> dict[str, tuple[int, ...]]:
    """The shapes of the first tensor input and output the program was exported for."""
    shapes: dict[str, tuple[int, ...]] = {}
    for node in program.graph_module.graph.nodes:
        vals = [node.meta.get("val")] if node.op == "placeholder" else [
            a.meta.get("val") for a in node.all_input_nodes] if node.op == "output" else []
        kind = "input" if node.op == "placeholder" and node.name in program.graph_signature \
            .user_inputs else "output"
        for val in vals:
            if isinstance(val, torch.Tensor) and (node.op == "output" or kind == "input"):
                shapes.setdefault(kind, tuple(int(s) for s in val.shape))
    return shapes


def _stacks(program) -> tuple[dict[str, str], dict[str, list]]:
    """Original class per module path, and the operator calls each leaf path made."""
    classes: dict[str, str] = {}
    calls: dict[str, list] = {}
    for node in program.graph_module.graph.nodes:
        stack = node.meta.get("nn_module_stack") or {}
        for path, cls in stack.values():
            classes[path] = str(cls).rpartition(".")[2]
        if node.op == "call_function" and stack and isinstance(node.target,
                                                               torch._ops.OpOverload):
            calls.setdefault(list(stack.values())[-1][0], []).append(node)
    return classes, calls


def _restore_classes(root: nn.Module, program) -> None:
    classes, calls = _stacks(program)
    made: dict[tuple[type, str], type] = {}
    for path, module in root.named_modules():
        name = classes.get(path)
        if not name:
            continue
        key = (type(module), name)
        if key not in made:
            made[key] = type(name, (type(module),), {"__module__": type(module).__module__})
        module.__class__ = made[key]
        if not any(True for _ in module.children()):
            _set_attributes(module, calls.get(path, []))


def _set_attributes(module: nn.Module, nodes: list) -> None:
    """Constructor attributes from the one operator a leaf calls (its schema names them)
    and from its weight's shape (channels, features, kernel)."""
    weight = getattr(module, "weight", None)
    attrs: dict[str, Any] = {}
    if isinstance(weight, torch.Tensor):
        shape = tuple(weight.shape)
        if weight.dim() >= 3:  # a convolution's (out, in/groups, k...)
            attrs.update(out_channels=shape[0], kernel_size=shape[2:])
        elif weight.dim() == 2:
            attrs.update(out_features=shape[0], in_features=shape[1])
        elif weight.dim() == 1:
            attrs["num_features"] = shape[0]
    for node in nodes[:1] if len(nodes) == 1 else ():
        for i, arg in enumerate(node.target._schema.arguments):
            value = node.args[i] if i < len(node.args) else node.kwargs.get(
                arg.name, arg.default_value if arg.has_default_value() else None)
            if isinstance(value, (list, tuple)) and value and all(
                    isinstance(v, _SIMPLE) for v in value):
                attrs.setdefault(arg.name, tuple(value))
            elif isinstance(value, _SIMPLE):
                attrs.setdefault(arg.name, value)
    if "out_channels" in attrs:
        attrs["in_channels"] = weight.shape[1] * int(attrs.get("groups", 1))
    for key, value in attrs.items():
        if key not in vars(module) and not hasattr(type(module), key):
            setattr(module, key, value)


def exported_model_info(spec: str) -> ModelInfo:
    path = Path(spec)
    problem = file_problem(path, "an exported program")
    if problem:
        raise _fail(path, problem)
    stat = path.stat()
    cls, shape, task = _described(str(path), stat.st_mtime_ns, stat.st_size)
    return ModelInfo(name=spec, family="Your models", task=task, paper=str(path), year=0,
                     input_shape=shape, builder=lambda: load_exported(spec),
                     description=f"{cls} exported to {path.name}",
                     init=FILE_WEIGHTS_INIT)


@functools.lru_cache(maxsize=8)
def _described(path: str, _mtime: int, _size: int) -> tuple[str, tuple[int, ...], str]:
    """Class name, input shape (C, H, W) and task of the file as it is now: the program
    is fixed to the input it was exported for; a 4-D output is a segmentation map."""
    module = load_exported(path)
    shapes = module.exported_shapes
    if "input" not in shapes:
        raise _fail(Path(path), "the exported program takes no tensor input")
    task = "segmentation" if len(shapes.get("output", ())) == 4 else "classification"
    return type(module).__name__, shapes["input"][1:], task
