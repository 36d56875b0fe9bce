"""Models as files someone exported: ``torch.export`` programs (``.pt2``), named by path
wherever a zoo name is taken.

Safety. ``torch.export.load`` is not a safe loader in torch 2.13, whatever its JSON
graph suggests: a payload flagged ``use_pickle`` goes through
``torch.load(weights_only=False)``, opaque constants through ``pickle.loads``, a sample
input that ``weights_only`` refuses is retried without it, a node's target is any
attribute reachable from the ``torch`` module (``torch.ops.load_library``), and the
program's ``guards_code`` is Python source that ``module()`` executes. So the archive is
read first, as data: every pickle in it must load with ``weights_only=True``, no payload
may ask for pickling or be a custom or opaque object, the graph's targets must be
operators (``torch.ops.<namespace>.<op>.<overload>``) and the guards empty; only then
does torch load it, and the loaded targets are checked again before anything runs.

The module hierarchy comes back through ``torch.export.unflatten``, which rebuilds the
original submodule tree from the nodes' ``nn_module_stack``; each rebuilt module is given
its original class name and, read from the operator's schema and its weight's shape,
its constructor attributes (kernel, stride, padding, groups…), so that graphs, tables and
the inspector read it like the live model it was exported from.
"""

from __future__ import annotations

import functools
import io
import json
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .registry import ModelInfo, ZooError

_TARGET = re.compile(r"^torch\.ops\.\w+\.\w+\.\w+$")
_PY_TARGETS = {"_operator.getitem"}
_SIMPLE = (int, float, bool, str)


class ExportedModelError(ZooError):
    """The file is not a loadable, safe exported program; the message says why."""


def is_exported(spec: str) -> bool:
    return spec.endswith(".pt2")


def _fail(path: Path, reason: str) -> ExportedModelError:
    return ExportedModelError(f"{path}: {reason}")


def check_archive(path: Path) -> None:
    """Refuse, before torch reads it, anything in the archive that would run code."""
    if not path.is_file():
        raise _fail(path, "no such file")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _fail(path, f"not a torch.export archive ({exc})") from None
    with archive:
        names = archive.namelist()
        models = [n for n in names if re.search(r"/models/[^/]+\.json$", n)]
        if not models:
            raise _fail(path, "not a torch.export archive (no models/*.json)")
        for name in names:
            if "/data/weights/" in name or "/data/constants/" in name:
                if name.endswith("_config.json"):
                    _check_payloads(path, json.loads(archive.read(name)))
                elif re.search(r"/(custom_obj|opaque_obj)", name):
                    raise _fail(path, f"holds a Python object ({name}); refused")
            if name.endswith(".pt") or name.endswith(".pkl"):
                try:  # what torch would retry with weights_only=False
                    with warnings.catch_warnings():  # a protocol note is not the person's
                        warnings.simplefilter("ignore")
                        torch.load(io.BytesIO(archive.read(name)), weights_only=True)
                except Exception as exc:  # noqa: BLE001  (any refusal is a refusal)
                    raise _fail(path, f"{name} is a pickle that is not plain tensors "
                                f"({type(exc).__name__}); refused") from None
        for name in models:
            _check_program(path, json.loads(archive.read(name)))


def _check_payloads(path: Path, config: dict) -> None:
    for fqn, meta in (config.get("config") or {}).items():
        if meta.get("use_pickle"):
            raise _fail(path, f"{fqn} is stored as a pickle; refused")


def _check_program(path: Path, program: dict) -> None:
    if program.get("guards_code"):
        raise _fail(path, "carries Python guard code, which loading would execute; refused")
    graphs = [program["graph_module"]["graph"]]
    while graphs:  # the main graph and any nested subgraph (cond, map)
        graph = graphs.pop()
        for node in graph.get("nodes", []):
            target = node.get("target", "")
            if not (_TARGET.match(target) or target in _PY_TARGETS):
                raise _fail(path, f"calls {target!r}, which is not a torch operator; refused")
            for arg in node.get("inputs", []):
                sub = (arg.get("arg") or {}).get("as_graph")
                if sub:
                    graphs.append(sub["graph"])


def _check_loaded(path: Path, program) -> None:
    import operator

    for node in program.graph_module.graph.nodes:
        if node.op == "call_function" and not (
                isinstance(node.target, torch._ops.OpOverload) or node.target is operator.getitem):
            raise _fail(path, f"calls {node.target!r}, which is not a torch operator; refused")


def load_exported(spec: str) -> nn.Module:
    """The program as a module with its original hierarchy, in eval mode."""
    path = Path(spec)
    check_archive(path)
    try:
        with torch.device("cpu"):  # the meta device of a tracing build cannot hold them
            program = torch.export.load(path)
    except Exception as exc:  # noqa: BLE001  (a damaged archive is one message)
        raise _fail(path, f"cannot load the program ({type(exc).__name__}: "
                    f"{str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ''})"
                    ) from None
    _check_loaded(path, program)
    with warnings.catch_warnings():  # torch's own deprecation notes, not the person's
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.export.unflatten(program)
    _restore_classes(module, program)
    module.exported_shapes = _shapes(program)
    for sub in module.modules():  # the fake tensors of export time: copies choke on them
        for node in getattr(getattr(sub, "graph", None), "nodes", ()):
            node.meta.pop("val", None)
    return module.eval()


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
    try:
        stat = path.stat()
    except OSError:
        raise _fail(path, "no such file") from None
    cls, shape, task = _described(str(path), stat.st_mtime_ns, stat.st_size)
    return ModelInfo(name=spec, family="Your models", task=task, paper=str(path), year=0,
                     input_shape=shape, builder=lambda: load_exported(spec),
                     description=f"{cls} exported to {path.name}")


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
