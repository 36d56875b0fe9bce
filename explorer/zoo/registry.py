"""The model registry: the only way into the zoo.

A family file registers each named model with ``register_model``: the builder, the
metadata a person needs (paper, task, input size, normalisation, labels) and the options
the builder accepts. A name may preset option values (``resnet34_plain`` is ``resnet34``
with ``plain=True``), so variants the literature names are reachable both ways.

Importing the registry does not import torch: the family files load on the first build.
Until then names and metadata come from the catalogue (``catalogue.json``, written from
the family files' registrations), as long as it matches the sources it was written from.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TASKS = ("classification", "segmentation")
# How random weights are drawn unless a family says otherwise (ModelInfo.init).
DEFAULT_INIT = ("PyTorch's layer defaults: conv and linear weights and biases uniform in "
                "±1/√fan_in, BN scale 1 and shift 0")
# A .pt2 or ONNX file is loaded with its weights: nothing is drawn at random.
FILE_WEIGHTS_INIT = "none drawn at random: the file carries its weights"


class ZooError(ValueError):
    """An unknown model name or an invalid option; the message lists what is allowed."""


@dataclass(frozen=True)
class Option:
    """One keyword a builder accepts, with what the GUI needs to render it as a widget."""

    name: str
    type: type
    default: Any
    help: str = ""
    choices: tuple | None = None
    min: float | None = None
    max: float | None = None
    guessed: bool = False  # a person's required argument, offered with a guessed value

    def allowed(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.type is bool:
            return "True or False"
        if self.type is tuple:
            return "a tuple of ints such as (3, 3)"
        if self.type is str:
            return "a string"
        article = "an" if self.type.__name__[0] in "aeiou" else "a"
        kind = f"{article} {self.type.__name__}"
        if self.min is None and self.max is None:  # was "an int in [-inf, inf]"
            return kind
        if self.max is None:
            return f"{kind} ≥ {self.min}"
        if self.min is None:
            return f"{kind} ≤ {self.max}"
        return f"{kind} in [{self.min}, {self.max}]"

    def validate(self, model: str, value: Any) -> Any:
        value = self._coerce(model, value)
        if isinstance(value, float) and not math.isfinite(value):  # NaN passes every < and >
            raise ZooError(f"{model}: option {self.name}={value!r} is not a finite number; "
                           f"use {self.allowed()}")
        if self.choices is not None and value not in self.choices:
            raise ZooError(f"{model}: option {self.name}={value!r} is not allowed; "
                           f"use {self.allowed()}")
        if self.min is not None and value < self.min or self.max is not None and value > self.max:
            raise ZooError(f"{model}: option {self.name}={value!r} is out of range; "
                           f"use {self.allowed()}")
        return value

    def _coerce(self, model: str, value: Any) -> Any:
        """Accept the value itself or its text form (from a command line or a form)."""
        if self.type is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
        elif self.type is tuple:
            return _int_tuple(value, lambda: ZooError(
                f"{model}: option {self.name}={value!r} is not {self.allowed()}"))
        elif not isinstance(value, bool):  # True is an int to Python, not to a person
            try:
                if self.type is int and isinstance(value, float) and not value.is_integer():
                    raise ValueError
                if self.type is int and isinstance(value, str):
                    return int(value.strip())
                return self.type(value)
            except (TypeError, ValueError, OverflowError):
                pass
        raise ZooError(f"{model}: option {self.name}={value!r} is not {self.allowed()}")


def _int_tuple(value: Any, error: Callable[[], Exception]) -> tuple[int, ...]:
    """(3, 3), [3, 3] or the text "3,3" / "(3, 3)" as a tuple of ints."""
    if isinstance(value, str):
        words = [w for w in value.strip().strip("()[]").replace(",", " ").split()]
        try:
            value = tuple(int(w) for w in words)
        except ValueError:
            raise error() from None
    if (isinstance(value, (tuple, list)) and value
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        return tuple(value)
    raise error()


@dataclass(frozen=True)
class ModelInfo:
    """Metadata that travels with a registered model."""

    name: str
    family: str
    task: str
    paper: str
    year: int
    input_shape: tuple[int, int, int]  # C, H, W
    builder: Callable[..., nn.Module] = field(repr=False, compare=False)
    options: tuple[Option, ...] = ()
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    labels: str | None = None  # a label set name under resources/labels, or None
    description: str = ""
    torchvision: bool = False  # parameter names and shapes match torchvision's model
    init: str = ""  # how random weights are drawn, where not PyTorch's layer defaults
    # how a classifier sees an image: "crop", ImageNet's evaluation recipe (the centre
    # 87.5 %), or "resize", the whole image stretched to the input, as the small images of
    # CIFAR and the digits were made and as training here resizes its data
    fit: str = "crop"

    @property
    def initialisation(self) -> str:
        """How this model's random weights are drawn, in words."""
        return self.init or DEFAULT_INIT

    def option(self, name: str) -> Option:
        for opt in self.options:
            if opt.name == name:
                return opt
        raise ZooError(f"{self.name}: unknown option {name!r}; options are: "
                       + (", ".join(o.name for o in self.options) or "none"))

    def defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options}

    def resolve(self, options: dict[str, Any]) -> dict[str, Any]:
        """The full, validated option set: defaults overridden by ``options``."""
        values = self.defaults()
        for key, value in options.items():
            values[key] = self.option(key).validate(self.name, value)
        return values


