"""Where a person's layer comes from points into their file (was: "defined in
…/torch/nn/modules/conv.py" for every nn.Conv2d of their model): a torch layer at the
line of their class that creates it, a functional op at their class's forward, their
own class at its definition. The zoo's layers still point at their family file."""

from __future__ import annotations

import torch

from explorer.analysis.layer_info import inspect_layer, layer_info
from explorer.analysis.layer_text import layer_text
from explorer.graph.trace import trace
from explorer.usermodel import load_user_model

SOURCE = '''import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return torch.relu(self.conv(x)) + x


class Mine(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3)
        self.blocks = nn.Sequential(Block(8), Block(8))
        self.head: nn.Module = nn.Linear(8, 2)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.head(x.mean((2, 3)))
'''


def test_a_persons_layers_point_into_their_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(SOURCE)
    model = load_user_model(f"{path}:Mine")
    graph = trace(model, (1, 3, 16, 16))

    def where(node):
        src = layer_info(graph, node, model).source
        return src.how, src.line, src.file == str(path.resolve()), src.user

    assert where("stem") == ("created in Mine.__init__ at", 17, True, True)
    assert where("head") == ("created in Mine.__init__ at", 19, True, True)
    assert where("blocks.0.conv") == ("created in Block.__init__ at", 8, True, True)
    assert where("blocks.1.add") == ("called in Block.forward at", 10, True, True)
    assert where("mean") == ("called in Mine.forward at", 21, True, True)
    block = layer_info(graph, "blocks.0", model, {"kind": "block", "path": "blocks.0",
                                                   "op": "Block"}).source
    assert (block.how, block.line) == ("defined in", 5)
    text = layer_text(inspect_layer(f"{path}:Mine", "stem"))
    assert f"created in      Mine.__init__ at {path.resolve()}:17" in text


def test_the_zoos_layers_keep_their_family_file():
    from explorer import zoo

    with torch.device("meta"):
        model = zoo.build("resnet18")
    graph = trace(model, (1, 3, 64, 64))
    assert layer_info(graph, "conv1", model).source.file.endswith("conv.py")
    assert layer_info(graph, "layer1.0.add", model).source is None
