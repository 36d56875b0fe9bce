"""A slice of a tensor (``x[:, :16]``, ``narrow``, ``chunk``) is a part handed on, never a
dense concatenation: a person's split-and-join model was drawn with DenseNet's blue
dashed edges and the legend's "dense concatenation"."""

from __future__ import annotations

from explorer.graph import FoldSpec, default_spec, fold
from explorer.graph.describe import op_caption
from explorer.graph.style import node_label
from explorer.graph.trace import trace_zoo

MODEL = '''
import torch
from torch import nn


class SplitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.branch = nn.Conv2d(16, 16, 3, padding=1)

    def forward(self, x):
        x = self.stem(x)
        y = self.branch(x[:, :16])
        return torch.cat([x[:, 16:], y], dim=1)


class Narrowed(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.branch = nn.Conv2d(16, 16, 3, padding=1)

    def forward(self, x):
        x = self.stem(x)
        a, b = x.chunk(2, dim=1)
        return torch.cat([x.narrow(1, 0, 8), self.branch(b), a[:, 8:]], dim=1)


class Dense(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.branch = nn.Conv2d(32, 16, 3, padding=1)

    def forward(self, x):
        x = self.stem(x)
        y = self.branch(x)
        return torch.cat([x[:, :, 1:-1, 1:-1], y[:, :, 1:-1, 1:-1]], dim=1)
'''


def _graph(tmp_path, name):
    path = tmp_path / "mine.py"
    path.write_text(MODEL)
    return trace_zoo(f"{path}:{name}", (1, 3, 16, 16))


def test_a_channel_slice_is_captioned_and_never_a_dense_concatenation(tmp_path):
    graph = _graph(tmp_path, "SplitNet")
    assert graph.edge_counts()["concat"] == 0
    assert op_caption(graph.node("getitem")) == "slice [:, :16]"
    assert op_caption(graph.node("getitem:1")) == "slice [:, 16:]"
    # the two halves are parallel paths from the slices to the join
    assert set(graph.edges("branch")) == {("getitem", "branch"), ("branch", "cat"),
                                          ("getitem:1", "cat")}


def test_narrow_and_chunk_are_parts_too(tmp_path):
    graph = _graph(tmp_path, "Narrowed")
    assert graph.edge_counts()["concat"] == 0
    assert op_caption(graph.node("narrow")) == "slice [:, 0:8]"
    assert op_caption(graph.node("chunk")) == "channel split 16+16"


def test_a_spatial_crop_still_passes_dense_reuse_through(tmp_path):
    # a crop keeps every channel: the cat still reuses the stem's whole output
    graph = _graph(tmp_path, "Dense")
    assert ("stem", "getitem") in graph.edges("concat")
    assert op_caption(graph.node("getitem")) == "slice [:, :, 1:-1, 1:-1]"


def test_shufflenet_v2_units_are_a_channel_split_not_a_dense_block():
    graph = trace_zoo("shufflenet_v2_x0_5")
    assert graph.edge_counts()["concat"] == 0
    view = fold(graph, default_spec(graph))
    captions = {node_label(n, view.node(n))[0] for n in view.nx}
    assert not any(c.startswith("dense block") for c in captions)
    assert "bottleneck 1×1-3×3 dw-1×1, 96, channel split ×7" in captions
    open_unit = fold(graph, FoldSpec(depth=2, expand=frozenset({"stage2.1"})))
    assert op_caption(open_unit.node("stage2.1.chunk")) == "channel split 24+24"
