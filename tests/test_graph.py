"""Tracing, edge kinds, folding and layout on real zoo models and models defined here."""

from __future__ import annotations

import json
from collections import Counter

import networkx as nx
import pytest
import torch
from torch import nn

from explorer import zoo
from explorer.cli import main
from explorer.graph import FoldSpec, TraceError, default_spec, fold, layout, trace, trace_zoo


@pytest.fixture(scope="module")
def resnet34():
    return trace_zoo("resnet34")


def test_resnet34_has_16_residual_edges_3_of_them_projections(resnet34):
    residual = [resnet34.nx.edges[e] for e in resnet34.edges("residual")]
    assert len(residual) == 16
    assert sum(d["projection"] for d in residual) == 3
    targets = {v for _, v in resnet34.edges("residual")}
    assert all(resnet34.node(v)["op"] == "add" for v in targets)


def test_shortcut_a_is_identity_and_c_is_all_projections():
    a = trace_zoo("resnet34", shortcut="A")
    c = trace_zoo("resnet34", shortcut="C")
    assert [a.nx.edges[e]["projection"] for e in a.edges("residual")] == [False] * 16
    assert [c.nx.edges[e]["projection"] for e in c.edges("residual")] == [True] * 16


def test_plain_34_has_no_residual_edges():
    plain = trace_zoo("resnet34_plain")
    assert plain.edge_counts()["residual"] == 0
    assert not plain.nodes("add")


def test_googlenet_has_9_inception_modules_of_4_branches():
    g = trace_zoo("googlenet")
    joins = [n for n in g.nodes("cat")
             if all(g.nx.edges[u, n]["kind"] == "branch" for u in g.nx.predecessors(n))]
    assert len(joins) == 9
    assert all(g.nx.in_degree(n) == 4 for n in joins)
    assert {n.rsplit(".", 1)[0] for n in joins} == {
        "inception3a", "inception3b", "inception4a", "inception4b", "inception4c",
        "inception4d", "inception4e", "inception5a", "inception5b"}
    # the fan-out side is marked too: each module's input feeds its four branches
    fanout = Counter(u for u, v in g.edges("branch") if g.node(v)["op"] != "cat")
    assert sorted(fanout.values()) == [4] * 9


def test_densenet121_first_block_has_dense_concat_edges():
    g = trace_zoo("densenet121")
    block = "features.denseblock1."
    concat = [(u, v) for u, v in g.edges("concat") if v.startswith(block)]
    # 7 feature maps (input + 6 layers); every earlier one reaches every later concat
    # beyond its direct successor: C(7, 2) = 21 dense links.
    assert len(concat) == 21
    cats = [n for n in g.nodes("cat") if n.startswith(block)]
    assert len(cats) == 7  # one per layer plus the block output
    assert g.nx.in_degree(cats[-1]) == 7


def test_unet_has_4_skips_from_each_encoder_level_to_its_decoder_level():
    g = trace_zoo("unet")
    assert g.edge_counts()["skip"] == 4
    levels = fold(g, FoldSpec(depth=1))
    skips = sorted(levels.edges("skip"))
    assert skips == [("enc1", "dec1"), ("enc2", "dec2"), ("enc3", "dec3"), ("enc4", "dec4")]
    for u, v in skips:  # the skip carries the encoder map before it is cropped
        assert levels.nx.edges[u, v]["shape"] == levels.node(u)["out_shape"]


def test_segnet_has_5_index_edges_pairing_pools_and_unpools():
    g = trace_zoo("segnet")
    index = sorted(g.edges("index"))
    assert index == [(f"enc{i}.pool", f"dec{i}.unpool") for i in range(1, 6)]
    assert all(g.nx.edges[e]["dtype"] == "int64" for e in index)
    levels = fold(g, FoldSpec(depth=1))
    assert sorted(levels.edges("index")) == [(f"enc{i}", f"dec{i}") for i in range(1, 6)]


def test_mobilenet_v2_residuals_only_where_stride_1_and_channels_match():
    model = zoo.build("mobilenet_v2")
    expected = {f"features.{i}" for i, m in enumerate(model.features)
                if getattr(m, "use_res_connect", False)}
    g = trace_zoo("mobilenet_v2")
    blocks = {v.rsplit(".", 1)[0] for _, v in g.edges("residual")}
    assert blocks == expected and len(expected) == 10


def test_channel_shuffle_and_functional_ops_are_nodes():
    g = trace_zoo("shufflenet_v2_x1_0")
    assert len(g.nodes("channel_shuffle")) == 16
    assert g.nodes("chunk")
    se = trace_zoo("se_resnet50")
    assert len(se.nodes("mul")) == 16


