"""Published weight sets, as data: ``resources/weights/<publisher>.json``.

Each set names the zoo model it fits, where the file is (its name carries the sha256
prefix, torch.hub's convention), the options the model needs, the categories, the
preprocessing it was evaluated with and its published metrics; every entry says which
publisher file it was copied from. Files live in torch.hub's checkpoint folder, so a
person who already used torchvision downloads nothing. Fetching is in ``download``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..assets import resource
from .preprocess import INTERPOLATION, Recipe

# torch.hub's rule for the hash prefix in a file name (torch.hub.HASH_REGEX); written out
# so that listing the catalogue needs no torch import
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
MIN_PREFIX = 8
FIELDS = ("model", "name", "default", "url", "file_size_mib", "num_params", "labels",
          "num_classes", "preprocessing", "dataset", "metrics", "options", "key_rules",
          "recipe", "license", "hf_hub_id", "notes", "source")


class CatalogueError(ValueError):
    """An unknown model or set name, or a malformed catalogue file; the message says which
    names exist."""


@dataclass(frozen=True)
class WeightSet:
    """One published weight file for one zoo model."""

    model: str
    name: str  # as the publisher names it: IMAGENET1K_V2, COCO_WITH_VOC_LABELS_V1, ...
    publisher: str
    default: bool
    url: str
    file_size_mib: float | None  # as published; None when the publisher does not say
    num_params: int
    labels: str  # a label set under resources/labels
    num_classes: int
    recipe: Recipe
    dataset: str
    metrics: dict[str, float]
    options: dict[str, Any]  # the zoo options the weights need
    key_rules: tuple[tuple[str, str], ...] = ()  # (regex, replacement) from theirs to ours
    training: str = ""  # where the training recipe is described
    license: str | None = None
    hf_hub_id: str | None = None
    notes: str = ""
    source: str = ""
    uncounted_modules: tuple[str, ...] = field(default=(), repr=False)

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def sha256_prefix(self) -> str:
        match = HASH_REGEX.search(self.file_name)
        return match.group(1) if match else ""

    @property
    def label(self) -> str:
        """How a person reads the choice: 'IMAGENET1K_V2 (torchvision)'."""
        return f"{self.name} ({self.publisher})"

    def size_text(self) -> str:
        if self.file_size_mib is not None:
            return f"{self.file_size_mib:.1f} MiB"
        return f"about {self.num_params * 4 / 2**20:.0f} MiB"  # float32 parameters

    def metrics_text(self) -> str:
        return ", ".join(f"{k} {v:g}" for k, v in self.metrics.items())

    def cache_path(self) -> Path:
        return checkpoint_dir() / self.file_name

    def is_cached(self) -> bool:
        return self.cache_path().is_file()

    def remap(self, state: dict) -> dict:
        """The publisher's key names turned into ours."""
        if not self.key_rules:
            return state
        rules = [(re.compile(p), r) for p, r in self.key_rules]
        out = {}
        for key, value in state.items():
            for pattern, replacement in rules:
                key = pattern.sub(replacement, key)
            out[key] = value
        return out


def checkpoint_dir() -> Path:
    """torch.hub's checkpoint folder: $TORCH_HOME/hub/checkpoints, by default
    ~/.cache/torch/hub/checkpoints."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def _parse(entry: dict, publisher: str, where: str) -> WeightSet:
    missing = [f for f in FIELDS if f not in entry]
    if missing:
        raise CatalogueError(f"{where}: missing {', '.join(missing)}")
    p = entry["preprocessing"]
    if p["interpolation"] not in INTERPOLATION:
        raise CatalogueError(f"{where}: unknown interpolation {p['interpolation']!r}")
    return WeightSet(
        model=entry["model"], name=entry["name"], publisher=publisher,
        default=bool(entry["default"]), url=entry["url"],
        file_size_mib=entry["file_size_mib"], num_params=int(entry["num_params"]),
        labels=entry["labels"], num_classes=int(entry["num_classes"]),
        recipe=Recipe(int(p["resize"]), p["crop"], p["interpolation"], tuple(p["mean"]),
                      tuple(p["std"])),
        dataset=entry["dataset"], metrics=dict(entry["metrics"]), options=dict(entry["options"]),
        key_rules=tuple((a, b) for a, b in entry["key_rules"]), training=entry["recipe"],
        license=entry["license"], hf_hub_id=entry["hf_hub_id"], notes=entry["notes"],
        source=entry["source"], uncounted_modules=tuple(entry.get("uncounted_modules", ())))


@dataclass(frozen=True)
class Catalogue:
    sets: tuple[WeightSet, ...]
    left_out: tuple[str, ...]  # what the publishers have that we do not list, and why


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    sets: list[WeightSet] = []
    left_out: list[str] = []
    for path in sorted(resource("weights").glob("*.json")):
        doc = json.loads(path.read_text())
        publisher = doc["publisher"]
        for i, entry in enumerate(doc["sets"]):
            sets.append(_parse(entry, publisher, f"{path.name} set {i}"))
        left_out += [f"{publisher}: {text}" for text in doc.get("left_out", ())]
    return Catalogue(tuple(sets), tuple(left_out))


def weight_sets(model: str) -> list[WeightSet]:
    """The published sets for ``model``, the default first."""
    found = [s for s in load_catalogue().sets if s.model == model]
    return sorted(found, key=lambda s: not s.default)


def models_with_weights() -> list[str]:
    return sorted({s.model for s in load_catalogue().sets})


def get_weight_set(model: str, name: str | None = None) -> WeightSet:
    """``model``'s set called ``name`` (case-insensitive; None or 'pretrained': the
    default); CatalogueError lists the sets there are."""
    sets = weight_sets(model)
    if not sets:
        raise CatalogueError(f"no published weights for {model}; models with weights: "
                             + ", ".join(models_with_weights()))
    if name is None or name.lower() in ("pretrained", "default"):
        return sets[0]
    for s in sets:
        if s.name.lower() == name.lower():
            return s
    raise CatalogueError(f"{model} has no weight set {name!r}; sets: "
                         + ", ".join(s.name for s in sets))
