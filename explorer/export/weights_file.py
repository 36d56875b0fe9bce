"""A model's weights to a .safetensors file (File ▸ Save weights…): every tensor of its
state dict, on the CPU, written whole or not at all; the label of the weights (how they
were trained) goes into the file's metadata. ``inference.weights.load_weights`` reads the
file back into the same model."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from .files import DestinationError, write_atomic

SUFFIX = ".safetensors"


def save_weights(model: nn.Module, path: str | Path, label: str = "") -> Path:
    """Write ``model``'s state dict to ``path`` (a .safetensors file); returns the path."""
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise DestinationError(f"{path}: weights are saved as {SUFFIX}; give that suffix")
    # copies: tensors that share storage (tied weights) are written once each
    state = {k: v.detach().to("cpu").contiguous().clone()
             for k, v in model.state_dict().items()}
    metadata = {"weights": label} if label else None
    return write_atomic(path, lambda tmp: save_file(state, str(tmp), metadata=metadata))
