"""LeNet-5: LeCun et al., "Gradient-Based Learning Applied to Document Recognition" (1998).

Departs from the paper where modern practice does: C3 connects to all six S2 maps (the
paper's sparse connection table is an option), pooling is plain average pooling without
trainable coefficients, and the output is a linear layer instead of RBF units.
"""

from __future__ import annotations

import torch
from torch import nn

from .common import num_classes
from .registry import Option, register_model

# Which S2 maps feed each C3 map (LeCun 1998, Table I).
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5),
)


class SparseC3(nn.Module):
    """C3 with the paper's connection table: each output map sees a subset of inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.maps = nn.ModuleList(nn.Conv2d(len(src), 1, 5) for src in C3_TABLE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(x[:, list(src)]) for conv, src in zip(self.maps, C3_TABLE)], 1)


class LeNet5(nn.Module):
    def __init__(self, num_classes: int = 10, activation: str = "tanh",
                 sparse_c3: bool = False) -> None:
        super().__init__()
        act = nn.Tanh if activation == "tanh" else nn.ReLU
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), act(), nn.AvgPool2d(2),  # C1, S2
            SparseC3() if sparse_c3 else nn.Conv2d(6, 16, 5), act(), nn.AvgPool2d(2),  # C3, S4
            nn.Conv2d(16, 120, 5), act(),  # C5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(120, 84), act(), nn.Linear(84, num_classes)  # F6, output
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


register_model(
    "lenet5", LeNet5, family="LeNet", task="classification", year=1998,
    paper="Gradient-Based Learning Applied to Document Recognition",
    input_shape=(1, 32, 32), mean=(0.1307,), std=(0.3081,), labels="digits", fit="resize",
    description="Two conv/pool stages and three fully connected layers; about 60k parameters.",
    options=(
        num_classes(10),
        Option("activation", str, "tanh", "hidden activation", choices=("tanh", "relu")),
        Option("sparse_c3", bool, False, "C3 uses the paper's sparse connection table"),
    ),
)