def test_fold_round_trip_and_kinds(resnet34):
    spec = default_spec(resnet34)
    assert spec.depth == 2
    spec = FoldSpec(depth=2)  # the default also merges repeats and opens a first block
    folded = fold(resnet34, spec)
    assert len(folded) < len(resnet34)
    # unfolding every block gives back the original graph, kinds and shapes included
    unfolded = fold(resnet34, FoldSpec(spec.depth, expand=frozenset(resnet34.modules)))
    assert nx.utils.graphs_equal(unfolded.nx, resnet34.nx)
    # unfolding one block leaves the rest folded and keeps that block's residual
    one = fold(resnet34, FoldSpec(spec.depth, expand=frozenset({"layer2.0"})))
    # (its 9 layers show as 7 nodes and the still-folded projection shortcut)
    assert len(one) == len(folded) - 1 + 8
    assert one.node("layer2.0.downsample")["folded"]
    assert [e for e in one.edges("residual")] == [("layer2.0.downsample", "layer2.0.add")]
    # folded blocks remember the structure they hide
    assert folded.node("layer2.0")["motifs"] == {"residual": 1, "projection": 1}


def test_folded_edge_kinds_are_kept_between_blocks():
    g = trace_zoo("densenet121")
    layers = fold(g, FoldSpec(depth=3))  # dense layers folded, block structure visible
    assert layers.edge_counts()["concat"] > 0
    assert ("features.pool0", "features.denseblock1.denselayer3") in layers.edges("concat")
    blocks = fold(g, FoldSpec(depth=2))
    assert blocks.edge_counts()["concat"] == 0
    assert blocks.node("features.denseblock1")["motifs"]["concat"] == 21


def test_repeated_blocks_show_as_one_node():
    g = trace_zoo("resnet152")
    view = fold(g, FoldSpec(depth=2, repeats=True))
    node = view.node("layer3.1")
    assert node["count"] == 35 and node["repeat_of"][-1] == "layer3.35"
    assert sum(view.node(n)["params"] for n in view.nx) == 60_192_808


SHAPE_MODELS = ["resnet18", "googlenet", "densenet121", "unet_padded", "segnet",
                "shufflenet_v2_x0_5", "fcn8s", "inception_v3"]


@pytest.mark.parametrize("name", SHAPE_MODELS)
def test_edge_shapes_equal_a_real_forward_pass(name):
    model = zoo.build(name)
    size = {"inception_v3": 128, "unet_padded": 64}.get(name, 96)
    c = zoo.input_shape(name)[1]
    shape = (1, c, size, size)
    seen: dict[str, list] = {}

    def hook(module, args, output, path):
        tensors = [output] if isinstance(output, torch.Tensor) else [
            t for t in output if isinstance(t, torch.Tensor)]
        seen.setdefault(path, []).append([tuple(t.shape) for t in tensors])

    for path, m in model.named_modules():
        if path and not any(True for _ in m.children()):
            m.register_forward_hook(lambda mod, a, o, p=path: hook(mod, a, o, p))
    with torch.no_grad():
        model(torch.randn(shape))
    g = trace(model, shape, name=name)
    checked = 0
    for n in g.nodes():
        d = g.node(n)
        if d["kind"] != "module":
            continue
        call = int(n.rsplit(":", 1)[1]) if ":" in n.rsplit(".", 1)[-1] else 0
        assert d["out_shapes"] == seen[d["path"]][call], n
        checked += 1
    assert checked > 10
    for u, v, data in g.nx.edges(data=True):
        assert data["shape"] == g.node(u)["out_shapes"][data["src_index"]], (u, v)


def test_tracing_leaves_the_live_model_untouched():
    model = zoo.build("resnet18")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trace(model, (1, 3, 64, 64))
    after = model.state_dict()
    assert all(not v.is_meta and torch.equal(v, after[k]) for k, v in before.items())


class TupleOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.head_a = nn.Linear(8, 4)
        self.head_b = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        f = torch.relu(self.stem(x))
        return self.head_a(f.mean((2, 3))), self.head_b(f)


class Looped(nn.Module):
    """A data-independent Python loop reusing one module, plus a residual."""

    def __init__(self, steps: int = 3):
        super().__init__()
        self.steps = steps
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        for _ in range(self.steps):
            x = x + self.conv(x)
        return x


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        y = self.gate(x)
        if y.sum() > 0:  # needs real values: cannot be traced on the meta device
            return y
        return -y


def test_user_model_with_tuple_output():
    g = trace(TupleOut(), (2, 3, 16, 16))
    assert g.node("output.0")["out_shape"] == (2, 4)
    assert g.node("output.1")["out_shape"] == (2, 2, 16, 16)
    assert g.nodes("mean") and g.nodes("relu")


