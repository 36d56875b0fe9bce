"""The package layering of DESIGN.md, checked: every import statement in explorer/ (also
the ones inside functions) may only reach the layers below it, and the core imports no
Qt, at import time or through a lazy import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "explorer"

# component -> the components it may import (itself always allowed). Top-level modules
# (session, usermodel, demo, assets, ...) are "core": they sit above the core packages.
BASE = {"assets", "limits", "inputs"}  # the figures every layer enforces
ALLOWED = {
    "zoo": BASE,
    "graph": BASE | {"zoo"},
    "analysis": BASE | {"zoo", "graph"},
    "inference": BASE | {"zoo", "graph"},
    "export": BASE | {"zoo", "graph", "analysis", "inference"},
    "training": BASE | {"zoo", "inference", "export"},
}
# usermodel.py (with usermodel_options.py, its arguments) is the zoo's door for a person's
# own file (the registry resolves ``file.py:Name`` through it): it belongs to the zoo's layer.
LAYER_OF = {"usermodel": "zoo", "usermodel_options": "zoo"}
VIEWS = {"app", "cli", "__main__"}  # the window and the command line sit on top
QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6")


def component(module: str) -> str:
    """explorer.graph.trace -> graph; explorer.session -> session; explorer -> explorer."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else parts[0]
    return LAYER_OF.get(name, name)


def may_import(src: str, dst: str) -> bool:
    if src == dst or src in VIEWS:
        return True
    if dst in VIEWS:
        return False
    if src in ALLOWED:
        return dst in ALLOWED[src]
    return True  # a top-level core module (session, usermodel, ...): above the packages


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Absolute names of every module imported by ``path``, with their line."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            if node.module is None or node.level:  # "from . import zoo": submodules too
                found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
    return found


def layering_violations() -> list[str]:
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        src = component(module_name(path))
        for line, target in imports_of(path):
            where = f"{path.relative_to(ROOT.parent)}:{line} imports {target}"
            if src not in VIEWS and target.split(".")[0] in QT_MODULES:
                problems.append(f"{where} (Qt outside explorer/app)")
            elif target.startswith("explorer.") and not may_import(src, component(target)):
                problems.append(f"{where} ({src} may import only {sorted(ALLOWED[src])})"
                                if src in ALLOWED else f"{where} (core imports a view)")
    return problems


def test_every_import_respects_the_layering():
    assert layering_violations() == []


# Inside the app the window sits on top: its rooms (graph/, docks/, dialogs/,
# controllers/, diff/, flow/, training/) may use these top-level modules and no other
# (never the window, its menus or the launcher, which own and assemble them).
APP_SHARED = {"errors", "theme"}
WINDOW = "window"  # the window's own parts (a package): on top, with main and actions


def app_room_violations() -> list[str]:
    app = ROOT / "app"
    top = {path.stem for path in app.glob("*.py")} - {"__init__"} | {WINDOW}
    problems = {}
    for path in sorted(app.glob("*/**/*.py")):
        if path.relative_to(app).parts[0] == WINDOW:
            continue
        for line, target in imports_of(path):
            parts = target.split(".")
            if parts[:2] == ["explorer", "app"] and len(parts) > 2 and parts[2] in top \
                    and parts[2] not in APP_SHARED:
                module = ".".join(parts[:3])
                problems[f"{path.relative_to(ROOT.parent)}:{line} imports {module}"] = None
    return [f"{where} (a room of the app imports the window's own module)"
            for where in problems]


def test_the_apps_rooms_never_import_the_window():
    assert app_room_violations() == []


def test_the_room_checker_catches_a_dock_importing_the_window(tmp_path, monkeypatch):
    fake = tmp_path / "explorer"
    (fake / "app" / "docks").mkdir(parents=True)
    (fake / "app" / "window").mkdir()
    (fake / "app" / "window" / "__init__.py").write_text("from ..main import APP\n")
    (fake / "app" / "main.py").write_text("")
    (fake / "app" / "errors.py").write_text("")
    (fake / "app" / "docks" / "panel.py").write_text(
        "from ..errors import describe\n\ndef f():\n    from ..window import MainWindow\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake)
    problems = app_room_violations()
    assert len(problems) == 1 and "docks/panel.py:4 imports explorer.app.window" in problems[0]


def test_the_checker_catches_a_violation(tmp_path, monkeypatch):
    """The contract test itself can fail: a zoo file importing the graph is reported."""
    fake = tmp_path / "explorer"
    (fake / "zoo").mkdir(parents=True)
    (fake / "zoo" / "__init__.py").write_text("")
    (fake / "zoo" / "bad.py").write_text("def f():\n    from ..graph import trace\n")
    (fake / "graph").mkdir()
    (fake / "graph" / "ok.py").write_text("from PySide6.QtCore import QObject\n")
    (fake / "cli").mkdir()  # a view package: its modules may import every layer
    (fake / "cli" / "commands.py").write_text("from ..export import graph_export\n")
    (fake / "session.py").write_text("from .cli.entry import main\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake)
    problems = layering_violations()
    assert any("zoo/bad.py:2 imports explorer.graph" in p for p in problems)
    assert any("graph/ok.py:1 imports PySide6.QtCore (Qt outside" in p for p in problems)
    assert any("session.py:1 imports explorer.cli.entry (core imports a view)" in p
               for p in problems)
    assert not any("cli/commands.py" in p for p in problems)


@pytest.mark.parametrize("package", ["explorer.zoo", "explorer.graph", "explorer.analysis",
                                     "explorer.inference", "explorer.export",
                                     "explorer.training", "explorer.session", "explorer.cli",
                                     "explorer.diffstate",
                                     "explorer.zoo.onnx_import"])
def test_core_imports_no_qt_at_run_time(package):
    code = (f"import sys, {package}\n"
            f"bad = [m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
