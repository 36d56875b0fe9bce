"""A model's weights to a .safetensors file (File ▸ Save weights…): every tensor of its
state dict, on the CPU, written whole or not at all; the label of the weights (how they
were trained) and their label set (the class names they answer with) go into the file's
metadata, which ``saved_labels`` reads back. ``inference.weights.load_weights`` reads the
weights back into the same model."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from .files import DestinationError, write_atomic

SUFFIX = ".safetensors"


def save_weights(model: nn.Module, path: str | Path, label: str = "",
                 labels: str | None = None) -> Path:
    """Write ``model``'s state dict to ``path`` (a .safetensors file); returns the path.
    ``labels`` names the label set of resources/labels the weights answer with."""
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise DestinationError(f"{path}: weights are saved as {SUFFIX}; give that suffix")
    # copies: tensors that share storage (tied weights) are written once each
    state = {k: v.detach().to("cpu").contiguous().clone()
             for k, v in model.state_dict().items()}
    metadata = {k: v for k, v in (("weights", label), ("labels", labels)) if v} or None
    return write_atomic(path, lambda tmp: save_file(state, str(tmp), metadata=metadata))


def saved_labels(path: str | Path) -> str | None:
    """The label set a file written by ``save_weights`` names; None for any other file."""
    from safetensors import SafetensorError, safe_open

    if Path(path).suffix.lower() != SUFFIX:
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            return (f.metadata() or {}).get("labels")
    except (OSError, SafetensorError):
        return None