def test_user_model_with_a_loop_reuses_one_module():
    g = trace(Looped(), (1, 4, 8, 8))
    convs = [n for n in g.nodes() if g.node(n)["path"] == "conv"]
    assert convs == ["conv", "conv:1", "conv:2"]
    assert g.node("conv")["params"] > 0 and g.node("conv:1")["params"] == 0  # counted once
    assert g.edge_counts()["residual"] == 3


def test_untraceable_model_names_the_failing_module():
    message = r"cannot trace DataDependent .* in op gt in the forward of DataDependent: "
    with pytest.raises(TraceError, match=message + ".*depends on tensor values"):
        trace(DataDependent(), (1, 3, 8, 8))


class FixedHead(nn.Module):
    """A head sized for one input size only: 8×10×10 features at 12×12."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(800, 10)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


def test_a_layer_sized_for_another_input_says_what_it_takes_and_what_to_change():
    """Was: "RuntimeError in module fc (Linear): a and b must have same reduction dim, but
    got [1, 394272] X [800, 10]": torch's words for a matrix product, no hint to change
    the input size."""
    with pytest.raises(TraceError) as err:
        trace(FixedHead(), (1, 3, 224, 224), name="mine.py:FixedHead")
    text = str(err.value)
    assert "RuntimeError" not in text and "reduction dim" not in text
    assert "fc (Linear) takes 800 input features and gets 394,272" in text
    assert "input shape" in text
    with pytest.raises(TraceError) as err:
        trace(FixedHead(), (1, 1, 12, 12), name="mine.py:FixedHead")
    assert "conv (Conv2d) takes 3 input channels and gets 1" in str(err.value)
    assert trace(FixedHead(), (1, 3, 12, 12)).node("fc")["out_shape"] == (1, 10)


def test_layout_boxes_do_not_overlap():
    for name in ["googlenet", "resnet50", "unet"]:
        g = trace_zoo(name)
        view = fold(g, default_spec(g))
        for direction in ("TB", "LR"):
            lay = layout(view.nx, direction=direction)
            boxes = list(lay.boxes.values())
            assert set(lay.boxes) == set(view.nx)
            assert len(lay.edges) == view.nx.number_of_edges()
            for i, a in enumerate(boxes):
                for b in boxes[i + 1:]:
                    overlap_x = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
                    overlap_y = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
                    assert overlap_x <= 0.01 or overlap_y <= 0.01, (name, a.label, b.label)
            # every edge's ends on its boxes' borders: tests/test_diagrams.py, all models
            assert all(0 <= b.x and b.x + b.w <= lay.width + 0.01 for b in boxes)


def test_full_densenet201_lays_out_with_lanes():
    g = trace_zoo("densenet201")
    lay = layout(g.nx)
    assert len(lay.boxes) == 713 and len(lay.edges) == 2515


@pytest.mark.skipif(not __import__("shutil").which("dot"), reason="graphviz dot not installed")
def test_dot_engine_gives_boxes_and_polylines():
    g = trace_zoo("resnet18")
    view = fold(g, default_spec(g))
    lay = layout(view.nx, engine="dot")
    assert lay.engine == "dot" and len(lay.boxes) == len(view)
    assert all(len(e.points) >= 2 for e in lay.edges)


def test_cli_graph_exports(tmp_path, capsys):
    for ext in ("json", "dot", "svg", "png"):
        assert main(["graph", "unet", "--depth", "1", "-o", str(tmp_path / f"u.{ext}")]) == 0
    data = json.loads((tmp_path / "u.json").read_text())
    assert data["model"] == "unet" and data["input_shape"] == [1, 1, 572, 572]
    assert {"id", "path", "op", "out_shape", "folded", "x", "y", "w", "h"} <= set(data["nodes"][0])
    assert {"source", "target", "kind", "shape", "points"} <= set(data["edges"][0])
    assert sum(e["kind"] == "skip" for e in data["edges"]) == 4
    assert "digraph" in (tmp_path / "u.dot").read_text()
    svg = (tmp_path / "u.svg").read_text()
    assert "<svg" in svg and "enc1" in svg and 'class="edge skip"' in svg
    from PIL import Image

    with Image.open(tmp_path / "u.png") as im:
        assert im.width > 100 and im.height > 100
        assert len(set(im.convert("RGB").get_flattened_data())) > 10


def test_cli_graph_bad_input(tmp_path, capsys):
    assert main(["graph", "resnet18", "--expand", "layer9", "-o", str(tmp_path / "x.svg")]) == 2
    assert "no block 'layer9'" in capsys.readouterr().err
    assert main(["graph", "vgg16", "--input", "1,3,8,8", "-o", str(tmp_path / "x.svg")]) == 2
    assert "cannot trace vgg16 at input 1x3x8x8" in capsys.readouterr().err
    assert main(["graph", "resnet18", "-o", str(tmp_path / "x.pdf")]) == 2
