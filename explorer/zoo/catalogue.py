"""The zoo's metadata without torch: ``catalogue.json``, written from the family files.

``explorer list``, ``explorer info`` and the app's catalogue need names, papers, options
and parameter counts, not models; the family files that register them import torch
(1-2 s). The catalogue keeps a copy of every registration with its default parameter
count and a digest of the zoo's sources: when any source changes, the copy no longer
counts and the registry loads the family files instead (slower, never wrong).

    python -m explorer.zoo.catalogue     # rewrite it after changing the zoo
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .registry import ModelInfo, Option, ZooError

PATH = Path(__file__).with_name("catalogue.json")
_TYPES = {t.__name__: t for t in (bool, int, float, str)}
_cached: Catalogue | None | bool = False  # False: not read yet


@dataclass(frozen=True)
class Catalogue:
    digest: str
    models: dict[str, ModelInfo]
    params: dict[str, int]  # all parameters at the default options


def source_digest(folder: Path = PATH.parent) -> str | None:
    """A digest of the zoo's Python sources; None where they are not files (a frozen app)."""
    sources = sorted(folder.glob("*.py"))
    if not sources:
        return None
    h = hashlib.sha256()
    for path in sources:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def load_catalogue() -> Catalogue | None:
    """The shipped catalogue if it exists and matches the sources, else None (read once)."""
    global _cached
    if _cached is False:
        _cached = read_catalogue(PATH)
    return _cached


def read_catalogue(path: Path) -> Catalogue | None:
    """The catalogue at ``path``; None if it is missing, unreadable, or older than the
    sources beside it."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    digest = source_digest(path.parent)
    if digest is not None and data.get("digest") != digest:
        return None
    items = data["models"]
    return Catalogue(data["digest"], {name: _info(name, item) for name, item in items.items()},
                     {name: item["params"] for name, item in items.items()})


def _deferred(name: str):
    def build_registered(**options: Any):
        from .registry import _REGISTRY, load_families

        load_families()
        return _REGISTRY[name].builder(**options)

    return build_registered


def _info(name: str, item: dict[str, Any]) -> ModelInfo:
    options = tuple(
        Option(o["name"], _TYPES[o["type"]], o["default"], o["help"],
               tuple(o["choices"]) if o["choices"] is not None else None, o["min"], o["max"])
        for o in item["options"])
    fields = {k: v for k, v in item.items() if k not in ("options", "params")}
    for key in ("input_shape", "mean", "std"):
        fields[key] = tuple(fields[key])
    return ModelInfo(name=name, builder=_deferred(name), options=options, **fields)


def _entry(info: ModelInfo, params: int) -> dict[str, Any]:
    item = {k: v for k, v in asdict(info).items() if k not in ("name", "builder", "options")}
    item["options"] = [{**{k: v for k, v in asdict(o).items() if k != "guessed"},
                        "type": o.type.__name__} for o in info.options]
    item["params"] = params
    return item


def write_catalogue(path: Path = PATH) -> int:
    """Write the catalogue from the family files' registrations; returns the model count."""
    from . import registry

    registry.load_families()
    models = {}
    for name in sorted(registry._REGISTRY):
        info = registry._REGISTRY[name]
        if any(o.type.__name__ not in _TYPES for o in info.options):
            raise ZooError(f"{name}: the catalogue holds bool, int, float and str options only")
        models[name] = _entry(info, registry.parameter_count(name))
    data = {"digest": source_digest(path.parent), "models": models}
    path.write_text(json.dumps(data, indent=1) + "\n")
    return len(models)


if __name__ == "__main__":
    print(f"{PATH}: {write_catalogue()} models")