_REGISTRY: dict[str, ModelInfo] = {}
_families_loaded = False
_families_loading = False
_families_lock = threading.RLock()


def load_families() -> None:
    """Import every family file (and torch with them): each registers its models.

    Thread-safe: another thread waits here until the registry is whole, and until then
    ``_known`` answers from the catalogue (the UI thread lists models while a worker
    builds the first one)."""
    global _families_loaded, _families_loading
    if _families_loaded:
        return
    with _families_lock:  # re-entrant: the family files call register_model while importing
        if _families_loaded or _families_loading:
            return
        _families_loading = True
        try:
            _import_families()
        finally:
            _families_loading = False
        _families_loaded = True


def _import_families() -> None:
    from . import (  # noqa: F401
        alexnet,
        deconvnet,
        densenet,
        fcn,
        googlenet,
        inception,
        lenet,
        mobilenet,
        resnet,
        resnet_cifar,
        segnet,
        shufflenet,
        unet,
        vgg,
        xception,
    )


def _known() -> dict[str, ModelInfo]:
    """The registered models: the catalogue's copy while the family files are not loaded
    and it is current, else the family files' own registrations."""
    if not _families_loaded:
        from .catalogue import load_catalogue

        catalogue = load_catalogue()
        if catalogue is not None:
            return catalogue.models
        load_families()
    return _REGISTRY


def register_model(name: str, builder: Callable[..., nn.Module], *, family: str, task: str,
                   paper: str, year: int, input_shape: Sequence[int],
                   options: Sequence[Option] = (), preset: dict[str, Any] | None = None,
                   **meta: Any) -> ModelInfo:
    """Register ``builder`` under ``name``; ``preset`` overrides option defaults."""
    load_families()  # a new name must not clash with the zoo's own
    if name in _REGISTRY:
        raise ZooError(f"model {name!r} is already registered")
    if task not in TASKS:
        raise ZooError(f"{name}: task must be one of {TASKS}, not {task!r}")
    opts = tuple(options)
    known = {o.name for o in opts}
    for key, value in (preset or {}).items():
        if key not in known:
            raise ZooError(f"{name}: preset names unknown option {key!r}")
        opts = tuple(
            Option(o.name, o.type, value, o.help, o.choices, o.min, o.max) if o.name == key else o
            for o in opts
        )
    info = ModelInfo(name=name, family=family, task=task, paper=paper, year=year,
                     input_shape=tuple(input_shape), builder=builder, options=opts, **meta)
    _REGISTRY[name] = info
    return info


def carries_weights(name: str) -> bool:
    """A model file that holds its own weights (an exported program, an ONNX graph): it is
    loaded, not built, and a rebuild runs the file's weights, not random init."""
    return isinstance(name, str) and name.lower().endswith((".pt2", ".onnx"))


def model_file(name: str) -> str:
    """The file a model name reads (``file.py:Name`` -> ``file.py``); a zoo name is itself
    (no such file exists). Writers refuse it as a destination."""
    return name.rpartition(":")[0] if ".py:" in name else name


