"""A functional op as the trace saw it called, to compute again from its input nodes'
tensors: capture replays a cheap op no module hook sees (a join inside a block) rather
than running the whole pass under the function mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils._pytree import tree_unflatten

from .op_details import _tensors


@dataclass(frozen=True)
class Replay:
    """A functional op as it was called: ``func`` and its flattened arguments, where a
    tensor argument is ``Replay.Input(node)``, the output of that node."""

    @dataclass(frozen=True)
    class Input:
        node: str

    func: Any
    args: tuple
    spec: Any  # the pytree spec of (args, kwargs)
    in_place: bool  # it writes into its first tensor argument

    def inputs(self) -> list[str]:
        return [a.node for a in self.args if isinstance(a, Replay.Input)]

    def run(self, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        """The op on ``tensors`` (node -> its output); in-place ops act on a copy."""
        leaves, copied = [], False
        for a in self.args:
            if isinstance(a, Replay.Input):
                t = tensors[a.node]
                if self.in_place and not copied:
                    t, copied = t.clone(), True
                a = t
            leaves.append(a)
        args, kwargs = tree_unflatten(leaves, self.spec)
        return _tensors(self.func(*args, **kwargs))[0]
