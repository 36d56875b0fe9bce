"""Loading a user's weights: ``.pth``/``.pt`` through ``torch.load(weights_only=True)``
only (a pickle that would run code is refused, never retried unsafely) and
``.safetensors``. Common wrappers are unwrapped. Every key and shape is checked before
anything is copied, so a file for another model leaves the model unchanged."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "module", "weights")
PREFIXES = ("module.", "model.", "_orig_mod.")


class WeightsError(ValueError):
    """The file cannot be loaded into this model; ``report`` says what did not match."""

    def __init__(self, message: str, report: WeightsReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class WeightsReport:
    path: str
    loaded: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    wrong_shape: list[tuple[str, tuple, tuple]] = field(default_factory=list)  # key, file, model

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.wrong_shape)

    def text(self, limit: int = 8) -> str:
        lines = [f"{self.path}: {self.loaded} tensors match"]
        for title, items in (("missing from the file", self.missing),
                             ("in the file but not in the model", self.unexpected)):
            if items:
                shown = ", ".join(items[:limit]) + (f" … ({len(items)} in all)"
                                                    if len(items) > limit else "")
                lines.append(f"{len(items)} {title}: {shown}")
        if self.wrong_shape:
            shown = "; ".join(f"{k}: file {tuple(a)} vs model {tuple(b)}"
                              for k, a, b in self.wrong_shape[:limit])
            lines.append(f"{len(self.wrong_shape)} with another shape: {shown}")
        return "\n".join(lines)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    if path.suffix.lower() == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise WeightsError(
            f"{path}: refused: the file holds Python objects beyond tensors, which could run "
            f"code when loaded ({str(exc).splitlines()[0][:160]})") from None
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise WeightsError(f"{path}: not a PyTorch weights file ({str(exc)[:160]})") from None
    return unwrap(obj, path)


def unwrap(obj, path: Path) -> dict[str, torch.Tensor]:
    """Find the state dict inside common checkpoint layouts and drop wrapper prefixes."""
    for _ in range(3):
        if isinstance(obj, dict) and not _is_state_dict(obj):
            inner = next((obj[k] for k in WRAPPER_KEYS if isinstance(obj.get(k), dict)), None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, dict) or not _is_state_dict(obj):
        raise WeightsError(f"{path}: no state dict of tensors found in the file")
    state = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    for prefix in PREFIXES:
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
    return state


def _is_state_dict(d: dict) -> bool:
    return bool(d) and all(isinstance(k, str) for k in d) and any(
        isinstance(v, torch.Tensor) for v in d.values())


def check(model: nn.Module, state: dict[str, torch.Tensor], path: str) -> WeightsReport:
    own = model.state_dict()
    report = WeightsReport(str(path))
    for key, tensor in state.items():
        if key not in own:
            report.unexpected.append(key)
        elif tuple(own[key].shape) != tuple(tensor.shape):
            report.wrong_shape.append((key, tuple(tensor.shape), tuple(own[key].shape)))
        else:
            report.loaded += 1
    report.missing = [k for k in own if k not in state]
    return report


def load_weights(model: nn.Module, path: str | Path) -> WeightsReport:
    """Load ``path`` into ``model`` (strict); on any mismatch raise WeightsError with the
    report and leave the model as it was."""
    state = read_state_dict(path)
    report = check(model, state, str(path))
    if not report.ok:
        raise WeightsError(f"{path} does not fit this model:\n{report.text()}", report)
    model.load_state_dict(state, strict=True)
    return report
