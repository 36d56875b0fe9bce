"""One budget for a model's own memory: before a model is built on a real device its
parameters and buffers are counted on a meta build (shapes only, nothing allocated), and a
model over ``MODEL_BUDGET`` is refused in a sentence that says how much and which option
drives it. Structure (graphs, tables, info) is built on meta and has no such limit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..limits import MODEL_BUDGET, gb
from .registry import ZooError, carries_weights

if TYPE_CHECKING:
    from .registry import ModelInfo


def _is_file_model(info: ModelInfo) -> bool:
    return carries_weights(info.name)  # loaded, not built: the archive's budget


def model_bytes(info: ModelInfo, values: dict[str, Any]) -> int | None:
    """Bytes of every parameter and buffer (shared ones once) of a meta build, or None
    when the model cannot be built on meta (a person's code that needs real tensors)."""
    import torch

    from .common import SkipInitOnMeta

    try:
        with torch.device("meta"), SkipInitOnMeta():
            model = info.builder(**values)
    except Exception:  # noqa: BLE001  (the real build will say what is wrong)
        return None
    seen: dict[int, int] = {}
    for tensor in [*model.parameters(), *model.buffers()]:
        seen[id(tensor)] = tensor.numel() * tensor.element_size()
    return sum(seen.values())


def check_model_budget(info: ModelInfo, values: dict[str, Any],
                       defaults_fit: bool) -> None:
    """Raise ZooError when the model with ``values`` would take more than the budget.
    ``defaults_fit``: the registered defaults are known to fit (a test checks every one)."""
    if _is_file_model(info) or defaults_fit and values == info.defaults():
        return
    size = model_bytes(info, values)
    if size is None or size <= MODEL_BUDGET:
        return
    changed = {k: v for k, v in values.items() if v != info.defaults().get(k)}
    shown = ", ".join(f"{k}={v}" for k, v in changed.items())
    raise ZooError(f"{info.name}{' with ' + shown if shown else ''}: its parameters and "
                   f"buffers would take {gb(size)}, over the {gb(MODEL_BUDGET)} budget for "
                   f"a model on a real device; {_driver(info, values, changed, size)}. "
                   "Graphs, tables and info still work: they are built on the meta device")


def _driver(info: ModelInfo, values: dict[str, Any], changed: dict[str, Any],
            size: int) -> str:
    """Which option, put back to its default, shrinks the model most."""
    best, best_size = None, size
    for key in changed:
        smaller = model_bytes(info, {**values, key: info.defaults()[key]})
        if smaller is not None and smaller < best_size:
            best, best_size = key, smaller
    if best is None:
        return "the model's own layers make it that large"
    return (f"{best}={values[best]} drives it (with the default {best}="
            f"{info.defaults()[best]} it takes {gb(best_size)})")
