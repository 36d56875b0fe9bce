"""The structural diff read against the comparisons the lessons make, each from the
actual graphs of the zoo."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest

from explorer.graph import FoldSpec, fold, trace_zoo
from explorer.graph.diff import STATUSES, diff, node_changes


@cache
def graph(name: str, **options):
    return trace_zoo(name, **options)


def shortcut(name: str, letter: str):
    return trace_zoo(name, shortcut=letter)


def statuses(d, side: str) -> Counter:
    return Counter(s for s in d.node_status(side).values())


def test_resnet34_against_plain34_keeps_every_convolution_and_loses_the_shortcuts():
    a, b = graph("resnet34"), graph("resnet34_plain")
    d = diff(a, b)
    convs_b = b.nodes("Conv2d")
    assert all(d.b_to_a.get(n) == n for n in convs_b)  # every plain conv has its match
    only_a = [x.a for x in d.nodes if x.status == "only_a"]
    projections = [n for n in only_a if ".downsample." in n]
    assert sorted(projections) == [f"layer{s}.0.downsample.{i}" for s in (2, 3, 4)
                                   for i in (0, 1)]  # 3 projections: conv + BN each
    assert sorted(set(only_a) - set(projections)) == sorted(a.nodes("add"))
    assert len(a.nodes("add")) == 16
    residual_only_a = [e for e in d.edges if e.status == "only_a" and e.kind == "residual"]
    assert len(residual_only_a) == 16 == len(a.edges("residual"))
    assert not [x for x in d.nodes if x.status in ("only_b", "changed")]
    # plain's BN feeds its ReLU directly, where ResNet goes through the sum
    assert {e.b[0].rsplit(".", 1)[-1] for e in d.edges if e.status == "only_b"} == {"bn2"}
    # and the counts people read say so: no layer only in plain, but its own connections
    only_b_edges = sum(e.status == "only_b" for e in d.edges)
    assert only_b_edges == 16
    assert d.tally("only_b") == f"0 layers, {only_b_edges} connections"


def test_shortcut_a_against_b_differs_in_exactly_the_three_projections():
    d = diff(shortcut("resnet34", "A"), shortcut("resnet34", "B"))
    different = [x for x in d.nodes if x.status != "same"]
    stages = {(x.a or x.b).split(".")[0] for x in different}
    assert stages == {"layer2", "layer3", "layer4"}
    assert all(".0.downsample" in (x.a or x.b) for x in different)
    only_b = sorted(x.b for x in different if x.status == "only_b")
    assert only_b == [f"layer{s}.0.downsample.{i}" for s in (2, 3, 4) for i in (0, 1)]
    # folded to blocks: the three blocks with a projection are the only changes
    fa, fb = (fold(g, FoldSpec(depth=2)) for g in (shortcut("resnet34", "A"),
                                                   shortcut("resnet34", "B")))
    changed = [x for x in diff(fa, fb).nodes if x.status != "same"]
    assert [x.a for x in changed] == ["layer2.0", "layer3.0", "layer4.0"]
    assert all(x.status == "changed" and x.changes["parameters"][0] < x.changes["parameters"][1]
               for x in changed)


def test_resnet50_v1_moves_the_stride_from_the_3x3_to_the_1x1_and_nothing_else():
    d = diff(graph("resnet50"), graph("resnet50_v1"))
    assert statuses(d, "a")["only_a"] == 0 and statuses(d, "b")["only_b"] == 0
    changed = {x.a: x.changes for x in d.nodes if x.status == "changed"}
    expected = {f"layer{s}.0.{n}" for s in (2, 3, 4) for n in ("conv1", "bn1", "relu", "conv2")}
    assert set(changed) == expected
    for s in (2, 3, 4):
        assert changed[f"layer{s}.0.conv1"]["stride"] == ([1, 1], [2, 2])
        assert changed[f"layer{s}.0.conv2"]["stride"] == ([2, 2], [1, 1])
        assert set(changed[f"layer{s}.0.conv2"]) == {"stride"}  # same output, same weights
        # between the two, only the feature map's size differs
        assert set(changed[f"layer{s}.0.bn1"]) == {"output_shape"}
    assert all(x.a == x.b for x in d.nodes)  # matched name for name


def test_vgg19_has_three_more_convolutions_one_in_each_of_stages_3_to_5():
    a, b = graph("vgg16"), graph("vgg19")
    d = diff(a, b)
    assert statuses(d, "a")["only_a"] == 0
    extra = [x.b for x in d.nodes if x.status == "only_b"]
    extra_convs = [n for n in extra if b.node(n)["op"] == "Conv2d"]
    assert len(extra_convs) == 3 and len(extra) == 6  # each with its ReLU
    widths = [b.node(n)["out_shape"][1:] for n in extra_convs]
    assert widths == [(256, 56, 56), (512, 28, 28), (512, 14, 14)]  # stages 3, 4, 5
    assert not [x for x in d.nodes if x.status == "changed"]
    assert sum(1 for n in a.nodes("Conv2d") if n in d.a_to_b) == 13  # every VGG-16 conv


def test_densenet169_has_longer_dense_blocks_3_and_4():
    a, b = graph("densenet121"), graph("densenet169")
    d = diff(fold(a, FoldSpec(depth=3)), fold(b, FoldSpec(depth=3)))
    extra = [x.b for x in d.nodes if x.status == "only_b"]
    assert extra == ([f"features.denseblock3.denselayer{i}" for i in range(25, 33)]
                     + [f"features.denseblock4.denselayer{i}" for i in range(17, 33)])
    assert statuses(d, "a")["only_a"] == 0
    same_blocks = {x.a.split(".")[1] for x in d.nodes if x.status == "same" and x.a.count(".") > 1}
    assert {"denseblock1", "denseblock2", "denseblock3", "transition1"} <= same_blocks
    # blocks 1-3's first layers are identical; block 4 gets wider inputs from block 3
    deltas = {x.a: x for x in d.blocks}
    assert deltas["features.denseblock1.denselayer1"].params_delta == 0
    assert deltas["features.denseblock4.denselayer1"].params_delta > 0
    assert deltas["features"].params_delta == (
        (14_149_480 - 1_665_000) - (7_978_856 - 1_025_000))  # all but the classifier


@pytest.mark.parametrize("name", ["googlenet", "resnet18", "unet", "shufflenet_v2_x0_5"])
def test_a_model_against_itself_is_all_same(name):
    g = graph(name)
    for view in (g, fold(g, FoldSpec(depth=2))):
        d = diff(view, view)
        totals = d.totals()
        assert totals["nodes"]["same"] == len(view) and totals["edges"]["same"] == (
            view.nx.number_of_edges())
        assert sum(totals["nodes"][s] for s in STATUSES) == len(view)


def test_mobilenet_v1_against_v2_block_for_block():
    """What a person should see: at the level of blocks, each of v1's 13 depthwise-
    separable blocks beside v2's inverted residual block of the same place (changed:
    operator, width, parameters), v2's five more blocks and its last 1x1 conv only on
    the right; fully expanded, v2's residual shortcuts only on the right and each v1
    depthwise conv beside a v2 depthwise conv (same kernel, groups = channels)."""
    a, b = graph("mobilenet_v1"), graph("mobilenet_v2")
    d = diff(fold(a, FoldSpec(depth=2)), fold(b, FoldSpec(depth=2)))
    pairs = {x.a: x for x in d.nodes if x.a and x.a.startswith("features.")}
    for i in range(1, 14):
        x = pairs[f"features.{i}"]
        assert x.status == "changed" and x.changes["operator"] == ("DepthwiseSeparable",
                                                                   "InvertedResidual")
    assert [x.b for x in d.nodes if x.status == "only_b" and x.b.startswith("features")] == [
        f"features.{i}" for i in range(14, 19)]
    full = diff(a, b)
    assert [e for e in full.edges if e.kind == "residual"] == [
        e for e in full.edges if e.kind == "residual" and e.status == "only_b"]
    assert len([e for e in full.edges if e.kind == "residual"]) == 10
    dw_pairs = [(x.a, x.b) for x in full.nodes if x.a and x.b and "depthwise.0" in x.a]
    assert len(dw_pairs) >= 10
    for x, y in dw_pairs:
        da, db = a.node(x)["attrs"], b.node(y)["attrs"]
        assert db["groups"] == db["in_channels"] > 1 and da["kernel_size"] == db["kernel_size"]


def test_unet_against_segnet_level_for_level():
    """What a person should see: the encoder levels side by side (each pool beside the
    pool that halves the map to the same scale, although U-Net names it one level
    later), U-Net's up-convolutions beside SegNet's unpooling (changed operator), U-Net's
    crops, concatenations and skip links only on the left, SegNet's index links only on
    the right."""
    a, b = graph("unet"), graph("segnet")
    d = diff(fold(a, FoldSpec(depth=2)), fold(b, FoldSpec(depth=2)))
    pools = [(x.a, x.b) for x in d.nodes if x.a and x.b and x.a.endswith(".pool")]
    assert pools == [(f"enc{i + 1}.pool", f"enc{i}.pool") for i in range(1, 5)]
    ups = [(x.a, x.b, x.changes["operator"]) for x in d.nodes if x.a and x.a.endswith(".up")]
    assert ups == [(f"dec{i}.up", f"dec{i}.unpool", ("ConvTranspose2d", "MaxUnpool2d"))
                   for i in (4, 3, 2, 1)]
    only_a = [x.a for x in d.nodes if x.status == "only_a"]
    assert {n.split(".")[-1] for n in only_a if n.startswith("dec")} == {"crop", "cat"}
    kinds = Counter((e.status, e.kind) for e in d.edges if e.kind in ("skip", "index"))
    assert kinds == {("only_a", "skip"): 4, ("only_b", "index"): 5}


def test_node_changes_name_what_differs():
    conv = {"op": "Conv2d", "params": 10, "out_shape": (1, 8, 4, 4),
            "attrs": {"kernel_size": (3, 3), "stride": (1, 1), "groups": 1,
                      "in_channels": 4, "out_channels": 8}}
    dw = {**conv, "attrs": {**conv["attrs"], "groups": 4, "kernel_size": (5, 5)}, "params": 3}
    assert node_changes(conv, dw) == {"kernel": ([3, 3], [5, 5]), "groups": (1, 4),
                                      "parameters": (10, 3)}
    assert node_changes(conv, conv) == {}


def test_json_lists_nodes_and_edges_with_both_sides():
    a = fold(graph("resnet18"), FoldSpec(depth=2))
    b = fold(graph("resnet18_plain"), FoldSpec(depth=2))
    out = diff(a, b).as_dict()
    assert set(out) >= {"nodes", "edges", "totals"}
    assert all(set(n) >= {"a", "b", "status", "changes"} for n in out["nodes"])
    assert all(set(e) >= {"a", "b", "status", "changes", "kind"} for e in out["edges"])
    assert out["totals"]["nodes"]["changed"] == 8  # every block lost its shortcut
    changed = [n for n in out["nodes"] if n["status"] == "changed"]
    assert all(n["a"] == n["b"] and "operator" not in n["changes"] for n in changed)
