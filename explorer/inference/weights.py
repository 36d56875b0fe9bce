"""Loading a user's weights: ``.pth``/``.pt`` through ``torch.load(weights_only=True)``
only (a pickle that would run code is refused, never retried unsafely) and
``.safetensors``. Common wrappers are unwrapped. Every key and shape is checked before
anything is copied, so a file for another model leaves the model unchanged: every tensor
must be dense, real, on the CPU and of the model's dtype family (floating point for
parameters, integer for counters), and the report names the key that is not. NaN or
infinite weights load, but the report carries a warning the caller must show."""

from __future__ import annotations

import os
import pickle
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..inputs import file_problem

WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "module", "weights")
PREFIXES = ("module.", "model.", "_orig_mod.")
# lines of torch's weights-only error that say nothing about the file itself
_TORCH_BOILERPLATE = ("Weights only load failed", "Check the doc", "Please file")


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
    wrong_kind: list[tuple[str, str]] = field(default_factory=list)  # key, what is wrong
    nonfinite: list[str] = field(default_factory=list)  # keys holding NaN or infinity

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.wrong_shape or self.wrong_kind)

    @property
    def warning(self) -> str | None:
        """What the caller must show even though the weights loaded."""
        if not self.nonfinite:
            return None
        shown = ", ".join(self.nonfinite[:4]) + (" …" if len(self.nonfinite) > 4 else "")
        return (f"{self.path}: {len(self.nonfinite)} tensors hold NaN or infinite values "
                f"({shown}); predictions from these weights mean nothing")

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
        if self.wrong_kind:
            shown = "; ".join(f"{k}: {why}" for k, why in self.wrong_kind[:limit])
            lines.append(f"{len(self.wrong_kind)} unusable: {shown}")
        return "\n".join(lines)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    if not isinstance(path, (str, os.PathLike)):
        raise WeightsError(f"weights are read from a file, named by a path, not "
                           f"{type(path).__name__} {str(path)[:60]!r}")
    path = Path(path)
    problem = file_problem(path, "a weights file")
    if problem:
        raise WeightsError(f"{path}: {problem}")
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except PermissionError:
        raise WeightsError(f"{path}: permission denied") from None
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read the file ({exc.strerror})") from None
    if not head:
        raise WeightsError(f"{path}: the file is empty")
    if path.suffix.lower() == ".safetensors" or _looks_like_safetensors(head):
        return _read_safetensors(path)
    if not (zipfile.is_zipfile(path) or head[:1] == b"\x80"):  # torch's zip, or a raw pickle
        raise WeightsError(f"{path}: not a PyTorch weights file (it starts with "
                           f"{head[:8]!r}; torch.save writes a zip archive)")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols on stderr
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()
                 and not line.startswith(_TORCH_BOILERPLATE)]
        named = [line for line in lines if "GLOBAL" in line or "Unsupported global" in line]
        if not named:  # a pickle, but not one torch's weights-only reader understands
            raise WeightsError(f"{path}: refused: a pickle that the weights-only loader "
                               f"cannot read ({(lines or ['unreadable'])[0][:160]}); only "
                               "plain tensors are loaded, never Python objects") from None
        raise WeightsError(
            f"{path}: refused: the file holds Python objects beyond tensors, which could run "
            f"code when loaded ({named[0][:160]})") from None
    except MemoryError:
        raise WeightsError(f"{path}: not enough memory to read the file") from None
    except Exception as exc:  # noqa: BLE001  (a damaged file fails in many ways inside torch)
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise WeightsError(f"{path}: not a PyTorch weights file ({type(exc).__name__}"
                           + (f": {detail})" if detail else ")")) from None
    return unwrap(obj, path)


