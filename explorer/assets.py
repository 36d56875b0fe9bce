"""Where the shipped data lives: ``explorer/resources`` in an installed wheel (built
from the checkout's top-level ``resources/``), or ``resources/`` beside the package in a
checkout."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent
RESOURCES = next((p for p in (_HERE / "resources", _HERE.parent / "resources") if p.is_dir()),
                 _HERE.parent / "resources")


def resource(*parts: str) -> Path:
    path = RESOURCES.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"missing resource {path}")
    return path


def sample_images() -> list[Path]:
    """The shipped sample photos (resources/samples; sources and licences in SOURCES.txt)."""
    return sorted(p for p in resource("samples").iterdir()
                  if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
