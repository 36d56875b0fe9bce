"""In-place activations run out of place while a capture keeps their inputs.

``ReLU(inplace=True)`` overwrites its input, so a capture that keeps that input (a batch
norm's output) would have to copy it first: one more pass over every such tensor.
Running the activation out of place for the pass gives the same values, writes its result
to a new tensor as the copy would, and skips the copy. Only torch's own modules whose
``inplace`` flag means exactly that are switched; other overwriters are copied.

Captures may run in several threads on one model: a count per module keeps the flag off
until the last of them ends, then restores the module's own setting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from torch import nn

SWITCHABLE = (nn.ReLU, nn.Hardtanh, nn.LeakyReLU, nn.ELU, nn.CELU, nn.SELU, nn.SiLU,
              nn.Hardswish, nn.Hardsigmoid, nn.Mish, nn.RReLU, nn.Threshold,
              nn.modules.dropout._DropoutNd)  # ReLU6 is a Hardtanh

_LOCK = threading.Lock()
_HELD: dict[nn.Module, tuple[int, bool]] = {}  # module -> (captures holding it, its own flag)


def switchable(module: nn.Module) -> bool:
    return isinstance(module, SWITCHABLE) and isinstance(getattr(module, "inplace", None), bool)


def own_flag(module: nn.Module) -> bool:
    """The module's own ``inplace``, also while a capture holds it off."""
    with _LOCK:
        return _HELD.get(module, (0, module.inplace))[1]


@contextmanager
def out_of_place(modules: Iterable[nn.Module]) -> Iterator[None]:
    """``modules`` (all ``switchable``) run with ``inplace=False`` inside the block."""
    modules = list(dict.fromkeys(modules))
    with _LOCK:
        for m in modules:
            count, own = _HELD.get(m, (0, m.inplace))
            _HELD[m] = (count + 1, own)
            object.__setattr__(m, "inplace", False)  # nn.Module's own setattr: 2 µs each
    try:
        yield
    finally:
        with _LOCK:
            for m in modules:
                count, own = _HELD.pop(m)
                if count > 1:
                    _HELD[m] = (count - 1, own)
                else:
                    object.__setattr__(m, "inplace", own)