def _looks_like_safetensors(head: bytes) -> bool:
    """A safetensors file starts with its header's length (8 bytes, little-endian)
    followed by the header's JSON text."""
    return len(head) > 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 1 << 27


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except PermissionError:
        raise WeightsError(f"{path}: permission denied") from None
    except (SafetensorError, OSError, ValueError, TypeError, RuntimeError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None


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


def _family(dtype: torch.dtype) -> str:
    if dtype == torch.bool:
        return "bool"
    if dtype.is_complex:
        return "complex"
    return "floating-point" if dtype.is_floating_point else "integer"


def tensor_problem(tensor: torch.Tensor, own: torch.Tensor) -> str | None:
    """Why ``tensor`` cannot be copied into the model's ``own`` (None when it can)."""
    if type(tensor) not in (torch.Tensor, nn.Parameter):
        return f"a {type(tensor).__name__}, not a plain tensor"
    if tensor.is_nested or tensor.layout != torch.strided:
        return f"a {str(tensor.layout).replace('torch.', '')} tensor; weights must be dense"
    if tensor.is_quantized:
        return "a quantized tensor"
    if tensor.device.type != "cpu":
        return f"a {tensor.device.type} tensor that holds no data"
    if _family(tensor.dtype) != _family(own.dtype):
        return (f"{str(tensor.dtype).replace('torch.', '')}, not {_family(own.dtype)} like "
                f"the model's {str(own.dtype).replace('torch.', '')}")
    return None


def check(model: nn.Module, state: dict[str, torch.Tensor], path: str) -> WeightsReport:
    own = model.state_dict()
    report = WeightsReport(str(path))
    for key, tensor in state.items():
        if key not in own:
            report.unexpected.append(key)
        elif tuple(own[key].shape) != tuple(tensor.shape):
            report.wrong_shape.append((key, tuple(tensor.shape), tuple(own[key].shape)))
        elif problem := tensor_problem(tensor, own[key]):
            report.wrong_kind.append((key, problem))
        else:
            report.loaded += 1
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                report.nonfinite.append(key)
    # files saved before PyTorch 0.4.1 (torchvision's DenseNet, VGG-BN) have no BatchNorm
    # counters; load_state_dict sets them to 0 for a state dict without version metadata
    report.missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    return report


def options_hint(report: WeightsReport) -> str:
    """Which options the file was saved with, where its tensors say (was: "does not fit
    this model:;" and nothing on what to change)."""
    firsts = {(a[0], b[0]) for _, a, b in report.wrong_shape if a and b}
    if report.wrong_shape and not (report.missing or report.unexpected) and len(firsts) == 1:
        (theirs, ours), = firsts
        if all(len(a) <= 2 for _, a, _ in report.wrong_shape):  # the classifier only
            return (f": it has {theirs} outputs where the model has {ours} "
                    f"(try the option num_classes={theirs})")
    if report.loaded == 0 and not report.wrong_shape and report.unexpected:
        # no name in common: not this model with other options, another network
        theirs, ours = report.unexpected[0], (report.missing or ["none"])[0]
        return (f": it holds another network's weights (no tensor of it is this model's: "
                f"the file has {theirs}, the model {ours}); load it into the model it was "
                "saved from")
    if report.missing or report.unexpected or report.wrong_shape:
        return (": it was saved from a model with other options (the names or shapes of "
                "its tensors differ; compare with explorer info MODEL --option …)")
    return ""


def load_weights(model: nn.Module, path: str | Path, remap=None) -> WeightsReport:
    """Load ``path`` into ``model`` (strict); on any mismatch raise WeightsError with the
    report and leave the model as it was. Show ``report.warning`` when it is not None.
    ``remap`` turns a publisher's key names into the model's (a published set's)."""
    state = read_state_dict(path)
    if remap is not None:
        state = remap(state)
    report = check(model, state, str(path))
    if not report.ok:
        raise WeightsError(f"{path} does not fit this model{options_hint(report)}\n"
                           f"{report.text()}", report)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # everything was checked; say so if torch still disagrees
        raise WeightsError(f"{path}: {str(exc).strip().splitlines()[-1][:200]}",
                           report) from None
    return report
