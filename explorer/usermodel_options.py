"""A person's model's constructor arguments, read from the file's syntax tree (none of
their code runs): the ones with a literal default (ints, floats, bools, strings, tuples of
ints) become options like the zoo's, so changing one rebuilds the model with exact
counts; a required one whose type is known (an annotation, or a name that counts
something: ``num_classes``, ``in_channels``, ``width``) is offered with a guessed value,
marked as a guess, instead of failing with "missing 1 required positional argument"."""

from __future__ import annotations

import ast
import functools
import stat
from pathlib import Path
from typing import Any

from .zoo.registry import Option

_TYPES = {"int": int, "float": float, "bool": bool, "str": str}
# words of a name that counts something: an int guess is right for it
_COUNTS = {"num", "n", "classes", "class", "channels", "channel", "ch", "chans", "planes",
           "width", "depth", "dim", "features", "filters", "layers", "blocks", "size",
           "groups", "units", "hidden", "heads", "in", "out", "c", "k", "inplanes"}


def _counts(name: str) -> bool:
    return any(word in _COUNTS for word in name.lower().split("_"))


def _literal(node: ast.expr | None) -> Any:
    """The default's value when it is a literal of a type the options take, else None."""
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple) and value and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return value
    return None


def _annotated(node: ast.expr | None) -> type | None:
    if isinstance(node, ast.Name) and node.id in _TYPES:
        return _TYPES[node.id]
    if isinstance(node, ast.Constant) and node.value in _TYPES:  # "int" as a string
        return _TYPES[node.value]
    return None


def guess(name: str, kind: type) -> Any:
    """A value to build with when the file gives none: 10 classes, 3 input channels, 16
    for another count, 0.5, False."""
    if kind is int:
        low = name.lower()
        if "class" in low:
            return 10
        words = low.split("_")
        if "in" in words and ({"ch", "chans", "channels", "channel", "c"} & set(words)) \
                or low in ("in_ch", "inplanes", "c_in", "cin"):
            return 3
        return 16
    return {float: 0.5, bool: False}.get(kind)


def _target(tree: ast.Module, name: str | None) -> ast.ClassDef | ast.FunctionDef | None:
    top = {n.name: n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    if name is None:  # the file's one class, as usermodel._pick takes it
        classes = [n for n in top.values() if isinstance(n, ast.ClassDef) and n.bases
                   and not n.name.startswith("_")]
        return classes[0] if len(classes) == 1 else None
    return top.get(name)


def _init(tree: ast.Module, cls: ast.ClassDef, seen: set[str]) -> ast.FunctionDef | None:
    """The class's ``__init__``, or the first one up its bases defined in the same file."""
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            return node
    seen.add(cls.name)
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id not in seen:
            parent = next((n for n in tree.body if isinstance(n, ast.ClassDef)
                           and n.name == base.id), None)
            if parent is not None:
                return _init(tree, parent, seen)
    return None


MAX_SOURCE = 1 << 20  # larger files are not read for options (the window asks on its thread)


def constructor_options(path: Path, name: str | None) -> tuple[Option, ...]:
    """Options for ``name``'s constructor (or function) arguments; () when the file
    cannot be read or parsed (loading it says why, with the line). Read once per
    version of the file: the title and the form ask again and again."""
    try:
        st = path.stat()
    except OSError:
        return ()
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SOURCE:  # a FIFO would block
        return ()
    return _options(path, name, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=32)
def _options(path: Path, name: str | None, _mtime: int, _size: int) -> tuple[Option, ...]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError, MemoryError, RecursionError):
        return ()
    target = _target(tree, name)
    func = _init(tree, target, set()) if isinstance(target, ast.ClassDef) else target
    if func is None:
        return ()
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    if isinstance(target, ast.ClassDef):
        positional = positional[1:]  # self
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = [*zip(positional, defaults), *zip(args.kwonlyargs, args.kw_defaults)]
    where = f"an argument of {target.name}() in {path.name}:{func.lineno}"
    options = []
    for arg, default in params:
        if default is not None:
            value = _literal(default)
            if value is not None:
                options.append(Option(arg.arg, type(value), value, where))
            continue
        kind = _annotated(arg.annotation) or (int if _counts(arg.arg) else None)
        value = guess(arg.arg, kind) if kind is not None else None
        if value is not None:
            options.append(Option(arg.arg, kind, value, f"{where}, with no default: "
                                  f"{value!r} is a guess", guessed=True))
    return tuple(options)