def get_info(name: str) -> ModelInfo:
    """A registered model's metadata; ``path/file.py:Name`` gives a user model's, and
    ``path/file.pt2`` an exported program's (explorer.zoo.exported), ``path/file.onnx``
    an ONNX model's (explorer.zoo.onnx_import)."""
    if not isinstance(name, str):
        raise ZooError(f"a model is named by a string (a zoo name or a file), not "
                       f"{type(name).__name__} {name!r}")
    if name.endswith(".pt2"):
        from .exported import exported_model_info

        return exported_model_info(name)
    if name.lower().endswith(".onnx"):
        from .onnx_import import onnx_model_info

        return onnx_model_info(name)
    if ".py" in name:
        from ..usermodel import is_user_model, user_model_info

        if is_user_model(name):
            return user_model_info(name)
    known = _known()
    try:
        return known[name]
    except KeyError:
        close = difflib.get_close_matches(name, known, n=5, cutoff=0.6)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise ZooError(f"unknown model {name!r}.{hint} Known models: "
                       + ", ".join(sorted(known))) from None


def list_models(pattern: str | None = None, task: str | None = None) -> list[str]:
    """Registered names, sorted; ``pattern`` is a shell glob, ``task`` filters by task."""
    if task is not None and task not in TASKS:
        raise ZooError(f"unknown task {task!r}; tasks are: {', '.join(TASKS)}")
    known = _known()
    names = sorted(known)
    if pattern:
        names = fnmatch.filter(names, pattern)
    if task:
        names = [n for n in names if known[n].task == task]
    return names


def build(name: str, **options: Any) -> nn.Module:
    """Build a fresh model in eval mode; unknown names and bad options raise ZooError.

    Under ``torch.device("meta")`` no weight initialisation runs (there is nothing to
    fill), which also spares the first meta build torch's 1 s import of torch._dynamo."""
    import torch

    from .budget import check_model_budget
    from .common import SkipInitOnMeta  # imports torch

    load_families()
    info = get_info(name)
    values = info.resolve(options)
    if torch.get_default_device().type != "meta":  # real memory: within the budget first
        check_model_budget(info, values, defaults_fit=name in _REGISTRY)
    with SkipInitOnMeta():
        model = info.builder(**values)
    return model.eval()


def parameter_count(name: str, **options: Any) -> int:
    """All parameters of the model with these options; the default options' count comes
    from the catalogue (no torch) where it is current, others from a meta build."""
    info = get_info(name)
    if not _families_loaded and info.resolve(options) == info.defaults():
        from .catalogue import load_catalogue

        catalogue = load_catalogue()
        if catalogue is not None and name in catalogue.params:
            return catalogue.params[name]
    import torch

    with torch.device("meta"):
        model = build(name, **options)
    return sum(p.numel() for p in model.parameters())


def input_shape(name: str, **options: Any) -> tuple[int, int, int, int]:
    """The default input (batch of one) for a model with these options."""
    info = get_info(name)
    values = info.resolve(options)
    c, h, w = info.input_shape
    c = values.get("in_channels", c)
    size = values.get("resolution")
    if size:
        h = w = size
    return (1, c, h, w)


def papers_init(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the papers' initialisation where the model offers the choice and
    ``options`` do not make it: ``zero_init_last`` off (the zoo's default starts each
    residual branch at zero, for bounded random-init outputs; the papers' claims about
    gradients and training were measured with their Kaiming init alone)."""
    if "zero_init_last" in options or not any(
            o.name == "zero_init_last" for o in get_info(name).options):
        return dict(options)
    return {**options, "zero_init_last": False}


def variant_name(name: str, options: dict[str, Any]) -> str:
    """What a model with these options is called: the registered variant it equals
    (resnet34 with plain=True is resnet34_plain), else the name with the options that
    differ ("resnet34 with shortcut='A'"). The title, the catalogue's selection and export
    file names use it (a plain ResNet-34 read and exported as "resnet34")."""
    info = get_info(name)
    try:
        chosen = info.resolve(options)
    except (ZooError, ValueError, KeyError):
        return name
    if chosen == info.defaults():
        return name
    keys = set(chosen)
    for other in list_models():
        twin = get_info(other)
        if twin.family == info.family and {o.name for o in twin.options} == keys \
                and twin.defaults() == chosen:
            return other
    defaults = info.defaults()
    changed = ", ".join(f"{k}={v!r}" for k, v in chosen.items() if v != defaults[k])
    return f"{name} with {changed}"


def file_stem(shown: str) -> str:
    """A file name for ``variant_name``'s text: "resnet34_shortcut-A"; a person's model
    by its name in the file ("path/mine.py:Net with width=16" -> "Net_width-16")."""
    if ".py:" in shown:
        shown = shown.rsplit(".py:", 1)[1]
    stem = shown.replace(" with ", "_").replace(", ", "_").replace("=", "-")
    return "".join(c for c in stem if c.isalnum() or c in "-_.") or "model"
