"""Where a layer comes from in code: the file and line of its module's class
(``source_of``; ``user`` when it is the person's own, not torch's or the zoo's) and, in a
person's own model, the line that made the layer or calls the op (``made_by_person``)."""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Source:
    file: str
    line: int
    user: bool  # the person's own file (opens in their editor), not torch's or the zoo's
    how: str = "defined in"  # or "created in" (where a person's model made a torch layer)


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
        owner = submodule(model, ".".join(parts[:i]))
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


def submodule(model: nn.Module, path: str) -> nn.Module | None:
    try:
        return model.get_submodule(path)
    except AttributeError:
        return None
