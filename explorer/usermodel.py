"""Bring your own model: a Python file that defines an ``nn.Module`` subclass or a
function returning one, named as ``path/to/file.py:Name`` wherever a zoo name is taken.

The file is the user's own code and runs as such (like ``python file.py`` would); errors
in it, ``sys.exit`` included, are reported with the file's line instead of a traceback.
The CLI and the app run it through ``explorer.probe`` first: a child process with a time
and a memory limit, where a hang or a crash cannot take them down."""

from __future__ import annotations

import hashlib
import inspect
import sys
import traceback
import types
from pathlib import Path
from typing import Any

from torch import nn

from .inputs import file_problem
from .usermodel_options import constructor_options
from .zoo.registry import ModelInfo, ZooError


class UserModelError(ZooError):
    """The file could not be loaded; the message names the file and line."""


def is_user_model(spec: str) -> bool:
    return ".py" in spec and (spec.endswith(".py") or ".py:" in spec)


def split_spec(spec: str) -> tuple[Path, str | None]:
    path, sep, name = spec.rpartition(":") if ".py:" in spec else (spec, "", "")
    return Path(path), (name or None)


def _where(exc: BaseException, path: Path) -> str:
    """file:line of the deepest frame in the user's file."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == path:
            line = frame.lineno
    return f"{path}:{line}" if line else str(path)


def _describe(exc: BaseException, path: Path, doing: str) -> str:
    """One line for anything user code can raise, exits and interrupts included."""
    where = _where(exc, path)
    if isinstance(exc, SystemExit):
        return f"{where}: the file calls sys.exit({exc.code!r}) {doing}; a model file must not exit"
    if isinstance(exc, MemoryError):
        return f"{where}: out of memory {doing}"
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{where}: {type(exc).__name__} {doing}" + (f": {text}" if text else "")


def load_module(path: Path) -> types.ModuleType:
    code = compile_file(path)
    name = "explorer_user_" + hashlib.blake2b(str(path).encode(), digest_size=6).hexdigest()
    return _run_module(code, path, name)


def compile_file(path: Path) -> types.CodeType:
    """The file compiled, not run: a missing file, an unreadable one or a syntax error
    is found without executing any of the person's code."""
    problem = file_problem(path, "a Python file")
    if problem:
        raise UserModelError(f"{path}: {problem}")
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UserModelError(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise UserModelError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except ValueError as exc:  # e.g. a NUL byte in the source
        raise UserModelError(f"{path}: not Python source ({exc})") from None
    return code


def _run_module(code: types.CodeType, path: Path, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # dataclasses and pickling look the module up
    try:
        exec(code, module.__dict__)  # noqa: S102  (the user's own model file)
    except (Exception, SystemExit) as exc:  # noqa: BLE001  (any error in user code is reported)
        raise UserModelError(_describe(exc, path, "while loading")) from None
    return module


def candidates(module: types.ModuleType) -> list[str]:
    """Module subclasses and functions defined in the file itself."""
    names = []
    for key, value in vars(module).items():
        if getattr(value, "__module__", None) != module.__name__ or key.startswith("_"):
            continue
        if inspect.isclass(value) and issubclass(value, nn.Module) or inspect.isfunction(value):
            names.append(key)
    return names


def _pick(module: types.ModuleType, path: Path, name: str | None) -> str:
    found = candidates(module)
    if name is None:
        classes = [n for n in found if inspect.isclass(getattr(module, n))]
        if len(classes) != 1:
            raise UserModelError(f"{path}: name the model as {path}:Name; the file defines "
                                 + (", ".join(found) or "no nn.Module subclass or function"))
        name = classes[0]
    if getattr(module, name, None) is None:
        raise UserModelError(f"{path}: no {name!r} in the file; it defines "
                             + (", ".join(found) or "nothing usable"))
    return name


def _required(target) -> list[str]:
    """The arguments ``target()`` cannot do without (read from its signature, not run)."""
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.default is p.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _instantiate(module: types.ModuleType, path: Path, name: str,
                 options: dict[str, Any] | None = None) -> nn.Module:
    options = options or {}
    target = getattr(module, name)
    required = [a for a in _required(target) if a not in options]
    if required:  # was: "TypeError in NeedsArgs(): missing 1 required positional argument"
        args = ", ".join(required)
        values = ", ".join(f"{a}=…" for a in required)
        raise UserModelError(
            f"{path}: {name}() needs {args}, which the file gives no default and the "
            f"explorer cannot guess: give {'them defaults' if len(required) > 1 else 'it one'} "
            f"({values}), or add to the file `def build(): return {name}({values})` "
            f"and open {path.name}:build")
    call = f"{name}({', '.join(f'{k}={v!r}' for k, v in options.items())})"
    try:
        model = target(**options)
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        raise UserModelError(_describe(exc, path, f"in {call}")) from None
    if not isinstance(model, nn.Module):
        raise UserModelError(f"{path}: {name}() returned {type(model).__name__}, "
                             "not an nn.Module")
    return model


def load_user_model(spec: str, **options: Any) -> nn.Module:
    """The model in eval mode, built in this process (``explorer.probe`` first where a
    hang or an exit must not take the process down); ``options`` are its constructor's
    keyword arguments."""
    path, name = split_spec(spec)
    module = load_module(path)
    name = _pick(module, path, name)
    return _instantiate(module, path, name, options).eval()


def user_model_info(spec: str, input_shape: tuple[int, int, int] = (3, 224, 224)) -> ModelInfo:
    """The person's model as the zoo's: its constructor's arguments with literal
    defaults (and required ones with a guess) are its options, read without running it."""
    path, name = split_spec(spec)
    return ModelInfo(name=spec, family="Your models", task="classification",
                     paper=str(path), year=0, input_shape=input_shape,
                     builder=lambda **options: load_user_model(spec, **options),
                     options=constructor_options(path, name),
                     description=f"{name or 'model'} from {path}")
